"""Judging recorded sales again under another policy version, with the pure rules.

Each completed sale of the window is judged by :func:`quotas.rules.judge_basket` as of its own
time, with the shopper as recorded with it (age then, residence, traveller kind, and the bans
in force then), its trip, pickup and lines (their snapshot of the product when sold), and the
usage the shopper and the trip had just before it, as recorded: the year's quota used before it
(the account's used after the sale, less its total) and, for its trip, every earlier sale of the
trip still held at that moment (not voided by then, net of the returns made by then), counted
under the previewed version (:func:`quotas.rules.usage_held`). Nothing here reads or writes the
database: :mod:`shops.previews.reading` brings the sales.

Sales recorded before the age and residence were kept with each sale are judged with the oldest
age the shopper's year of birth allows (the year of the sale less the year of birth: the preview
never invents an under-age refusal) and the residence on the shopper's row; the result counts
them (``approximated``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dutyfree import money
from quotas import rules
from quotas.rules import LOCAL_TZ, PolicyRules
from shops.previews.reading import RecordedSale

# How many refused receipts the result names (the earliest ones).
EXAMPLES = 20


@dataclass(slots=True)
class Tally:
    sales: int = 0
    lines: int = 0
    amount: Decimal = money.ZERO

    def add(self, *, sales: int, lines: int, amount: Decimal) -> None:
        self.sales += sales
        self.lines += lines
        self.amount += amount

    def as_json(self) -> dict[str, Any]:
        return {"sales": self.sales, "lines": self.lines, "amount": str(self.amount)}


@dataclass
class Judged:
    """What a preview found so far."""

    seen: Tally = field(default_factory=Tally)
    refused: Tally = field(default_factory=Tally)
    by_code: dict[str, Tally] = field(default_factory=dict)
    by_category: dict[str, Tally] = field(default_factory=dict)
    by_store: dict[int, Tally] = field(default_factory=dict)
    imported: int = 0  # judged sales from a legacy system (never judged by this engine)
    imported_refused: int = 0
    approximated: int = 0  # judged with the age and residence approximated (module docstring)
    # The earliest refused sales: a max-heap of (-time, -id, example) bounded by EXAMPLES.
    _examples: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)

    def examples(self) -> list[dict[str, Any]]:
        return [example for _, _, example in sorted(self._examples, reverse=True)]


def _approximated(sale: RecordedSale) -> bool:
    """Recorded before the age and residence were kept with each sale (module docstring)."""
    return sale.shopper_age is None or sale.shopper_resident is None


def _shopper(sale: RecordedSale) -> rules.ShopperFacts:
    """The shopper as recorded with ``sale``."""
    day = rules.local_date(sale.sold_at)
    age = sale.shopper_age if sale.shopper_age is not None else day.year - sale.birth_year
    resident = sale.shopper_resident if sale.shopper_resident is not None else sale.hainan_resident
    return rules.ShopperFacts(
        birth_date=_born(age, day),
        hainan_resident=resident,
        banned_from=sale.banned_from,
        banned_until=sale.banned_until,
        outbound_record_this_year=bool(sale.outbound),
    )


def _born(age: int, day: date) -> date:
    """A birth date by which a person is exactly ``age`` on ``day`` (the birthday that day; on
    29 February of a year that has none, the day before)."""
    year = max(day.year - age, 1)
    try:
        return day.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _trip(sale: RecordedSale) -> rules.TripFacts | None:
    if sale.trip_id is None or sale.departs_at is None:
        return None
    departed = sale.departed_at
    return rules.TripFacts(
        kind=sale.traveller_kind,
        mode=sale.trip_mode or "",
        departs_at=sale.departs_at,
        # A departure recorded after the sale was not known to it.
        departed_at=departed if departed is not None and departed <= sale.sold_at else None,
    )


def _held(earlier: Iterable[RecordedSale], at: datetime) -> Iterator[rules.HeldLine]:
    """What ``earlier`` sales of a trip still held at ``at``: not voided by then, net of the
    returns made by then."""
    for sale in earlier:
        if sale.voided_at is not None and sale.voided_at <= at:
            continue
        for line in sale.lines:
            returned = sum(q for when, q in line.returns or () if when <= at)
            yield rules.HeldLine(
                pickup=sale.pickup, product=line.product, quantity=line.quantity - returned
            )


def judge_sale(
    *, policy: PolicyRules, sale: RecordedSale, earlier: Iterable[RecordedSale], physical: bool
) -> rules.Verdict:
    """``sale`` judged under ``policy`` as of its own time (module docstring); ``earlier``: the
    sales of its trip recorded before it."""
    trip = _trip(sale)
    used_before = sale.quota_used_after - sale.total
    held = _held(earlier, sale.sold_at) if trip is not None else ()
    return rules.judge_basket(
        policy=policy,
        shopper=_shopper(sale),
        trip=trip,
        pickup=sale.pickup,
        lines=[
            rules.BasketLine(sku=line.product.sku, quantity=line.quantity, product=line.product)
            for line in sale.lines
        ],
        usage=rules.usage_held(policy=policy, annual_used=used_before, held=held),
        at=sale.sold_at,
        physical_store=physical,
    )


def _record(judged: Judged, sale: RecordedSale, verdict: rules.Verdict, store: str) -> None:
    lines = len(sale.lines)
    judged.seen.add(sales=1, lines=lines, amount=sale.total)
    if sale.imported:
        judged.imported += 1
    if _approximated(sale):
        judged.approximated += 1
    if not verdict.violations:
        return
    if sale.imported:
        judged.imported_refused += 1
    judged.refused.add(sales=1, lines=lines, amount=sale.total)
    codes = sorted({violation.code for violation in verdict.violations})
    for code in codes:
        judged.by_code.setdefault(code, Tally()).add(sales=1, lines=lines, amount=sale.total)
    judged.by_store.setdefault(sale.store_id, Tally()).add(sales=1, lines=lines, amount=sale.total)
    by_category: dict[str, Tally] = {}
    for line in sale.lines:
        by_category.setdefault(line.product.category_code, Tally()).add(
            sales=0, lines=1, amount=line.amount
        )
    for code, tally in by_category.items():
        judged.by_category.setdefault(code, Tally()).add(
            sales=1, lines=tally.lines, amount=tally.amount
        )
    key = (-sale.sold_at.timestamp(), -sale.id)
    if len(judged._examples) < EXAMPLES or key > judged._examples[0][:2]:
        example = {
            "receipt_no": sale.receipt_no,
            "sold_at": sale.sold_at.astimezone(LOCAL_TZ).isoformat(),
            "store": store,
            "amount": str(sale.total),
            "imported": sale.imported,
            "codes": codes,
        }
        entry = (*key, example)
        if len(judged._examples) < EXAMPLES:
            heapq.heappush(judged._examples, entry)
        else:
            heapq.heapreplace(judged._examples, entry)


def judge_all(
    *,
    policy: PolicyRules,
    sales: Iterable[RecordedSale],
    stores: dict[int, tuple[str, bool]],
    progress: Callable[[int], None] = lambda done: None,
    every: int = 1_000,
) -> Judged:
    """Judge every ``judged`` sale of ``sales`` (trip by trip, in time order: shops.previews.
    reading) under ``policy``. ``stores``: each store id's (code, physical). ``progress`` is told
    the number of sales judged every ``every`` sales."""
    judged = Judged()
    trip_id: int | None = None
    earlier: list[RecordedSale] = []
    done = 0
    for sale in sales:
        if sale.trip_id != trip_id or sale.trip_id is None:
            trip_id, earlier = sale.trip_id, []
        if sale.judged:
            code, physical = stores[sale.store_id]
            verdict = judge_sale(policy=policy, sale=sale, earlier=earlier, physical=physical)
            _record(judged, sale, verdict, code)
            done += 1
            if done % every == 0:
                progress(done)
        if sale.trip_id is not None:
            earlier.append(sale)
    progress(done)
    return judged
