"""A training terminal (``Terminal.training``): a till in training sells, returns, voids, hands
over and records departures through the same API, judged as any till is, and nothing it does
touches a shopper's quota, the rollups and figures, the books or the event feed."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quotas.models import Ban, QuotaAccount, QuotaEntry, Shopper, Trip
from quotas.selectors import policy_in_force_cached
from quotas.services import departure_record
from shops.models import (
    DirtyDay,
    Event,
    IdempotencyRecord,
    Sale,
    SaleLine,
    Terminal,
)
from shops.pos import checkout
from shops.pos.errors import PurchaseNotAllowed
from tests.conftest import local
from tests.support import (
    basket,
    commit,
    json_basket,
    shopper,
    terminal,
    trip,
    unique_key,
    written,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]

NUMBER = "460100199001011230"  # the default shopper's
SOLD = local(2026, 3, 1, 10, 0)  # an immediate pickup long past its 30-day deadline
RUN = local(2026, 4, 1, 2, 30)  # the first daily run after it


@pytest.fixture
def till() -> Terminal:
    return terminal("SYA-HTB")[0]


@pytest.fixture
def trainee() -> Terminal:
    return terminal("SYA-HTB", training=True)[0]


def untouched() -> dict[str, Any]:
    """What no action of a training terminal may change: the accounts' balances and limits,
    the ledger, the trips, the bans, the rollups' marks and the feed's outbox."""
    return {
        "accounts": sorted(QuotaAccount.objects.values_list("id", "used", "limit")),
        "entries": QuotaEntry.objects.count(),
        "trips": sorted(Trip.objects.values_list("id", "departed_at")),
        "bans": sorted(Ban.objects.values_list("id", "lifted_at")),
        "spans": sorted(Shopper.objects.values_list("id", "banned_from", "banned_until")),
        "dirty": DirtyDay.objects.count(),
        "events": Event.objects.count(),
    }


def codes(excinfo: pytest.ExceptionInfo[PurchaseNotAllowed]) -> list[str]:
    return [violation.code for violation in excinfo.value.verdict.violations]


class Api:
    """A terminal's requests, answered as the till reads them."""

    def __init__(self, client: Client, key: str) -> None:
        self.client, self.key = client, key

    def post(self, url: str, body: Any = None, *, idem: str | None = None) -> Any:
        return self.client.post(
            url,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers={
                "authorization": f"Bearer {self.key}",
                "idempotency-key": idem or unique_key("training"),
                "accept-language": "en",
            },
        )

    def get(self, url: str, **query: str) -> Any:
        return self.client.get(url, query, headers={"authorization": f"Bearer {self.key}"})


@pytest.fixture
def apis(client: Client) -> tuple[Api, Api]:
    """(a real till, a training till) of SYA-HTB, through the HTTP API."""
    real = Api(client, terminal("SYA-HTB")[1])
    training = Api(client, terminal("SYA-HTB", training=True)[1])
    return real, training


# --- The sale ---------------------------------------------------------------------------------
class TestTheSale:
    def test_it_is_written_with_its_lines_and_record_and_spends_nothing(
        self, till: Terminal, trainee: Terminal
    ) -> None:
        commit(till, basket(("LIP", 2)))  # the shopper has spent 640.00
        before = untouched()

        result = commit(trainee, basket(("WINE750", 1), ("LIP", 1)), key="practice")

        sale = Sale.objects.get(pk=result.sale_id)
        assert (sale.training, sale.trip_id, sale.total) == (True, None, Decimal("1520.00"))
        assert sale.quota_used_after == Decimal("640.00")  # the balance before, unchanged
        assert SaleLine.objects.filter(sale=sale).count() == 2
        assert IdempotencyRecord.objects.filter(terminal=trainee, key="practice").exists()
        assert result.body["training"] is True
        assert result.body["quota"]["used"] == "640.00"
        assert untouched() == before

    def test_a_shopper_first_seen_in_training_has_an_account_with_nothing_spent(
        self, trainee: Terminal
    ) -> None:
        commit(trainee, basket(("LIP", 1)))

        assert list(QuotaAccount.objects.values_list("used", flat=True)) == [Decimal("0.00")]
        assert (QuotaEntry.objects.count(), Trip.objects.count()) == (0, 0)
        assert (DirtyDay.objects.count(), Event.objects.count()) == (0, 0)

    def test_its_replay_is_the_first_answer_byte_for_byte(self, apis: tuple[Api, Api]) -> None:
        _, training = apis
        body = json_basket(basket(("LIP", 2)))

        first = training.post("/api/v1/sales", body, idem="once")
        again = training.post("/api/v1/sales", body, idem="once")

        assert first.status_code == again.status_code == 201
        assert "Idempotent-Replayed" not in first
        assert again["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        assert first.json()["training"] is True
        assert Sale.objects.count() == 1

    def test_a_real_sale_says_it_is_not_training(self, apis: tuple[Api, Api]) -> None:
        real, _ = apis
        sold = real.post("/api/v1/sales", json_basket(basket(("LIP", 1))))
        assert sold.status_code == 201
        assert sold.json()["training"] is False
        detail = real.get(f"/api/v1/sales/{sold.json()['id']}").json()
        assert detail["training"] is False
        assert detail["customs"]["status"] == "not_configured"

    def test_it_is_judged_with_what_the_shopper_already_holds(
        self, till: Terminal, trainee: Terminal
    ) -> None:
        commit(till, basket(("LIP", 25)))  # cosmetics: 30 pieces a trip
        before = written()

        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(trainee, basket(("LIP", 10)))

        quoted = checkout.sale_quote(basket=basket(("LIP", 10)), at=timezone.now())
        assert codes(excinfo) == [v.code for v in quoted.verdict.violations]
        assert codes(excinfo) == ["per_trip_limit_exceeded"]
        assert written() == before

    def test_a_refusal_is_the_real_till_s_422_and_writes_nothing(
        self, apis: tuple[Api, Api], till: Terminal
    ) -> None:
        real, training = apis
        commit(till, basket(("PHONE", 4)))  # phones: four a trip
        before = written()
        over = json_basket(basket(("PHONE", 1)))

        refused = training.post("/api/v1/sales", over)

        assert refused.status_code == 422
        assert refused.json() == real.post("/api/v1/sales", over).json()
        assert written() == before

    def test_a_departed_trip_is_refused_as_at_a_real_till(
        self, till: Terminal, trainee: Terminal
    ) -> None:
        # A watch has no per-trip limit: a real till's sale finds the departed trip at its write;
        # a training sale, which makes no trip, reads it before judging. The same refusal.
        departs = timezone.now() + timedelta(hours=5)
        commit(till, basket(("WATCH", 1), on=trip(departs_at=departs)))
        who = shopper()
        departure_record(
            doc_type=who.doc_type,
            country=who.country,
            number=who.number,
            carrier_ref="HU7181",
            departed_at=departs,
            now=departs,
        )
        before = written()

        with pytest.raises(PurchaseNotAllowed) as training_refused:
            commit(trainee, basket(("WATCH", 1), on=trip(departs_at=departs)))
        with pytest.raises(PurchaseNotAllowed) as real_refused:
            commit(till, basket(("WATCH", 1), on=trip(departs_at=departs)))

        assert codes(training_refused) == codes(real_refused) == ["trip_departed"]
        assert written() == before

    def test_a_real_sale_after_a_training_sale_is_judged_without_it(
        self, till: Terminal, trainee: Terminal
    ) -> None:
        commit(trainee, basket(("LIP", 30)))  # the whole trip's 30 pieces, in training

        real = commit(till, basket(("LIP", 30)))  # the same shopper and trip

        assert real.body["training"] is False
        assert QuotaAccount.objects.get().used == Decimal("9600.00")
        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(till, basket(("LIP", 1)))
        # The real 30 pieces count; the training 30 never did.
        assert codes(excinfo) == ["per_trip_limit_exceeded"]

    def test_it_costs_no_more_statements_than_a_real_sale(self, client: Client) -> None:
        _, key = terminal("SYA-HTB", training=True)
        commit(terminal()[0], basket(("PEN", 1)))  # a known shopper and trip
        policy_in_force_cached(at=timezone.now())  # the per-process policy cache is warm

        with CaptureQueriesContext(connection) as queries:
            sold = client.post(
                "/api/v1/sales",
                json.dumps(json_basket(basket(*[(sku, 1) for sku in ("PEN", "WATCH", "LIP")]))),
                content_type="application/json",
                headers={"authorization": f"Bearer {key}", "idempotency-key": unique_key()},
            )

        assert sold.status_code == 201, sold.content
        # The terminal, the prelude, the lock, the recount (always: it makes no trip), the write.
        # (Under the test's transaction the durable block is a savepoint; not so in production.)
        statements = [q for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
        assert len(statements) == 5
