"""Money in the ledger stays exact on every database: SQLite adds decimals in SQL as binary
floats, so the balance and a sale's returned amount are written as values computed in Python
(under the row locks), never as ``column + amount`` (found in review, session 3)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from quotas.models import QuotaAccount
from shops import checkout, services
from tests.shops.helpers import basket, product, terminal

pytestmark = pytest.mark.django_db


def sell(term, sku, key):
    return checkout.sale_commit(
        terminal=term,
        idempotency_key=key,
        fingerprint=key,
        basket=basket((sku, 1)),
        now=timezone.now(),
    ).sale


def test_voiding_every_sale_gives_the_whole_quota_back() -> None:
    product("A", "watches", "10205.92")
    product("B", "watches", "13818.82")
    term, _ = terminal()
    a, b = sell(term, "A", "k1"), sell(term, "B", "k2")
    services.sale_void(terminal=term, sale_id=a.pk, now=timezone.now())
    services.sale_void(terminal=term, sale_id=b.pk, now=timezone.now())  # QuotaConflict on SQLite
    assert QuotaAccount.objects.get().used == Decimal("0.00")


def test_a_basket_that_fills_the_quota_to_the_fen_is_sold() -> None:
    product("A", "watches", "48622.55")
    product("B", "watches", "47773.43")
    product("C", "watches", "3604.02")
    term, _ = terminal()
    sell(term, "A", "k1")
    sell(term, "B", "k2")
    sell(term, "C", "k3")  # 100,000.00 exactly: allowed by the rules, QuotaConflict on SQLite
    assert QuotaAccount.objects.get().used == Decimal("100000.00")


def test_returning_a_sale_line_by_line_is_not_a_500(client) -> None:
    """Sale.returned_amount = F("returned_amount") + amount is float arithmetic on SQLite too:
    0 + 635.31 + 28161.04 = 28796.350000000002 > total 28796.35, so the CHECK
    sale_amounts_consistent fails with an uncaught IntegrityError: HTTP 500."""
    import json

    from tests.shops.helpers import json_basket

    product("A", "watches", "635.31")
    product("B", "watches", "28161.04")
    _, key = terminal()
    auth = {"authorization": f"Bearer {key}"}
    sale = client.post(
        "/api/v1/sales",
        json.dumps(json_basket(basket(("A", 1), ("B", 1)))),
        content_type="application/json",
        headers={**auth, "idempotency-key": "s"},
    ).json()
    first, second = (line["id"] for line in sale["lines"])
    client.raise_request_exception = False
    r1 = client.post(
        f"/api/v1/sales/{sale['id']}/returns",
        json.dumps({"lines": [{"line": first, "quantity": 1}]}),
        content_type="application/json",
        headers={**auth, "idempotency-key": "r1"},
    )
    assert r1.status_code == 201
    r2 = client.post(
        f"/api/v1/sales/{sale['id']}/returns",
        json.dumps({"lines": [{"line": second, "quantity": 1}]}),
        content_type="application/json",
        headers={**auth, "idempotency-key": "r2"},
    )
    assert r2.status_code == 201, (r2.status_code, r2.content[:200])
