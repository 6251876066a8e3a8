"""The books balance after every step of any sequence of sales, returns, voids, pickups,
legacy imports, replays and rollup refreshes (hypothesis ``RuleBasedStateMachine``, on
PostgreSQL).

After every step ``shops.reporting.audit`` must find no difference (the rollups of every slice not
waiting for a refresh, so all of them right after a refresh), no account may be over its limit
and no trip may hold more of a limited category in judged sales than the limit. A small model
of the shop predicts each outcome — which purchases the policy forbids and why, which returns,
voids and imported receipts are refused — and every balance; a refused operation must leave
no trace at all.

Why ``transaction=True``: the services run in durable atomic blocks, which Django allows only
directly inside the test case's own transaction, so each example cannot get a savepoint of its
own; and outside a transaction the importer writes through worker threads on their own
connections, as in production. So every step commits for real, and each example starts by
emptying the tables the steps write (``serialized_rollback`` restores the migrations' data,
policies and stores, for the tests that follow).

Bounded for CI: ``BOOKS_STATEFUL_EXAMPLES`` (25) examples of up to ``BOOKS_STATEFUL_STEPS``
(20) steps.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from quotas.models import QuotaAccount, QuotaEntry, Shopper, Trip
from quotas.services import PresentedShopper
from shops.imports.batching import import_sales
from shops.imports.reading import COLUMNS
from shops.models import (
    DirtyDay,
    IdempotencyRecord,
    Return,
    ReturnLine,
    Sale,
    SaleLine,
    Terminal,
)
from shops.pos.checkout import Basket, LineInput, TripInput, sale_commit
from shops.pos.errors import (
    PurchaseNotAllowed,
    ReturnExceedsSale,
    SaleNotFound,
    SalePickedUp,
    SaleVoided,
)
from shops.pos.idempotency import Answer, IdempotencyKeyReused
from shops.pos.pickup import sale_pickup
from shops.pos.returns import sale_return, sale_void
from shops.reporting import audit as books
from shops.reporting import rollups
from tests import support
from tests.conftest import local
from tests.support.keys import serial

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EXAMPLES = int(os.environ.get("BOOKS_STATEFUL_EXAMPLES", "25"))
STEPS = int(os.environ.get("BOOKS_STATEFUL_STEPS", "20"))

ANNUAL_LIMIT = Decimal("100000.00")
NEW_POLICY = local(2025, 11, 1)  # 2025-11: age 18 (was 16), outbound travellers too
FIRST = local(2025, 1, 1)
# Two calendar years, up to an hour ago (the importer refuses receipts from the future).
LAST = min(local(2026, 12, 31, 23, 59, 59), timezone.now() - timedelta(hours=1))

# sku: (category, unit price, ml per unit, pieces per unit)
CATALOGUE = {
    "SM-LIP": ("cosmetics", "320.00", None, 1),
    "SM-SET5": ("cosmetics", "1500.00", None, 5),
    "SM-WINE": ("alcohol", "1200.00", 750, 1),
    "SM-MAGNUM": ("alcohol", "2900.00", 1500, 1),
    "SM-PHONE": ("mobile_phones", "6999.00", None, 1),
    "SM-WATCH": ("watches", "31000.00", None, 1),
    "SM-SCARF": ("silk_scarves", "888.88", None, 1),
    "SM-RING": ("jewellery", "48888.88", None, 1),
}
# Legacy receipts may also sell what the catalogue does not know (category only, 1 piece).
LEGACY_ONLY = {"OLD-TEA": ("tea", "66.60", None, 1), "OLD-LIP": ("cosmetics", "99.00", None, 1)}
LIMITS = {"cosmetics": ("piece", 30), "alcohol": ("ml", 1500), "mobile_phones": ("piece", 4)}


@dataclass(frozen=True)
class Person:
    presented: PresentedShopper
    birth: date
    trips: tuple[TripInput, TripInput]


def _person(serial: int, birth: date, second_kind: str = "domestic") -> Person:
    return Person(
        presented=support.shopper(support.resident_id(serial, birth), birth=birth),
        birth=birth,
        trips=(
            TripInput("domestic", "air", "HU7181", local(2027, 1, 2, 10, 30)),
            TripInput(second_kind, "air", "CZ6789", local(2027, 1, 3, 8, 0)),
        ),
    )


PEOPLE = (
    _person(101, date(1990, 1, 1)),
    _person(102, date(1985, 5, 5)),
    _person(103, date(1970, 12, 31), second_kind="outbound"),  # outbound: from 2025-11 only
    _person(104, date(2008, 6, 15)),  # 16 in 2024-06, 18 only in 2026-06: the age rule moves
)
STORES = ("SYA-HTB", "SYA-HTB", "HAK-T1")  # the terminals' stores
TABLES = (  # everything the steps write, children first
    "shops_returnline",
    "shops_return",
    "shops_idempotencyrecord",
    "shops_saleline",
    "shops_sale",
    "quotas_quotaentry",
    "quotas_quotaaccount",
    "quotas_ban",
    "quotas_trip",
    "quotas_shopper",
    "shops_dirtyday",
    "shops_dailycategorysales",
    "shops_dailystoresales",
    "shops_rollupstate",
)


# --- Strategies ----------------------------------------------------------------------------------
def _instants() -> st.SearchStrategy[datetime]:
    days = (LAST.date() - FIRST.date()).days
    midnight = st.integers(1, days).map(lambda d: FIRST + timedelta(days=d))
    edges = st.sampled_from(
        [
            NEW_POLICY - timedelta(microseconds=1),
            NEW_POLICY,
            local(2026, 1, 1) - timedelta(microseconds=1),  # the quota year turns
            local(2026, 1, 1),
            local(2026, 6, 15),  # the youngest shopper turns 18
        ]
    )
    near_midnight = st.tuples(midnight, st.integers(-120, 120)).map(
        lambda pair: pair[0] + timedelta(seconds=pair[1])
    )
    anywhere = st.integers(0, int((LAST - FIRST).total_seconds())).map(
        lambda seconds: FIRST + timedelta(seconds=seconds)
    )
    return st.one_of(edges, near_midnight, anywhere).filter(lambda at: FIRST <= at <= LAST)


INSTANTS = _instants()
# Mostly what people buy; sometimes enough to meet a limit.
SKUS = st.sampled_from(
    ["SM-LIP"] * 3
    + ["SM-SET5", "SM-WINE", "SM-PHONE", "SM-SCARF", "SM-WATCH"] * 2
    + ["SM-MAGNUM", "SM-RING"]
)
QUANTITIES = st.sampled_from([1, 1, 1, 2, 2, 3, 4])
BASKETS = st.lists(st.tuples(SKUS, QUANTITIES), min_size=1, max_size=3)
LEGACY_LINES = st.lists(
    st.tuples(st.one_of(SKUS, st.sampled_from(sorted(LEGACY_ONLY))), QUANTITIES),
    min_size=1,
    max_size=3,
)
TRIP_CHOICES = st.sampled_from([0, 0, 0, 1, 1, 1, None])  # a trip of the shopper, or none


# What the steps did, over the whole run (printed at the end; with -s it shows).
SEEN: Counter[str] = Counter()


def seen(what: str) -> None:
    event(what)
    SEEN[what] += 1


# --- The model -----------------------------------------------------------------------------------
@dataclass
class Line:
    pk: int
    sku: str
    category: str
    quantity: int
    price: Decimal
    ml: int | None
    pieces: int
    returned: int = 0

    @property
    def left(self) -> int:
        return self.quantity - self.returned

    def units(self, unit: str) -> int:
        return self.left * ((self.ml or 0) if unit == "ml" else self.pieces)


@dataclass
class ModelSale:
    pk: int
    store: str
    person: int
    trip: int | None
    year: int
    imported: bool
    lines: list[Line]
    status: str = "completed"
    picked_up: bool = False
    # Live sales: what a replay sends and must get back.
    key: str = ""
    basket: Basket | None = None
    terminal: Terminal | None = None
    body: dict = field(default_factory=dict)

    @property
    def net(self) -> Decimal:
        if self.status != "completed":
            return Decimal("0.00")
        return sum((line.left * line.price for line in self.lines), Decimal("0.00"))


def _year(at: datetime) -> int:
    return at.astimezone(local(2026, 1, 1).tzinfo).year


def _age(birth: date, at: datetime) -> int:
    day = at.astimezone(local(2026, 1, 1).tzinfo).date()
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _requested(lines: list[tuple[str, int]], catalogue: dict) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for sku, quantity in lines:
        category, _, ml, pieces = catalogue[sku]
        if category in LIMITS:
            unit = LIMITS[category][0]
            wanted[category] = wanted.get(category, 0) + quantity * (
                (ml or 0) if unit == "ml" else pieces
            )
    return wanted


def _total(lines: list[tuple[str, int]], catalogue: dict) -> Decimal:
    return sum((Decimal(catalogue[sku][1]) * quantity for sku, quantity in lines), Decimal("0.00"))


def _trace() -> tuple:
    """Everything an operation could change: a refused one must leave all of it as it was."""
    return (
        tuple(Sale.objects.order_by("pk").values_list("pk", "status", "returned_amount")),
        tuple(Sale.objects.order_by("pk").values_list("picked_up_at", "voided_at")),
        tuple(SaleLine.objects.order_by("pk").values_list("pk", "returned_quantity")),
        Return.objects.count(),
        ReturnLine.objects.count(),
        tuple(QuotaAccount.objects.order_by("pk").values_list("pk", "used", "updated_at")),
        QuotaEntry.objects.count(),
        tuple(Shopper.objects.order_by("pk").values_list("pk", "updated_at", "birth_year")),
        tuple(Trip.objects.order_by("pk").values_list("pk", "kind")),
        DirtyDay.objects.count(),
        IdempotencyRecord.objects.count(),
    )


class BooksMachine(RuleBasedStateMachine):
    terminals: tuple[Terminal, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.sales: list[ModelSale] = []
        self.written = False  # since the last refresh

    @initialize()
    def start_clean(self) -> None:
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
            cursor.execute("DELETE FROM shops_terminal WHERE name = 'legacy-import'")

    # -- what the model says -------------------------------------------------------------------
    def used(self, person: int, year: int) -> Decimal:
        return sum(
            (s.net for s in self.sales if s.person == person and s.year == year),
            Decimal("0.00"),
        )

    def held(self, person: int, trip: int, category: str, *, judged_only: bool = False) -> int:
        unit = LIMITS[category][0]
        return sum(
            line.units(unit)
            for s in self.sales
            if s.person == person
            and s.trip == trip
            and s.status == "completed"
            and not (judged_only and s.imported)
            for line in s.lines
            if line.category == category
        )

    def expected_violations(
        self, person: int, trip: int | None, lines: list[tuple[str, int]], at: datetime
    ) -> set[str]:
        who = PEOPLE[person]
        new = at >= NEW_POLICY
        codes = set()
        if _age(who.birth, at) < (18 if new else 16):
            codes.add("underage")
        if trip is None:
            codes.add("trip_required")
        elif who.trips[trip].kind == "outbound" and not new:
            codes.add("traveller_not_eligible")
        for category, wanted in _requested(lines, CATALOGUE).items():
            held = 0 if trip is None else self.held(person, trip, category)
            if held + wanted > LIMITS[category][1]:
                codes.add("per_trip_limit_exceeded")
        if self.used(person, _year(at)) + _total(lines, CATALOGUE) > ANNUAL_LIMIT:
            codes.add("annual_quota_exceeded")
        return codes

    def record(self, sale: Sale, *, person: int, trip: int | None, imported: bool) -> ModelSale:
        lines = [
            Line(
                pk=line.pk,
                sku=line.sku,
                category=line.category_code,
                quantity=line.quantity,
                price=line.unit_price,
                ml=line.volume_ml,
                pieces=line.pieces,
            )
            for line in sale.lines.order_by("line_no")
        ]
        found = ModelSale(
            pk=sale.pk,
            store=sale.store.code,
            person=person,
            trip=trip,
            year=sale.local_date.year,
            imported=imported,
            lines=lines,
        )
        self.sales.append(found)
        self.written = True
        return found

    def terminal_of(self, store: str) -> Terminal:
        return next(t for t in self.terminals if t.store.code == store)

    # -- rules ---------------------------------------------------------------------------------
    @rule(
        person=st.integers(0, len(PEOPLE) - 1),
        trip=TRIP_CHOICES,
        lines=BASKETS,
        at=INSTANTS,
        till=st.integers(0, len(STORES) - 1),
    )
    def sale(
        self, person: int, trip: int | None, lines: list[tuple[str, int]], at: datetime, till: int
    ) -> None:
        self.sell(person, trip, lines, at, till)

    @precondition(lambda self: any(s.trip is not None for s in self.sales))
    @rule(data=st.data(), lines=BASKETS, at=INSTANTS, till=st.integers(0, len(STORES) - 1))
    def sale_on_a_trip_with_purchases(
        self, data: st.DataObject, lines: list[tuple[str, int]], at: datetime, till: int
    ) -> None:
        """Another basket for a trip that already holds goods: the per-trip limits add up."""
        before = data.draw(st.sampled_from([s for s in self.sales if s.trip is not None]))
        self.sell(before.person, before.trip, lines, at, till)

    def sell(
        self, person: int, trip: int | None, lines: list[tuple[str, int]], at: datetime, till: int
    ) -> None:
        who = PEOPLE[person]
        basket = Basket(
            shopper=who.presented,
            trip=None if trip is None else who.trips[trip],
            pickup="departure",
            lines=tuple(LineInput(sku, quantity) for sku, quantity in lines),
        )
        expected = self.expected_violations(person, trip, lines, at)
        key = f"sm-{serial()}"
        terminal = self.terminals[till]
        before = _trace()
        try:
            result = sale_commit(
                terminal=terminal, idempotency_key=key, fingerprint=key, basket=basket, now=at
            )
        except PurchaseNotAllowed as refused:
            codes = {violation.code for violation in refused.verdict.violations}
            assert codes == expected, (codes, expected)
            assert _trace() == before, "a refused purchase left a trace"
            seen(f"sale: refused, {', '.join(sorted(codes))}")
            return
        assert not expected, f"allowed, but the model expected {expected}"
        seen("sale: made")
        assert not result.replayed
        sale = Sale.objects.select_related("store").get(pk=result.sale.pk)
        assert (sale.local_date, sale.local_date.year) == (
            at.astimezone(local(2026, 1, 1).tzinfo).date(),
            _year(at),
        )
        assert sale.total == _total(lines, CATALOGUE)
        made = self.record(sale, person=person, trip=trip, imported=False)
        made.key, made.basket, made.terminal, made.body = key, basket, terminal, result.body

    @precondition(lambda self: any(s.basket for s in self.sales))
    @rule(data=st.data(), other_request=st.booleans())
    def replay(self, data: st.DataObject, other_request: bool) -> None:
        """A retry with the key of a sale made before gets its first answer; the key with
        another request is refused. Neither writes anything."""
        made = data.draw(st.sampled_from([s for s in self.sales if s.basket]))
        before = _trace()
        if other_request:
            with pytest.raises(IdempotencyKeyReused):
                sale_commit(
                    terminal=made.terminal,  # type: ignore[arg-type]
                    idempotency_key=made.key,
                    fingerprint=made.key + "-other",
                    basket=made.basket,  # type: ignore[arg-type]
                    now=timezone.now(),
                )
            seen("replay: key reused for another request, refused")
        else:
            result = sale_commit(
                terminal=made.terminal,  # type: ignore[arg-type]
                idempotency_key=made.key,
                fingerprint=made.key,
                basket=made.basket,  # type: ignore[arg-type]
                now=timezone.now(),
            )
            assert result.replayed
            assert result.body == made.body
            seen("replay: the first answer")
        assert _trace() == before

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def give_back(self, data: st.DataObject) -> None:
        made = data.draw(st.sampled_from(self.sales))
        # Mostly a till of the sale's store; sometimes another store's (not found there).
        own = self.terminal_of(made.store)
        terminal = data.draw(st.sampled_from([own] * 4 + list(self.terminals)))
        chosen = data.draw(
            st.lists(st.sampled_from(made.lines), min_size=1, max_size=3, unique_by=lambda x: x.pk)
        )
        # At most what is left of each line; sometimes one more than that (refused).
        quantities = [
            data.draw(st.integers(1, line.left) if line.left else st.just(1)) for line in chosen
        ]
        if data.draw(st.sampled_from([False] * 4 + [True])):
            quantities[0] = chosen[0].left + 1
        asked = [(line.pk, q) for line, q in zip(chosen, quantities, strict=True)]
        if terminal.store.code != made.store:
            expected: type[Exception] | None = SaleNotFound
        elif made.status == "voided":
            expected = SaleVoided
        elif any(q > line.left for line, q in zip(chosen, quantities, strict=True)):
            expected = ReturnExceedsSale
        else:
            expected = None
        key = f"rt-{serial()}"
        before = _trace()

        def give() -> Answer:
            return sale_return(
                terminal=terminal,
                sale_id=made.pk,
                idempotency_key=key,
                fingerprint=key,
                lines=asked,
                reason="stateful",
                now=timezone.now(),
            )

        if expected is not None:
            with pytest.raises(expected):
                give()
            assert _trace() == before, "a refused return left a trace"
            seen(f"return: refused, {expected.__name__}")
            return
        answer = give()
        seen("return: done")
        amount = sum(
            (line.price * q for line, q in zip(chosen, quantities, strict=True)), Decimal("0.00")
        )
        assert Decimal(answer.body["amount"]) == amount
        for line, q in zip(chosen, quantities, strict=True):
            line.returned += q
        self.written = True

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        made = data.draw(st.sampled_from(self.sales))
        terminal = self.terminal_of(made.store)
        before = _trace()
        try:
            sale = sale_void(terminal=terminal, sale_id=made.pk, now=timezone.now())
        except SalePickedUp:
            assert made.picked_up, "refused, but the goods were not handed over"
            assert made.status == "completed"
            assert _trace() == before, "a refused void left a trace"
            seen("void: refused, picked up")
            return
        seen("void: again" if made.status == "voided" else "void: done")
        if made.status == "voided":
            assert _trace() == before, "voiding a voided sale changed something"
        assert not made.picked_up or made.status == "voided"
        assert sale.status == "voided"
        made.status = "voided"
        self.written = True

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def pickup(self, data: st.DataObject) -> None:
        made = data.draw(st.sampled_from(self.sales))
        before = _trace()
        try:
            sale_pickup(terminal=self.terminal_of(made.store), sale_id=made.pk, now=timezone.now())
        except SaleVoided:
            assert made.status == "voided"
            assert _trace() == before, "a refused pickup left a trace"
            seen("pickup: refused, voided")
            return
        seen("pickup: done")
        assert made.status == "completed"
        made.picked_up = True

    @rule(
        receipts=st.lists(
            st.tuples(
                st.integers(0, len(PEOPLE) - 1),
                TRIP_CHOICES,
                LEGACY_LINES,
                INSTANTS,
                st.sampled_from(sorted(set(STORES))),
            ),
            min_size=1,
            max_size=2,
        )
    )
    def import_legacy(self, receipts: list) -> None:
        """A small legacy CSV: imported sales consume quota (a receipt that would take its
        account over the limit is rejected whole) but are not judged."""
        catalogue = {**CATALOGUE, **LEGACY_ONLY}
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        numbered = []
        for person, trip, lines, at, store in receipts:
            receipt_no = f"LEG-{serial()}"
            numbered.append((receipt_no, person, trip, lines, at))
            who = PEOPLE[person]
            leg = None if trip is None else who.trips[trip]
            for sku, quantity in lines:
                writer.writerow(
                    {
                        "receipt_no": receipt_no,
                        "store_code": store,
                        "sold_at": at.isoformat(),
                        "doc_type": "resident_id",
                        "doc_number": who.presented.number,
                        "name": who.presented.name,
                        "birth_date": who.birth.isoformat(),
                        "hainan_resident": "false",
                        "trip_kind": leg.kind if leg else "",
                        "trip_mode": leg.mode if leg else "",
                        "carrier_ref": leg.carrier_ref if leg else "",
                        "departs_at": leg.departs_at.isoformat() if leg else "",
                        "pickup": "departure",
                        "sku": "" if sku in LEGACY_ONLY else sku,
                        "category_code": catalogue[sku][0],
                        "quantity": quantity,
                        "unit_price": catalogue[sku][1],
                    }
                )
        # The importer spends quota in the order the sales happened.
        accepted, rejected = [], 0
        spent: dict[tuple[int, int], Decimal] = {}
        for number, (receipt_no, person, trip, lines, at) in sorted(
            enumerate(numbered), key=lambda pair: (pair[1][4], pair[0])
        ):
            del number
            account = (person, _year(at))
            after = spent.get(account, self.used(*account)) + _total(lines, catalogue)
            if after > ANNUAL_LIMIT:
                rejected += 1
                continue
            spent[account] = after
            accepted.append((receipt_no, person, trip))
        before = _trace()
        report = import_sales(io.StringIO(out.getvalue()), now=timezone.now())
        assert (report.imported, report.rejected, report.skipped) == (
            len(accepted),
            rejected,
            0,
        ), report.errors
        assert all("quota" in error for error in report.errors), report.errors
        if not accepted:
            assert _trace() == before, "a rejected receipt left a trace"
        seen(f"import: {len(accepted)} accepted, {rejected} rejected")
        for receipt_no, person, trip in accepted:
            sale = Sale.objects.select_related("store").get(receipt_no=receipt_no)
            assert sale.imported
            self.record(sale, person=person, trip=trip, imported=True)

    @precondition(lambda self: self.written)
    @rule()
    def refresh(self) -> None:
        rollups.refresh_all_dirty(now=timezone.now())
        assert books.dirty_slices() == 0
        seen("refresh")
        self.written = False

    # -- after every step ----------------------------------------------------------------------
    @invariant()
    def books_balance(self) -> None:
        report = books.check_books()
        assert report.differences == [], report.differences
        if report.notes:
            seen("books: a trip over a limit through imported sales (a note)")

    @invariant()
    def no_account_over_its_limit_and_the_model_agrees(self) -> None:
        assert not QuotaAccount.objects.filter(used__gt=F("limit")).exists()
        assert not QuotaAccount.objects.filter(used__lt=0).exists()
        stored = {
            (key, year): used
            for key, year, used in QuotaAccount.objects.values_list(
                "shopper__document_key", "year", "used"
            )
        }
        for person, who in enumerate(PEOPLE):
            for year in (2025, 2026):
                expected = self.used(person, year)
                found = stored.get((who.presented.document_key, year))
                assert (found if found is not None else Decimal("0.00")) == expected, (
                    person,
                    year,
                )

    @invariant()
    def judged_sales_never_hold_more_than_a_trip_allows(self) -> None:
        for person in range(len(PEOPLE)):
            for trip in (0, 1):
                for category, (_, cap) in LIMITS.items():
                    assert self.held(person, trip, category, judged_only=True) <= cap


@pytest.fixture
def shop(transactional_db: None) -> tuple[Terminal, ...]:
    for sku, (category, price, ml, pieces) in CATALOGUE.items():
        support.product(sku, category, price, volume_ml=ml, pieces=pieces)
    return tuple(
        Terminal.objects.select_related("store").get(pk=support.terminal(store)[0].pk)
        for store in STORES
    )


def test_the_books_balance_after_every_step(shop: tuple[Terminal, ...]) -> None:
    BooksMachine.terminals = shop
    SEEN.clear()
    run_state_machine_as_test(
        BooksMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print("\n".join(f"{n:5d}  {what}" for what, n in sorted(SEEN.items())))
    assert SEEN["sale: made"] > 0
