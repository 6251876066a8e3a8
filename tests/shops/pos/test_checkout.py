"""shops.pos.checkout and the after-sale services: judged against everything already bought, in
every store, written exactly once."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS

from quotas import identity
from quotas import services as quota_services
from quotas.errors import QuotaConflict
from quotas.models import QuotaAccount, QuotaEntry, Shopper, Trip
from quotas.selectors import policy_in_force_cached
from shops.models import DirtyDay, IdempotencyRecord, Sale, SaleLine
from shops.pos import checkout, errors, pickup, returns
from shops.pos.errors import PurchaseNotAllowed
from shops.pos.idempotency import IdempotencyKeyReused
from tests.conftest import local
from tests.support import (
    basket,
    commit,
    json_basket,
    product,
    resident_id,
    sell,
    shopper,
    terminal,
    trip,
    unique_key,
    written,
)

pytestmark = pytest.mark.django_db


def violation_codes(excinfo: pytest.ExceptionInfo[PurchaseNotAllowed]) -> list[str]:
    return [v.code for v in excinfo.value.verdict.violations]


class TestCommit:
    def test_a_sale_writes_sale_lines_ledger_and_dirty_mark(self, catalogue: None) -> None:
        term, _ = terminal()
        result = commit(term, basket(("LIP", 2), ("WINE750", 1)))
        sale = result.sale
        assert not result.replayed
        assert sale.total == Decimal("1840.00")
        assert [
            (line.sku, line.quantity, line.amount) for line in sale.lines.order_by("line_no")
        ] == [
            ("LIP", 2, Decimal("640.00")),
            ("WINE750", 1, Decimal("1200.00")),
        ]
        account = QuotaAccount.objects.get()
        assert account.used == Decimal("1840.00")
        assert account.year == timezone.localtime().year
        assert list(QuotaEntry.objects.values_list("kind", "amount")) == [
            ("sale", Decimal("1840.00"))
        ]
        assert DirtyDay.objects.filter(day=sale.local_date, store=sale.store).exists()
        assert sale.receipt_no.startswith("SYA-HTB-")
        assert result.body["quota"] == {
            "year": account.year,
            "limit": "100000.00",
            "used": "1840.00",
            "remaining": "98160.00",
        }
        assert result.body["status"] == "completed"

    def test_a_quote_writes_nothing(self, catalogue: None) -> None:
        before = written()
        judgement = checkout.sale_quote(basket=basket(("LIP", 2)), at=timezone.now())
        assert judgement.verdict.allowed
        assert written() == before

    def test_a_refused_purchase_writes_nothing(self, catalogue: None) -> None:
        term, _ = terminal()
        before = written()
        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(term, basket(("LIP", 31), ("NOPE", 1)))
        assert violation_codes(excinfo) == ["unknown_sku", "per_trip_limit_exceeded"]
        assert written() == before

    def test_the_rules_in_force_at_commit_judge(self, catalogue: None) -> None:
        term, _ = terminal()
        product("PETBED", "pet_supplies", "499.00")
        departs = local(2025, 11, 2, 10)
        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(
                term,
                basket(("PETBED", 1), on=trip(departs_at=departs)),
                now=local(2025, 10, 31, 23, 59, 59),
            )
        assert violation_codes(excinfo) == ["not_duty_free_category"]
        sale = commit(
            term, basket(("PETBED", 1), on=trip(departs_at=departs)), now=local(2025, 11, 1, 0, 0)
        ).sale
        assert sale.policy.effective_from == local(2025, 11, 1)


class TestPerTripLimitsAcrossStores:
    def test_cosmetics_pieces_add_up_over_two_stores(self, catalogue: None) -> None:
        sanya, _ = terminal("SYA-HTB")
        haikou, _ = terminal("HAK-IDFC")
        commit(sanya, basket(("LIP", 20)))
        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(haikou, basket(("LIP", 11)))
        violation = excinfo.value.verdict.violations[0]
        assert (violation.code, violation.already, violation.requested) == (
            "per_trip_limit_exceeded",
            20,
            11,
        )
        commit(haikou, basket(("LIP", 10)))
        assert Sale.objects.count() == 2

    def test_a_set_of_five_counts_five_pieces(self, catalogue: None) -> None:
        sanya, _ = terminal("SYA-HTB")
        haikou, _ = terminal("HAK-IDFC")
        commit(sanya, basket(("SET5", 5)))  # 25 pieces
        with pytest.raises(PurchaseNotAllowed):
            commit(haikou, basket(("SET5", 1), ("LIP", 1)))  # 31
        commit(haikou, basket(("SET5", 1)))  # 30
        quote = checkout.sale_quote(basket=basket(("LIP", 1)), at=timezone.now())
        limits = {t.category.code: (t.used, t.remaining_after) for t in quote.verdict.trip_limits}
        assert limits["cosmetics"] == (30, -1)

    def test_millilitres_add_up_over_two_stores(self, catalogue: None) -> None:
        sanya, _ = terminal("SYA-HTB")
        haikou, _ = terminal("HAK-IDFC")
        commit(sanya, basket(("WINE750", 1)))
        with pytest.raises(PurchaseNotAllowed):
            commit(haikou, basket(("WINE751", 1)))  # 1,501 ml
        commit(haikou, basket(("WINE750", 1)))  # 1,500 ml
        assert Trip.objects.count() == 1

    def test_phones_four_per_trip_but_a_new_trip_starts_afresh(self, catalogue: None) -> None:
        term, _ = terminal()
        commit(term, basket(("PHONE", 4)))
        with pytest.raises(PurchaseNotAllowed):
            commit(term, basket(("PHONE", 1)))
        commit(term, basket(("PHONE", 1), on=trip("CZ6789")))
        assert Trip.objects.count() == 2

    def test_a_basket_outside_the_limits_leaves_the_counts_exact(self, catalogue: None) -> None:
        product("TEA", "tea", "100.00")
        term, _ = terminal()
        commit(term, basket(("LIP", 29)))  # first sale of a new shopper: nothing to recount
        commit(term, basket(("TEA", 3)))  # no limited category: the trip is read, not summed
        with pytest.raises(PurchaseNotAllowed):
            commit(term, basket(("LIP", 2), ("TEA", 1)))
        commit(term, basket(("LIP", 1), ("TEA", 1)))
        quote = checkout.sale_quote(basket=basket(("TEA", 1)), at=timezone.now())
        limits = {t.category.code: t.used for t in quote.verdict.trip_limits}
        assert limits == {"cosmetics": 30, "mobile_phones": 0, "alcohol": 0}


class TestAnnualQuota:
    def test_one_fen_over_across_trips_and_stores(self, catalogue: None) -> None:
        sanya, _ = terminal("SYA-HTB")
        haikou, _ = terminal("HAK-IDFC")
        commit(sanya, basket(("BIGWATCH", 1)))  # 99,000.00
        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(haikou, basket(("PEN", 1), on=trip("CZ6789")))  # 1,000.01
        assert violation_codes(excinfo) == ["annual_quota_exceeded"]
        product("PEN-EXACT", "pens", "1000.00")
        commit(haikou, basket(("PEN-EXACT", 1), on=trip("CZ6789")))
        assert QuotaAccount.objects.get().used == Decimal("100000.00")

    def test_the_quota_year_is_the_shanghai_calendar_year(self, catalogue: None) -> None:
        term, _ = terminal()
        departs = local(2026, 1, 3, 10)
        commit(
            term,
            basket(("BIGWATCH", 1), on=trip(departs_at=departs)),
            now=local(2025, 12, 31, 23, 59),
        )
        commit(
            term,
            basket(("BIGWATCH", 1), on=trip("CZ1", departs_at=departs)),
            now=local(2026, 1, 1, 0, 30),
        )
        assert dict(QuotaAccount.objects.values_list("year", "used")) == {
            2025: Decimal("99000.00"),
            2026: Decimal("99000.00"),
        }


class TestIdempotency:
    def test_a_retry_gets_the_first_answer(self, catalogue: None) -> None:
        term, _ = terminal()
        first = commit(term, basket(("LIP", 2)), key="same", fingerprint="fp")
        again = commit(term, basket(("LIP", 2)), key="same", fingerprint="fp")
        assert again.replayed
        assert again.body == first.body
        assert Sale.objects.count() == 1
        assert QuotaAccount.objects.get().used == Decimal("640.00")

    def test_the_first_answer_survives_a_later_void(self, catalogue: None) -> None:
        term, _ = terminal()
        first = commit(term, basket(("LIP", 2)), key="same", fingerprint="fp")
        returns.sale_void(terminal=term, sale_id=first.sale.pk, now=timezone.now())
        assert commit(term, basket(("LIP", 2)), key="same", fingerprint="fp").body == first.body

    def test_the_same_key_for_another_request_is_refused(self, catalogue: None) -> None:
        term, _ = terminal()
        commit(term, basket(("LIP", 2)), key="same", fingerprint="fp-1")
        with pytest.raises(IdempotencyKeyReused):
            commit(term, basket(("LIP", 3)), key="same", fingerprint="fp-2")
        assert Sale.objects.count() == 1

    def test_keys_belong_to_a_terminal(self, catalogue: None) -> None:
        one, _ = terminal()
        two, _ = terminal()
        commit(one, basket(("LIP", 1)), key="same", fingerprint="fp")
        assert not commit(two, basket(("LIP", 1)), key="same", fingerprint="fp").replayed
        assert Sale.objects.count() == 2

    def test_a_refused_purchase_is_not_remembered(self, catalogue: None) -> None:
        term, _ = terminal()
        with pytest.raises(PurchaseNotAllowed):
            commit(term, basket(("LIP", 31)), key="k", fingerprint="fp")
        assert Sale.objects.count() == 0


class TestReturns:
    def test_a_return_credits_the_quota_and_the_trip(self, catalogue: None) -> None:
        term, _ = terminal()
        sale = commit(term, basket(("LIP", 30))).sale
        line = sale.lines.get()
        answer = returns.sale_return(
            terminal=term,
            sale_id=sale.pk,
            idempotency_key="r1",
            fingerprint="f",
            lines=[(line.pk, 5)],
            reason="changed mind",
            now=timezone.now(),
        )
        assert answer.status == 201
        assert answer.body["amount"] == "1600.00"
        assert answer.body["quota"]["used"] == "8000.00"
        assert QuotaAccount.objects.get().used == Decimal("8000.00")
        commit(term, basket(("LIP", 5)))  # the trip has room for five again
        with pytest.raises(PurchaseNotAllowed):
            commit(term, basket(("LIP", 1)))

    def test_more_than_sold_is_refused_and_writes_nothing(self, catalogue: None) -> None:
        term, _ = terminal()
        sale = commit(term, basket(("LIP", 3))).sale
        line = sale.lines.get()
        returns.sale_return(
            terminal=term,
            sale_id=sale.pk,
            idempotency_key="r1",
            fingerprint="f1",
            lines=[(line.pk, 2)],
            reason="",
            now=timezone.now(),
        )
        before = written()
        with pytest.raises(errors.ReturnExceedsSale):
            returns.sale_return(
                terminal=term,
                sale_id=sale.pk,
                idempotency_key="r2",
                fingerprint="f2",
                lines=[(line.pk, 2)],
                reason="",
                now=timezone.now(),
            )
        assert written() == before
        assert SaleLine.objects.get().returned_quantity == 2

    def test_a_retried_return_is_replayed(self, catalogue: None) -> None:
        term, _ = terminal()
        sale = commit(term, basket(("LIP", 3))).sale
        line = sale.lines.get()
        kwargs = {
            "terminal": term,
            "sale_id": sale.pk,
            "idempotency_key": "r1",
            "fingerprint": "f",
            "lines": [(line.pk, 1)],
            "reason": "",
            "now": timezone.now(),
        }
        first = returns.sale_return(**kwargs)
        again = returns.sale_return(**kwargs)
        assert again.replayed
        assert again.content == first.content
        assert QuotaAccount.objects.get().used == Decimal("640.00")
        assert IdempotencyRecord.objects.count() == 2  # the sale's first answer and the return's

    def test_a_return_next_year_credits_the_year_of_the_sale(self, catalogue: None) -> None:
        term, _ = terminal()
        sale = commit(
            term,
            basket(("WATCH", 1), on=trip(departs_at=local(2026, 1, 5))),
            now=local(2025, 12, 31, 23, 0),
        ).sale
        returns.sale_return(
            terminal=term,
            sale_id=sale.pk,
            idempotency_key="r",
            fingerprint="f",
            lines=[(sale.lines.get().pk, 1)],
            reason="",
            now=local(2026, 1, 1, 0, 10),
        )
        account = QuotaAccount.objects.get()
        assert (account.year, account.used) == (2025, Decimal("0.00"))


class TestVoidAndPickup:
    def test_a_void_credits_what_was_not_returned(self, catalogue: None) -> None:
        term, _ = terminal()
        sale = commit(term, basket(("LIP", 10))).sale
        returns.sale_return(
            terminal=term,
            sale_id=sale.pk,
            idempotency_key="r",
            fingerprint="f",
            lines=[(sale.lines.get().pk, 4)],
            reason="",
            now=timezone.now(),
        )
        returns.sale_void(terminal=term, sale_id=sale.pk, now=timezone.now())
        returns.sale_void(terminal=term, sale_id=sale.pk, now=timezone.now())  # twice: once
        assert QuotaAccount.objects.get().used == Decimal("0.00")
        assert sorted(QuotaEntry.objects.values_list("kind", "amount")) == [
            ("return", Decimal("-1280.00")),
            ("sale", Decimal("3200.00")),
            ("void", Decimal("-1920.00")),
        ]
        commit(term, basket(("LIP", 30)))  # the voided sale no longer counts for the trip

    def test_handed_over_goods_cannot_be_voided(self, catalogue: None) -> None:
        term, _ = terminal()
        sale = commit(term, basket(("LIP", 1))).sale
        pickup.sale_pickup(terminal=term, sale_id=sale.pk, now=timezone.now())
        with pytest.raises(errors.SalePickedUp):
            returns.sale_void(terminal=term, sale_id=sale.pk, now=timezone.now())
        assert Sale.objects.get().status == "completed"
        assert QuotaAccount.objects.get().used == Decimal("320.00")

    def test_a_voided_sale_cannot_be_handed_over(self, catalogue: None) -> None:
        term, _ = terminal()
        sale = commit(term, basket(("LIP", 1))).sale
        returns.sale_void(terminal=term, sale_id=sale.pk, now=timezone.now())
        with pytest.raises(errors.SaleVoided):
            pickup.sale_pickup(terminal=term, sale_id=sale.pk, now=timezone.now())

    def test_another_stores_sale_is_not_found(self, catalogue: None) -> None:
        sanya, _ = terminal("SYA-HTB")
        haikou, _ = terminal("HAK-IDFC")
        sale = commit(sanya, basket(("LIP", 1))).sale
        for action in (returns.sale_void, pickup.sale_pickup):
            with pytest.raises(errors.SaleNotFound):
                action(terminal=haikou, sale_id=sale.pk, now=timezone.now())
        assert Sale.objects.get().status == "completed"


class TestDepartures:
    def test_a_departure_closes_the_trip(self, catalogue: None) -> None:
        term, _ = terminal()
        departs = timezone.now() + timedelta(hours=5)
        commit(term, basket(("LIP", 1), on=trip(departs_at=departs)))
        who = shopper()
        recorded = quota_services.departure_record(
            doc_type=who.doc_type,
            country=who.country,
            number=who.number,
            carrier_ref="HU7181",
            departed_at=departs,
            now=departs,  # recorded once the shopper has left
        )
        assert recorded.departed_at == departs
        assert Trip.objects.get().departed_at == departs
        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(term, basket(("LIP", 1), on=trip(departs_at=departs)))
        assert violation_codes(excinfo) == ["trip_departed"]

    @pytest.mark.parametrize("sku", ["LIP", "PEN", "WATCH"])
    def test_a_departed_trip_is_refused_whether_or_not_its_holdings_are_read(
        self, catalogue: None, sku: str
    ) -> None:
        # LIP (cosmetics, a per-trip limit) is judged after the recount reads the trip; PEN and
        # WATCH (no limit) are judged without it, and the write meets the departed trip.
        term, _ = terminal()
        departs = timezone.now() + timedelta(hours=5)
        commit(term, basket((sku, 1), on=trip(departs_at=departs)))
        who = shopper()
        quota_services.departure_record(
            doc_type=who.doc_type,
            country=who.country,
            number=who.number,
            carrier_ref="HU7181",
            departed_at=departs,
            now=departs,
        )
        before = (Sale.objects.count(), QuotaEntry.objects.count(), Trip.objects.count())
        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(term, basket((sku, 1), on=trip(departs_at=departs)))
        assert violation_codes(excinfo) == ["trip_departed"]
        assert (Sale.objects.count(), QuotaEntry.objects.count(), Trip.objects.count()) == before
        assert Trip.objects.get().departed_at == departs  # the refused write changed nothing

    def test_a_resident_who_left_this_year_buys_immediate_without_a_trip(
        self, catalogue: None
    ) -> None:
        term, _ = terminal()
        resident = shopper(resident_id(7), resident=True)
        with pytest.raises(PurchaseNotAllowed) as excinfo:
            commit(term, basket(("LIP", 1), who=resident, no_trip=True, pickup="immediate"))
        assert violation_codes(excinfo) == ["trip_required"]
        commit(term, basket(("LIP", 1), who=resident))  # a trip, so the shopper is known
        quota_services.departure_record(
            doc_type="resident_id",
            country="CHN",
            number=resident.number,
            carrier_ref="HU7181",
            departed_at=timezone.now() - timedelta(minutes=1),
            now=timezone.now(),
        )
        sale = commit(term, basket(("LIP", 1), who=resident, no_trip=True, pickup="immediate")).sale
        assert (sale.trip_id, sale.traveller_kind) == (None, "resident")

    def test_an_unknown_document_records_nothing(self) -> None:
        outcome = quota_services.departure_record_outcome(
            doc_type="passport",
            country="USA",
            number="X1234567",
            carrier_ref="HU 7181",
            departed_at=timezone.now(),
            now=timezone.now(),
        )
        assert (outcome.matched, outcome.reason) == (False, "no_open_trip_with_that_carrier_ref")
        assert (outcome.carrier_ref, outcome.recorded_on) == ("HU7181", None)
        assert not Shopper.objects.exists()
        assert not Trip.objects.exists()


class TestBooks:
    def test_the_ledger_sums_to_used_after_a_day_of_business(self, catalogue: None) -> None:
        term, _ = terminal()
        sales = [
            commit(term, basket(("LIP", 2), who=shopper(resident_id(n)))).sale for n in range(1, 4)
        ]
        returns.sale_return(
            terminal=term,
            sale_id=sales[0].pk,
            idempotency_key="r",
            fingerprint="f",
            lines=[(sales[0].lines.get().pk, 1)],
            reason="",
            now=timezone.now(),
        )
        returns.sale_void(terminal=term, sale_id=sales[1].pk, now=timezone.now())
        for account in QuotaAccount.objects.all():
            ledger = account.entries.aggregate(total=Sum("amount"))["total"]
            completed = Sale.objects.filter(account=account, status="completed")
            net = sum((s.total - s.returned_amount for s in completed), Decimal("0.00"))
            assert ledger == account.used == net


class TestTheLock:
    """The shopper-and-account upsert every sale takes first (quotas.services)."""

    def test_unchanged_facts_leave_the_shopper_s_updated_at(self, catalogue: None) -> None:
        term, _ = terminal()
        commit(term, basket(("LIP", 1)))
        stamp = Shopper.objects.get().updated_at
        commit(term, basket(("LIP", 1)))
        assert Shopper.objects.get().updated_at == stamp
        renamed = dataclasses.replace(shopper(), name="李四")
        commit(term, basket(("LIP", 1), who=renamed))
        row = Shopper.objects.get()
        assert row.updated_at > stamp
        assert row.name_key == identity.name_key("李四")

    def test_the_account_s_check_refuses_what_the_rules_let_through(
        self, catalogue: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        term, _ = terminal()
        lock = checkout.quota_account_lock
        # The account's limit below the policy's: the rules allow 320.00, the database does not.
        monkeypatch.setattr(
            checkout,
            "quota_account_lock",
            lambda **given: lock(**{**given, "limit": Decimal("100.00")}),
        )
        before = written()
        with pytest.raises(QuotaConflict):
            commit(term, basket(("LIP", 1)))
        assert written() == before


class TestQueryBudget:
    """A sale through the API costs at most five statements, for 1 line as for 50, first
    purchase or not, with a trip or a trip-less resident: the terminal's look-up, the key's
    prelude, the shopper-and-account lock, the recount (none for a shopper the sale inserts,
    nor for a basket whose verdict depends on nothing the trip holds), the write
    (shops/pos/checkout.py's docstring counts them)."""

    @pytest.fixture
    def fifty(self) -> list[str]:
        skus = [f"TEA-{n:02d}" for n in range(50)]
        for sku in skus:
            product(sku, "tea", "100.00")
        return skus

    @pytest.fixture
    def lipsticks(self) -> list[str]:
        skus = [f"LIP-{n:02d}" for n in range(7)]
        for sku in skus:
            product(sku, "cosmetics", "100.00", immediate_kind="cosmetics")
        return skus

    @pytest.fixture
    def post(self, client: Client):  # type: ignore[no-untyped-def]
        _, key = terminal()

        def post(b) -> int:  # type: ignore[no-untyped-def]
            policy_in_force_cached(at=timezone.now())  # the per-process policy cache is warm
            with CaptureQueriesContext(connection) as queries:
                response = client.post(
                    "/api/v1/sales",
                    json.dumps(json_basket(b)),
                    content_type="application/json",
                    headers={"authorization": f"Bearer {key}", "idempotency-key": unique_key("q")},
                )
            assert response.status_code == 201, response.content
            # Under the test's own transaction the durable block runs as a savepoint; in
            # production it is the outermost transaction and issues no such statements.
            return sum(1 for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE")))

        return post

    def test_every_statement_keeps_psycopgs_cached_conversion(
        self, monkeypatch: pytest.MonkeyPatch, lipsticks: list[str]
    ) -> None:
        """psycopg converts a statement's placeholders once and caches it only for at most 50
        parameters and 4,096 characters: past them, every sale would parse its write again.
        The most a sale sends: a new shopper on a new trip, picked up at once."""
        sent: list[tuple[int, int]] = []
        real = checkout.fetch_all

        def spy(sql: str, params: list[object]) -> object:
            sent.append((len(sql), len(params)))
            return real(sql, params)

        monkeypatch.setattr(checkout, "fetch_all", spy)
        sold = sell(
            terminal()[0], *[(sku, 1) for sku in lipsticks[:3]], pickup="immediate",
            who=shopper(resident_id(9)), on=trip("HU9001"),
        )  # fmt: skip
        assert sold.sale_id
        assert sent
        assert max(count for _, count in sent) <= MAX_CACHED_STATEMENT_PARAMS, sent
        assert max(length for length, _ in sent) <= MAX_CACHED_STATEMENT_LENGTH, sent

    def test_first_purchase_of_the_year(self, post, fifty: list[str]) -> None:  # type: ignore[no-untyped-def]
        one = post(basket((fifty[0], 1), who=shopper(resident_id(1))))
        many = post(basket(*[(s, 1) for s in fifty], who=shopper(resident_id(2))))
        assert one == many == 4  # a shopper inserted by the sale: nothing to recount

    def test_a_returning_shopper_on_a_new_trip(self, post, fifty: list[str]) -> None:  # type: ignore[no-untyped-def]
        post(basket((fifty[0], 1)))
        one = post(basket((fifty[1], 1), on=trip("CZ1")))
        many = post(basket(*[(s, 1) for s in fifty], on=trip("CZ2")))
        assert one == many == 4  # tea has no per-trip limit: the write finds or makes the trip

    def test_a_returning_shopper_on_the_same_trip(self, post, fifty: list[str]) -> None:  # type: ignore[no-untyped-def]
        post(basket((fifty[0], 1)))
        one = post(basket((fifty[1], 1)))
        many = post(basket(*[(s, 1) for s in fifty]))
        assert one == many == 4

    def test_a_basket_with_a_per_trip_limit_recounts(self, post, lipsticks: list[str]) -> None:  # type: ignore[no-untyped-def]
        post(basket((lipsticks[0], 1)))
        one = post(basket((lipsticks[1], 1)))
        many = post(basket(*[(s, 1) for s in lipsticks[2:]]))
        assert one == many == 5  # cosmetics: 30 pieces a trip, so what the trip holds is read

    def test_a_resident_without_a_trip(self, post, lipsticks: list[str]) -> None:  # type: ignore[no-untyped-def]
        resident = shopper(resident_id(3), resident=True)
        post(basket((lipsticks[0], 1), who=resident))  # a trip, so the shopper is known
        quota_services.departure_record(
            doc_type="resident_id",
            country="CHN",
            number=resident.number,
            carrier_ref="HU7181",
            departed_at=timezone.now() - timedelta(minutes=1),
            now=timezone.now(),
        )
        immediate = {"who": resident, "no_trip": True, "pickup": "immediate"}
        one = post(basket((lipsticks[1], 1), **immediate))
        many = post(basket(*[(s, 1) for s in lipsticks[2:]], **immediate))  # the cap: 5 pieces
        assert one == many == 5  # the recount is the look for a departure this year


class TestSalesApi:
    def test_create_replay_and_read(self, client: Client, catalogue: None) -> None:
        _, key = terminal()
        body = json.dumps(json_basket(basket(("LIP", 2))))
        headers = {"authorization": f"Bearer {key}", "idempotency-key": "abc"}
        first = client.post("/api/v1/sales", body, content_type="application/json", headers=headers)
        assert first.status_code == 201
        assert "Idempotent-Replayed" not in first
        again = client.post("/api/v1/sales", body, content_type="application/json", headers=headers)
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        sale_id = first.json()["id"]
        assert first["Location"] == f"/api/v1/sales/{sale_id}"
        detail = client.get(f"/api/v1/sales/{sale_id}", headers=headers).json()
        assert detail["status"] == "completed"
        assert detail["lines"][0]["returned_quantity"] == 0

    def test_a_retry_with_reordered_json_is_the_same_request(
        self, client: Client, catalogue: None
    ) -> None:
        _, key = terminal()
        data = json_basket(basket(("LIP", 2)))
        headers = {"authorization": f"Bearer {key}", "idempotency-key": "abc"}
        client.post(
            "/api/v1/sales", json.dumps(data), content_type="application/json", headers=headers
        )
        reordered = json.dumps(dict(reversed(list(data.items()))), indent=2)
        again = client.post(
            "/api/v1/sales", reordered, content_type="application/json", headers=headers
        )
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"

    def test_quote_answer(self, client: Client, catalogue: None) -> None:
        _, key = terminal()
        response = client.post(
            "/api/v1/quotes",
            json.dumps(json_basket(basket(("LIP", 31)))),
            content_type="application/json",
            headers={"authorization": f"Bearer {key}", "accept-language": "en"},
        )
        body = response.json()
        assert response.status_code == 200
        assert body["allowed"] is False
        assert body["violations"][0]["code"] == "per_trip_limit_exceeded"
        assert body["violations"][0]["message"].startswith("Cosmetics: at most 30 pieces")
        assert body["trip_limits"][0] == {
            "category": "cosmetics",
            "unit": "piece",
            "limit": 30,
            "used": 0,
            "requested": 31,
            "remaining_after": -1,
        }
        assert body["quota"]["remaining_after"] == "90080.00"
        # The line that caused it says so (it used to say allowed, no violations).
        assert body["lines"][0]["allowed"] is False
        assert body["lines"][0]["violations"] == body["violations"]

    def test_a_past_quote_uses_the_policy_then(self, client: Client, catalogue: None) -> None:
        _, key = terminal()
        data = json_basket(basket(("LIP", 1), who=shopper(birth=date(1990, 1, 1))))
        data["at"] = "2025-10-31T12:00:00+08:00"
        data["trip"]["departs_at"] = "2025-11-02T10:00:00+08:00"
        body = client.post(
            "/api/v1/quotes",
            json.dumps(data),
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        ).json()
        assert body["policy"]["effective_from"] == "2023-04-01T00:00:00+08:00"
        assert body["allowed"] is True


class TestQuotaAfterTheAction:
    """Every answer about a sale carries the shopper's account for the sale's year as it
    stands after that action (API.md), not as it stood when the sale was made."""

    @pytest.fixture
    def api(self, client: Client, catalogue: None):
        _, key = terminal()
        headers = {"authorization": f"Bearer {key}"}

        def call(method: str, url: str, body: dict | None = None) -> dict:
            kwargs = {"headers": {**headers, "idempotency-key": unique_key("qa")}}
            if body is not None:
                kwargs.update(data=json.dumps(body), content_type="application/json")
            response = getattr(client, method)(url, **kwargs)
            assert response.status_code in {200, 201}, response.content
            return response.json()

        return call

    def test_void_pickup_return_and_read_show_the_account_now(self, api) -> None:
        # 3,180.00 on one trip, then 1,100.00 on another: used 4,280.00.
        first = api("post", "/api/v1/sales", json_basket(basket(("PEN", 2), ("LIP", 3))))
        assert first["total"] == "2960.02"
        second = api(
            "post", "/api/v1/sales", json_basket(basket(("LIP", 1), ("PEN", 1), on=trip("CZ1")))
        )
        assert second["quota"]["used"] == "4280.03"

        voided = api("post", f"/api/v1/sales/{second['id']}/void")
        assert voided["status"] == "voided"
        assert voided["quota"] == {
            "year": voided["quota"]["year"],
            "limit": "100000.00",
            "used": "2960.02",
            "remaining": "97039.98",
        }
        assert api("get", f"/api/v1/sales/{second['id']}")["quota"]["used"] == "2960.02"
        # The other sale's answers follow the account too, whatever happened to it.
        assert api("get", f"/api/v1/sales/{first['id']}")["quota"]["used"] == "2960.02"
        assert api("post", f"/api/v1/sales/{first['id']}/pickup")["quota"]["used"] == "2960.02"

        line = next(line for line in first["lines"] if line["sku"] == "LIP")
        body = {"lines": [{"line": line["id"], "quantity": 1}], "reason": "scratched"}
        returned = api("post", f"/api/v1/sales/{first['id']}/returns", body)
        assert returned["quota"]["used"] == "2640.02"
        assert api("get", f"/api/v1/sales/{first['id']}")["quota"]["used"] == "2640.02"

        # A sale's replay repeats its first answer (the contract), quota as at the sale.
        again = api("post", "/api/v1/sales", json_basket(basket(("PEN", 2), ("LIP", 3))))
        assert again["id"] != first["id"]  # a fresh key: a new sale, on the account as it is
        assert again["quota"]["used"] == "5600.04"

    def test_a_replayed_return_repeats_its_first_answer(self, client: Client, catalogue) -> None:
        _, key = terminal()
        headers = {"authorization": f"Bearer {key}"}
        sale = client.post(
            "/api/v1/sales",
            json.dumps(json_basket(basket(("LIP", 3)))),
            content_type="application/json",
            headers={**headers, "idempotency-key": "s"},
        ).json()
        body = json.dumps({"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}]})
        url = f"/api/v1/sales/{sale['id']}/returns"
        ret = {"headers": {**headers, "idempotency-key": "r"}, "content_type": "application/json"}
        first = client.post(url, body, **ret)
        assert first.json()["quota"]["used"] == "640.00"
        client.post(f"/api/v1/sales/{sale['id']}/void", headers={**headers, "idempotency-key": "v"})
        again = client.post(url, body, **ret)
        assert again["Idempotent-Replayed"] == "true"
        assert again.content == first.content  # the same bytes, though the sale was voided since
        now = client.get(f"/api/v1/sales/{sale['id']}", headers=headers).json()
        assert now["quota"]["used"] == "0.00"
