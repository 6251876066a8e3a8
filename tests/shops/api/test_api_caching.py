"""No cache keeps an answer that carries sales or figures: ``Cache-Control: no-store`` on every
API answer but the public policy's.

A till's answers (sales, returns, quotes with a shopper's quota, departures, its store's
catalogue) and the staff's statistics are for the one client that asked; a browser's or a
proxy's cache holding them would show them to the next person at that screen or behind that
proxy. The policy in force is the same for everyone and may be cached.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from dutyfree.urls import api_v1
from tests.support import basket, json_basket, product, terminal

pytestmark = pytest.mark.django_db

NO_STORE = "no-store"
PUBLIC = {"policy-in-force"}


@pytest.fixture
def till(client: Client):
    product("NS-LIP", "cosmetics", "320.00")
    _, key = terminal()
    auth = {"authorization": f"Bearer {key}"}

    def call(method: str, url: str, body: Any = None, idem: str = "") -> Any:
        if method == "get":
            return client.get(url, body or {}, headers=auth)
        return client.post(
            url,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers={**auth, "idempotency-key": idem},
        )

    return call


def test_a_tills_answers_are_not_stored(till) -> None:
    body = json_basket(basket(("NS-LIP", 2)))
    answers = {"quote": till("post", "/api/v1/quotes", body)}
    answers["sale made"] = sale = till("post", "/api/v1/sales", body, "sale-1")
    assert sale.status_code == 201, sale.content
    answers["sale, replayed"] = till("post", "/api/v1/sales", body, "sale-1")
    sale_id, line_id = sale.json()["id"], sale.json()["lines"][0]["id"]
    answers["sale read"] = till("get", f"/api/v1/sales/{sale_id}")
    answers["sales of the day"] = till(
        "get", "/api/v1/sales", {"date": timezone.localdate().isoformat()}
    )
    answers["return"] = till(
        "post",
        f"/api/v1/sales/{sale_id}/returns",
        {"lines": [{"line": line_id, "quantity": 1}]},
        "return-1",
    )
    answers["void"] = till("post", f"/api/v1/sales/{sale_id}/void", None, "void-1")
    answers["departure"] = till(
        "post",
        "/api/v1/departures",
        {
            "document": body["shopper"]["document"],
            "carrier_ref": "HU7181",
            "departed_at": timezone.now().isoformat(),
        },
        "departure-1",
    )
    answers["catalogue"] = till("get", "/api/v1/products", {"sku": "NS-LIP"})

    assert {name: answer.status_code for name, answer in answers.items()} == {
        "quote": 200,
        "sale made": 201,
        "sale, replayed": 201,
        "sale read": 200,
        "sales of the day": 200,
        "return": 201,
        "void": 200,
        "departure": 201,
        "catalogue": 200,
    }
    cache_control = {name: answer["Cache-Control"] for name, answer in answers.items()}
    assert cache_control == dict.fromkeys(answers, NO_STORE)


def test_the_statistics_are_not_stored(client: Client, django_user_model: Any) -> None:
    django_user_model.objects.create_user("analyst", is_staff=True)
    out = io.StringIO()
    call_command("create_staff_token", "analyst", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]

    answer = client.get(
        "/api/v1/stats/sales",
        {"start": "2026-01-01", "end": "2026-01-31"},
        headers={"authorization": f"Token {token}"},
    )

    assert answer.status_code == 200, answer.content
    assert answer["Cache-Control"] == NO_STORE


def test_every_operation_but_the_policy_says_no_store_even_when_it_refuses(
    client: Client,
) -> None:
    """A route added later cannot forget it: every route of /api/v1/ is asked, without
    credentials or body, and whatever it answers (401, 400, 405) is not to be stored."""
    private = [
        route for route in api_v1 if isinstance(route, URLPattern) and route.name not in PUBLIC
    ]
    assert len(private) == len(api_v1) - len(PUBLIC)
    found = {}
    for route in private:
        kwargs = {name: 1 for name in ("sale_id", "preview_id") if name in str(route.pattern)}
        url = reverse(f"api:{route.name}", kwargs=kwargs)
        for method in ("get", "post"):
            found[f"{method.upper()} {url}"] = getattr(client, method)(url).get("Cache-Control")
    assert found == dict.fromkeys(found, NO_STORE)


def test_the_policy_in_force_may_be_cached(client: Client) -> None:
    answer = client.get("/api/v1/policy")
    assert answer.status_code == 200
    assert NO_STORE not in answer.get("Cache-Control", "")
