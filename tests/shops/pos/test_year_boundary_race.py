"""Per-trip limits hold across local New Year: two sales for one departure either side of
midnight on 31 December lock different year accounts, so a sale also locks the shopper row (in
the same upsert as its account; else neither waits for the other, neither counts the other's
sale and both pass). Deterministic: the first sale is held between its recount and its commit
while the second one is tried."""

import threading

import pytest
from django.db import connection

from shops.pos import checkout
from shops.pos.errors import PurchaseNotAllowed
from tests.conftest import local
from tests.support import basket, product, terminal, trip

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_sales_for_one_trip_across_new_year(monkeypatch) -> None:
    product("LIP", "cosmetics", "320.00")
    t1, _ = terminal("SYA-HTB")
    t2, _ = terminal("HAK-IDFC")
    product("WATCH", "watches", "1000.00")
    on = trip(departs_at=local(2026, 1, 1, 10, 0))
    # The shopper and the trip exist already (an earlier purchase that evening).
    checkout.sale_commit(
        terminal=t1,
        idempotency_key="w",
        fingerprint="w",
        basket=basket(("WATCH", 1), on=on),
        now=local(2025, 12, 31, 20, 0),
    )
    recounted, release = threading.Event(), threading.Event()
    real_write = checkout.write_sale

    def slow_write(**kwargs):
        if kwargs["sale_row"]["terminal"] == t1.pk:
            recounted.set()
            release.wait(10)
        return real_write(**kwargs)

    monkeypatch.setattr(checkout, "write_sale", slow_write)
    results = {}

    def first() -> None:
        try:
            results["first"] = checkout.sale_commit(
                terminal=t1,
                idempotency_key="a",
                fingerprint="a",
                basket=basket(("LIP", 30), on=on),
                now=local(2025, 12, 31, 23, 59, 59),
            )
        except Exception as exc:
            results["first"] = exc
        finally:
            connection.close()

    def second() -> None:
        try:
            checkout.sale_commit(
                terminal=t2,
                idempotency_key="b",
                fingerprint="b",
                basket=basket(("LIP", 30), on=on),
                now=local(2026, 1, 1, 0, 0, 1),
            )
            results["second"] = "sold"
        except PurchaseNotAllowed:
            results["second"] = "refused"
        except Exception as exc:
            results["second"] = repr(exc)
        finally:
            connection.close()

    one, two = threading.Thread(target=first), threading.Thread(target=second)
    one.start()
    assert recounted.wait(10)  # the first sale has recounted the trip and not yet committed
    two.start()
    two.join(1.0)
    waited = two.is_alive()  # the second waits for the shopper row the first holds
    release.set()
    one.join(20)
    two.join(20)
    assert not isinstance(results["first"], Exception), results["first"]
    assert waited, "the second sale did not wait for the first"
    # The second, judged after the first committed, is refused: the trip may hold 30 pieces.
    assert results["second"] == "refused", f"second sale {results['second']}: 60 pieces"
