"""No overspend under any concurrency: real threads, separate connections, PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from quotas.models import QuotaAccount, QuotaEntry
from shops.locks import idempotency_key_try_lock
from shops.models import Sale
from shops.pos import checkout
from shops.pos.errors import PurchaseNotAllowed
from shops.pos.idempotency import RequestInProgress
from shops.pos.returns import sale_return, sale_void
from tests.support import basket, json_basket, product, terminal

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Start every job at the same instant, each on its own thread and connection; return what
    each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a commit hung"
    return results


@pytest.mark.parametrize("account", ["first purchase of the year", "account already open"])
def test_thirty_commits_of_ten_thousand_for_one_shopper(account: str) -> None:
    product("WATCH-10K", "watches", "10000.00")
    terminals = [
        terminal(store)[0]
        for store in ("SYA-HTB", "SYA-AIR", "HAK-IDFC", "HAK-T1", "QHI-BOAO", "WNG-WFJ")
    ]
    if account == "account already open":  # a sale, voided: the account exists, used is 0
        opened = checkout.sale_commit(
            terminal=terminals[0],
            idempotency_key="open",
            fingerprint="open",
            basket=basket(("WATCH-10K", 1)),
            now=timezone.now(),
        )
        sale_void(terminal=terminals[0], sale_id=opened.sale.pk, now=timezone.now())

    def sale(n: int) -> Callable[[], Any]:
        return lambda: checkout.sale_commit(
            terminal=terminals[n % len(terminals)],
            idempotency_key=f"k{n}",
            fingerprint=f"f{n}",
            basket=basket(("WATCH-10K", 1)),
            now=timezone.now(),
        )

    results = run_together([sale(n) for n in range(30)])

    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"CommitResult": 10, "PurchaseNotAllowed": 20}, results
    refusals = [r for r in results if isinstance(r, PurchaseNotAllowed)]
    assert all(
        [v.code for v in r.verdict.violations] == ["annual_quota_exceeded"] for r in refusals
    )
    account = QuotaAccount.objects.get()
    assert account.used == Decimal("100000.00")
    assert QuotaEntry.objects.aggregate(total=Sum("amount"))["total"] == Decimal("100000.00")
    completed = Sale.objects.filter(status="completed")
    assert completed.count() == 10
    assert completed.aggregate(total=Sum("total"))["total"] == Decimal("100000.00")
    # The terminals' stores belong to three operators: one quota for the island.
    assert {t.store.operator.code for t in terminals} == {"CDFG", "HNDF", "WFJ"}
    assert {s.store.operator.code for s in completed.select_related("store__operator")} <= {
        "CDFG", "HNDF", "WFJ",
    }  # fmt: skip


def test_two_operators_terminals_share_one_shoppers_quota() -> None:
    """Two terminals of two operators, one shopper, 20 threads: 10 sales of 10,000, no more,
    whichever operator's terminal got there first; each terminal's quote then shows the
    shopper's whole ``used``, never where it was spent."""
    product("WATCH-10K", "watches", "10000.00")
    cdfg, cdfg_key = terminal("SYA-HTB")
    hndf, hndf_key = terminal("HAK-T1")
    assert (cdfg.store.operator.code, hndf.store.operator.code) == ("CDFG", "HNDF")

    def sale(n: int) -> Callable[[], Any]:
        return lambda: checkout.sale_commit(
            terminal=(cdfg, hndf)[n % 2],
            idempotency_key=f"k{n}",
            fingerprint=f"f{n}",
            basket=basket(("WATCH-10K", 1)),
            now=timezone.now(),
        )

    results = run_together([sale(n) for n in range(20)])
    assert Counter(type(r).__name__ for r in results) == {
        "CommitResult": 10, "PurchaseNotAllowed": 10,
    }  # fmt: skip
    assert QuotaAccount.objects.get().used == Decimal("100000.00")
    by_operator = Counter(
        s.store.operator.code for s in Sale.objects.select_related("store__operator")
    )
    assert sum(by_operator.values()) == 10
    for key in (cdfg_key, hndf_key):
        quote = Client().post(
            "/api/v1/quotes",
            json_basket(basket(("WATCH-10K", 1))),
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        )
        assert quote.status_code == 200, quote.content
        assert Decimal(quote.json()["quota"]["used"]) == Decimal("100000.00")
        assert "store" not in json.dumps(quote.json()["quota"])


def test_one_idempotency_key_from_ten_threads_makes_one_sale() -> None:
    product("LIP", "cosmetics", "320.00")
    term, _ = terminal()

    def retry() -> checkout.CommitResult:
        return checkout.sale_commit(
            terminal=term,
            idempotency_key="same-key",
            fingerprint="same-request",
            basket=basket(("LIP", 2)),
            now=timezone.now(),
        )

    results = run_together([retry for _ in range(10)])

    assert all(isinstance(r, checkout.CommitResult | RequestInProgress) for r in results), results
    answers = [r for r in results if isinstance(r, checkout.CommitResult)]
    assert sum(not r.replayed for r in answers) == 1
    assert len({r.sale.pk for r in answers}) == 1
    assert all(r.body == answers[0].body for r in answers)
    assert Sale.objects.count() == 1
    assert QuotaAccount.objects.get().used == Decimal("640.00")
    # Once the first has finished, every retry gets its answer.
    assert retry().replayed


def test_returns_and_sales_of_one_shopper_interleave_safely() -> None:
    product("WATCH-10K", "watches", "10000.00")
    term, _ = terminal()
    first = [
        checkout.sale_commit(
            terminal=term,
            idempotency_key=f"s{n}",
            fingerprint=f"s{n}",
            basket=basket(("WATCH-10K", 1)),
            now=timezone.now(),
        ).sale
        for n in range(10)
    ]

    def give_back(sale: Sale) -> Callable[[], Any]:
        line = sale.lines.get()
        return lambda: sale_return(
            terminal=term,
            sale_id=sale.pk,
            idempotency_key=f"r{sale.pk}",
            fingerprint="r",
            lines=[(line.pk, 1)],
            reason="",
            now=timezone.now(),
        )

    def buy(n: int) -> Callable[[], Any]:
        return lambda: checkout.sale_commit(
            terminal=term,
            idempotency_key=f"b{n}",
            fingerprint=f"b{n}",
            basket=basket(("WATCH-10K", 1)),
            now=timezone.now(),
        )

    results = run_together([give_back(s) for s in first[:5]] + [buy(n) for n in range(10)])

    assert not [
        r for r in results if isinstance(r, Exception) and not isinstance(r, PurchaseNotAllowed)
    ], results
    account = QuotaAccount.objects.get()
    ledger = QuotaEntry.objects.aggregate(total=Sum("amount"))["total"]
    assert account.used == ledger <= Decimal("100000.00")
    completed = Sale.objects.filter(status="completed")
    net = sum((s.total - s.returned_amount for s in completed), Decimal("0.00"))
    assert net == account.used


def test_a_request_still_in_flight_is_409() -> None:
    """While the first request with a key holds its advisory lock, a retry is told to wait."""
    from django.test import Client

    from tests.support import json_basket

    product("LIP", "cosmetics", "320.00")
    term, key = terminal()
    holding, release = threading.Event(), threading.Event()

    def first_request_in_flight() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                assert idempotency_key_try_lock(terminal_id=term.pk, key="slow-key")
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=first_request_in_flight)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        response = Client().post(
            "/api/v1/sales",
            json.dumps(json_basket(basket(("LIP", 1)))),
            content_type="application/json",
            headers={"authorization": f"Bearer {key}", "idempotency-key": "slow-key"},
        )
    finally:
        release.set()
        holder.join(timeout=30)
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "request_in_progress"
    assert Sale.objects.count() == 0
