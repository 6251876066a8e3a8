"""A training terminal (``Terminal.training``): a till in training sells, returns, voids, hands
over and records departures through the same API, judged as any till is, and nothing it does
touches a shopper's quota, the rollups and figures, the books or the event feed."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quotas.models import Ban, QuotaAccount, QuotaEntry, Shopper, Trip
from quotas.selectors import policy_in_force_cached
from quotas.services import departure_record
from shops.feed.reconcile import changes_without_events, reconcile
from shops.models import (
    EVENT_TYPES,
    DailyStoreSales,
    DirtyDay,
    Endpoint,
    EndpointKind,
    Event,
    FeedState,
    IdempotencyRecord,
    Return,
    Sale,
    SaleLine,
    Terminal,
)
from shops.pos import checkout, departures, pickup, returns
from shops.pos.deadline import departure_deadline_enforce
from shops.pos.errors import PurchaseNotAllowed, SaleNotFound
from shops.reporting import rollups
from shops.reporting.audit import check_books
from shops.shoppers.lookup import LookupQuery, quota_lookup
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
from tests.support.books import rollup_snapshot

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

    def test_a_practice_on_a_real_document_changes_nothing_stored_of_its_shopper(
        self, till: Terminal, trainee: Terminal
    ) -> None:
        commit(till, basket(("LIP", 1)))  # the shopper as she presented herself
        stored = list(Shopper.objects.values())
        accounts = list(QuotaAccount.objects.values())
        practised = shopper(NUMBER, name="李四", resident=True)  # a trainee's wrong name

        commit(trainee, basket(("LIP", 1), who=practised), now=timezone.now() + timedelta(days=1))

        assert list(Shopper.objects.values()) == stored
        assert list(QuotaAccount.objects.values()) == accounts
        query = LookupQuery(doc_type="resident_id", country="CHN", number=NUMBER, name="张三")
        assert quota_lookup(query=query, now=timezone.now(), language="en")["used"] == "320.00"

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


# --- What reads sales -------------------------------------------------------------------------
class TestWhatReadsSales:
    def test_the_rollups_and_the_figures_leave_it_out(
        self, till: Terminal, trainee: Terminal, client: Client
    ) -> None:
        commit(till, basket(("LIP", 1), number=1))
        rollups.refresh_all_dirty(now=timezone.now())

        commit(trainee, basket(("WATCH", 1), number=2))
        commit(trainee, basket(("LIP", 2), number=1))
        commit(till, basket(("PEN", 1), number=3))  # marks the day dirty: the slice is recounted
        rollups.refresh_all_dirty(now=timezone.now())
        refreshed = rollup_snapshot()
        rollups.rebuild_all(now=timezone.now())

        assert rollup_snapshot() == refreshed
        row = DailyStoreSales.objects.get()
        assert (row.sales, row.amount) == (2, Decimal("1320.01"))  # the two real sales
        assert len(rollups.bitmap(row.shoppers)) == 2  # shoppers 1 and 3, not 2
        today = timezone.localdate().isoformat()
        staff = get_user_model().objects.create_user("analyst", is_staff=True)
        client.force_login(staff)
        figures = client.get("/api/v1/stats/sales", {"start": today, "end": today})
        assert figures.status_code == 200, figures.content
        totals = figures.json()["totals"]
        assert (totals["sales"], totals["amount"], totals["shoppers"]) == (2, "1320.01", 2)

    def test_the_books_stay_clean(self, till: Terminal, trainee: Terminal) -> None:
        commit(till, basket(("LIP", 2)))
        kept = commit(trainee, basket(("LIP", 3), ("WINE750", 1))).sale
        voided = commit(trainee, basket(("PHONE", 1), number=2)).sale
        picked = commit(trainee, basket(("SET5", 1), number=3)).sale
        returns.sale_return(
            terminal=trainee,
            sale_id=kept.pk,
            idempotency_key=unique_key(),
            fingerprint="f",
            lines=[(kept.lines.get(sku="LIP").pk, 1)],
            reason="",
            now=timezone.now(),
        )
        returns.sale_void(terminal=trainee, sale_id=voided.pk, now=timezone.now())
        pickup.sale_pickup(terminal=trainee, sale_id=picked.pk, now=timezone.now())
        rollups.refresh_all_dirty(now=timezone.now())

        books = check_books()

        assert books.differences == []
        assert books.notes == []

    def test_a_real_fault_beside_training_sales_is_named_alone(
        self, till: Terminal, trainee: Terminal
    ) -> None:
        real = commit(till, basket(("LIP", 2))).sale
        practice = commit(trainee, basket(("LIP", 3))).sale
        returns.sale_return(
            terminal=trainee,
            sale_id=practice.pk,
            idempotency_key=unique_key(),
            fingerprint="f",
            lines=[(practice.lines.get().pk, 1)],
            reason="",
            now=timezone.now(),
        )
        QuotaEntry.objects.filter(reference=f"sale:{real.pk}").delete()  # behind the engine

        found = check_books(rollups=False).differences

        # The account is examined entry by entry: its training sale and return owe no entry.
        assert f"sale {real.pk}: no ledger debit" in found
        assert not [f for f in found if f"sale {practice.pk}" in f]
        assert all(f.startswith((f"sale {real.pk}:", "account ")) for f in found), found

    def test_the_look_up_lists_no_training_purchase_and_no_trip_of_one(
        self, till: Terminal, trainee: Terminal
    ) -> None:
        real = commit(till, basket(("LIP", 1))).sale
        commit(trainee, basket(("WATCH", 1), on=trip("CZ6789")))
        query = LookupQuery(doc_type="resident_id", country="CHN", number=NUMBER, name="张三")

        found = quota_lookup(query=query, now=timezone.now(), language="en")

        assert [p["receipt_no"] for p in found["purchases"]] == [real.receipt_no]
        assert found["used"] == "320.00"
        assert [t["carrier_ref"] for t in found["open_trips"]] == ["HU7181"]

    def test_the_departure_deadline_never_bans_for_a_training_pickup(
        self, trainee: Terminal
    ) -> None:
        commit(
            trainee,
            basket(("LIP", 1), on=trip(departs_at=SOLD + timedelta(days=4)), pickup="immediate"),
            now=SOLD,
        )

        report = departure_deadline_enforce(now=RUN)

        assert (report.checked, report.overdue, report.banned) == (0, 0, 0)
        assert not Ban.objects.exists()

    def test_customs_and_the_feed_s_checks_never_expect_it(self, apis: tuple[Api, Api]) -> None:
        _, training = apis
        # A customs channel's row (its keys matter only to deliveries, which none are here).
        Endpoint.objects.create(
            name="customs",
            url="https://customs.example/hooks",
            kind=EndpointKind.CUSTOMS,
            event_types=list(EVENT_TYPES),
            secret="whsec_training",
            created_at=timezone.now() - timedelta(hours=1),
        )
        sold = training.post("/api/v1/sales", json_basket(basket(("LIP", 2)))).json()
        training.post(
            f"/api/v1/sales/{sold['id']}/returns",
            {"lines": [{"line": sold["lines"][0]["id"], "quantity": 1}], "reason": "shade"},
        )
        training.post(f"/api/v1/sales/{sold['id']}/pickup")
        now = timezone.now() + timedelta(minutes=1)

        assert training.get(f"/api/v1/sales/{sold['id']}").json()["customs"] == {
            "status": "training",
            "at": None,
        }
        late = reconcile(day=timezone.localdate(), max_age=timedelta(0), now=now)
        assert [e.missing_sales for e in late.endpoints] == [[]]
        assert FeedState.objects.exists()  # the feed has begun: every change since is checked
        assert changes_without_events(limit=10) == []


# --- Returns, voids and pickups of a training sale ----------------------------------------------
class TestAfterATrainingSale:
    def test_a_return_is_recorded_and_credits_nothing(
        self, till: Terminal, trainee: Terminal
    ) -> None:
        commit(till, basket(("WINE750", 1)))
        sale = commit(trainee, basket(("LIP", 3))).sale
        before = untouched()

        answer = returns.sale_return(
            terminal=trainee,
            sale_id=sale.pk,
            idempotency_key="back",
            fingerprint="f",
            lines=[(sale.lines.get().pk, 1)],
            reason="wrong shade",
            now=timezone.now(),
        )

        assert answer.status == 201
        assert answer.body["amount"] == "320.00"
        assert answer.body["quota"]["used"] == "1200.00"  # the real sale's, untouched
        sale.refresh_from_db()
        assert sale.returned_amount == Decimal("320.00")
        assert sale.lines.get().returned_quantity == 1
        assert Return.objects.filter(sale=sale).count() == 1
        assert untouched() == before

    def test_a_void_credits_nothing(self, till: Terminal, trainee: Terminal) -> None:
        commit(till, basket(("WINE750", 1)))
        sale = commit(trainee, basket(("LIP", 3))).sale
        before = untouched()

        answer = returns.sale_change_once(
            retry=returns.Retry(terminal_id=trainee.pk, key="void", fingerprint="f"),
            change=returns.sale_void,
            terminal=trainee,
            sale_id=sale.pk,
            now=timezone.now(),
        )

        assert answer.body["status"] == "voided"
        assert answer.body["training"] is True
        assert answer.body["quota"]["used"] == "1200.00"
        sale.refresh_from_db()
        assert (sale.status, sale.voided_at is not None) == ("voided", True)
        assert untouched() == before

    def test_a_pickup_is_recorded_and_tells_nothing(self, trainee: Terminal) -> None:
        sale = commit(trainee, basket(("LIP", 1))).sale
        before = untouched()

        picked = pickup.sale_pickup(terminal=trainee, sale_id=sale.pk, now=timezone.now())

        assert picked.picked_up_at is not None
        assert untouched() == before

    def test_a_training_till_never_finds_a_real_sale(
        self, apis: tuple[Api, Api], till: Terminal, trainee: Terminal
    ) -> None:
        real_api, training = apis
        real = commit(till, basket(("LIP", 2))).sale
        practice = commit(trainee, basket(("LIP", 1), number=2)).sale
        before = written()

        assert training.get(f"/api/v1/sales/{real.pk}").status_code == 404
        assert training.post(f"/api/v1/sales/{real.pk}/void").status_code == 404
        assert training.post(f"/api/v1/sales/{real.pk}/pickup").status_code == 404
        line = real.lines.get().pk
        back = {"lines": [{"line": line, "quantity": 1}], "reason": ""}
        assert training.post(f"/api/v1/sales/{real.pk}/returns", back).status_code == 404
        with pytest.raises(SaleNotFound):
            returns.sale_void(terminal=trainee, sale_id=real.pk, now=timezone.now())
        assert written() == before
        today = timezone.localdate().isoformat()
        listed = training.get("/api/v1/sales", date=today).json()["results"]
        assert [s["id"] for s in listed] == [practice.pk]
        # A real till of the store sees both; the practice one says what it is.
        seen = {
            s["id"]: s["training"]
            for s in real_api.get("/api/v1/sales", date=today).json()["results"]
        }
        assert seen == {real.pk: False, practice.pk: True}


# --- Departures -----------------------------------------------------------------------------------
class TestATrainingDeparture:
    def test_it_answers_as_a_real_departure_and_changes_nothing(
        self, apis: tuple[Api, Api], till: Terminal
    ) -> None:
        real_api, training = apis
        departs = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
        commit(till, basket(("LIP", 1), on=trip("HU7181", departs_at=departs)))
        body = {
            "document": {"type": "resident_id", "number": NUMBER, "country": "CHN"},
            "carrier_ref": "HU 7181",
            "departed_at": (timezone.now() - timedelta(minutes=1))
            .replace(microsecond=0)
            .isoformat(),
        }
        before = untouched()

        rehearsed = training.post("/api/v1/departures", body, idem="gone")
        replayed = training.post("/api/v1/departures", body, idem="gone")

        assert rehearsed.status_code == 201, rehearsed.content
        assert rehearsed.json()["reason"] == "closed_open_trip"
        assert replayed["Idempotent-Replayed"] == "true"
        assert replayed.content == rehearsed.content
        assert untouched() == before
        assert Trip.objects.get().departed_at is None
        real = real_api.post("/api/v1/departures", body)
        assert real.content == rehearsed.content  # what a real till is told, word for word
        assert Trip.objects.get().departed_at is not None
        assert Event.objects.filter(type="departure.recorded").count() == 1

    def test_a_refused_departure_is_the_real_till_s_and_keeps_nothing(
        self, apis: tuple[Api, Api]
    ) -> None:
        real_api, training = apis
        body = {
            "document": {"type": "resident_id", "number": NUMBER, "country": "CHN"},
            "carrier_ref": "HU7181",
            "departed_at": (timezone.now() + timedelta(hours=1)).isoformat(),  # not yet
        }
        before = written()

        refused = training.post("/api/v1/departures", body)

        assert refused.status_code == 400  # departure_in_future
        assert refused.json() == real_api.post("/api/v1/departures", body).json()
        assert written() == before  # no record: a refusal is not kept for a replay

    def test_it_lifts_no_ban(self, till: Terminal, trainee: Terminal) -> None:
        commit(
            till,
            basket(("LIP", 1), on=trip(departs_at=SOLD + timedelta(days=4)), pickup="immediate"),
            now=SOLD,
        )
        departure_deadline_enforce(now=RUN)
        ban = Ban.objects.get()
        late_news = {
            "doc_type": "resident_id",
            "country": "CHN",
            "number": NUMBER,
            "carrier_ref": "HU7181",
            "departed_at": SOLD + timedelta(days=4),  # in time: the ban was wrong
            "now": RUN + timedelta(hours=6),
        }
        before = untouched()

        outcome = departures.departure_rehearse(**late_news)

        assert outcome.reason == "closed_open_trip"
        assert untouched() == before
        assert Ban.objects.get().lifted_at is None
        departures.departure_record(**late_news)  # the real one lifts it
        assert Ban.objects.get(pk=ban.pk).lifted_at is not None


# --- The admin ------------------------------------------------------------------------------------
class TestTheAdmin:
    @pytest.fixture
    def web(self, client: Client) -> Client:
        client.force_login(get_user_model().objects.create_superuser("root", password=None))
        return client

    def test_the_sale_list_filters_training_sales(
        self, web: Client, till: Terminal, trainee: Terminal
    ) -> None:
        real = commit(till, basket(("LIP", 1))).sale
        practice = commit(trainee, basket(("LIP", 1), number=2)).sale

        training_only = web.get("/admin/shops/sale/", {"training__exact": "1"}).content.decode()
        real_only = web.get("/admin/shops/sale/", {"training__exact": "0"}).content.decode()

        assert practice.receipt_no in training_only
        assert real.receipt_no not in training_only
        assert real.receipt_no in real_only
        assert practice.receipt_no not in real_only

    def test_a_terminal_is_set_to_training_and_back(self, web: Client, till: Terminal) -> None:
        url = f"/admin/shops/terminal/{till.pk}/change/"

        assert web.post(url, {"training": "on"}).status_code == 302
        assert Terminal.objects.get(pk=till.pk).training is True
        assert web.post(url, {}).status_code == 302
        assert Terminal.objects.get(pk=till.pk).training is False
