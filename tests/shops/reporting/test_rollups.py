"""Rollups equal their source, whatever order sales, returns, voids and refreshes come in;
distinct counts are exact over any range; a failed refresh leaves nothing half done."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from quotas.services import departure_record
from shops.models import DailyCategorySales, DailyStoreSales, DirtyDay, SaleLine
from shops.pos import returns
from shops.reporting import rollups
from shops.reporting.stats import sales_stats
from tests import support
from tests.conftest import local


@pytest.fixture
def stock(db: None) -> None:
    support.product("R-LIP", "cosmetics", "300.00", immediate_kind="cosmetics")
    support.product("R-SET", "cosmetics", "1000.00", pieces=5, immediate_kind="cosmetics")
    support.product("R-WATCH", "watches", "8000.00")


def sell(terminal, *lines, number: int = 1, at, departs=None, pickup="departure", resident=False):
    """A sale at ``at`` departing 20 hours later unless said, or without a trip
    (``departs=False``, then taken away by ``pickup``)."""
    who = support.shopper(support.resident_id(number), resident=resident)
    if departs is False:
        return support.sell(terminal, *lines, at=at, who=who, no_trip=True, pickup=pickup).sale
    departs_at = departs or at + timedelta(hours=20)
    return support.sell(terminal, *lines, at=at, who=who, departs_at=departs_at).sale


def source_figures() -> dict[tuple, tuple[Decimal, int, int]]:
    """What the category rollup must hold, computed naively from the sales."""
    found: dict[tuple, list] = defaultdict(lambda: [Decimal("0.00"), 0, set()])
    for line in SaleLine.objects.select_related("sale").filter(sale__status="completed"):
        sale = line.sale
        key = (sale.local_date, sale.store_id, line.category_code, sale.traveller_kind)
        net = line.quantity - line.returned_quantity
        found[key][0] += net * line.unit_price
        found[key][1] += net * line.pieces
        found[key][2].add(sale.pk)
    return {key: (v[0], v[1], len(v[2])) for key, v in found.items()}


def rollup_figures() -> dict[tuple, tuple[Decimal, int, int]]:
    return {
        (r.day, r.store_id, r.category_code, r.traveller_kind): (r.amount, r.items, r.sales)
        for r in DailyCategorySales.objects.all()
    }


def test_refresh_folds_sales_returns_and_voids_by_the_sales_own_day(stock: None) -> None:
    htb, _ = support.terminal("SYA-HTB")
    air, _ = support.terminal("SYA-AIR")
    first = sell(htb, ("R-LIP", 2), ("R-SET", 1), at=local(2026, 3, 1, 10))
    sell(air, ("R-WATCH", 1), number=2, at=local(2026, 3, 1, 23, 50))
    voided = sell(htb, ("R-LIP", 1), number=3, at=local(2026, 3, 2, 0, 10))
    rollups.refresh_all_dirty(now=timezone.now())
    assert rollup_figures() == source_figures()
    assert not DirtyDay.objects.exists()

    # A return a week later counts against 1 March; a void removes the sale entirely.
    returns.sale_return(
        terminal=htb,
        sale_id=first.pk,
        lines=[(first.lines.get(sku="R-LIP").pk, 1)],
        reason="",
        idempotency_key="ret-1",
        fingerprint="ret-1",
        now=local(2026, 3, 8, 12),
    )
    returns.sale_void(terminal=htb, sale_id=voided.pk, now=local(2026, 3, 2, 9))
    assert DirtyDay.objects.filter(day=date(2026, 3, 1)).exists()
    rollups.refresh_all_dirty(now=timezone.now())

    figures = rollup_figures()
    assert figures == source_figures()
    assert figures[(date(2026, 3, 1), htb.store_id, "cosmetics", "domestic")] == (
        Decimal("1300.00"),
        6,
        1,
    )
    assert not [key for key in figures if key[0] == date(2026, 3, 2)]
    day = DailyStoreSales.objects.get(day=date(2026, 3, 1), store_id=htb.store_id)
    assert (day.amount, day.items, day.sales) == (Decimal("1300.00"), 6, 1)


def test_a_refresh_twice_or_a_rebuild_gives_the_same_rollups(stock: None) -> None:
    htb, _ = support.terminal("SYA-HTB")
    for n in range(6):
        sell(htb, ("R-LIP", 1 + n % 3), number=n, at=local(2026, 4, 1 + n % 3, 12))
    rollups.refresh_all_dirty(now=timezone.now())
    once = (rollup_figures(), _store_rows())
    DirtyDay.objects.create(
        day=date(2026, 4, 2), store_id=htb.store_id, marked_at=local(2026, 4, 5)
    )
    rollups.refresh_all_dirty(now=timezone.now())
    assert (rollup_figures(), _store_rows()) == once
    rollups.rebuild(start=date(2026, 3, 25), end=date(2026, 4, 30), step_days=7, now=timezone.now())
    assert (rollup_figures(), _store_rows()) == once
    out = io.StringIO()
    call_command("rebuild_stats", stdout=out)  # everything, in one transaction
    assert "Rebuilt all days" in out.getvalue()
    assert (rollup_figures(), _store_rows()) == once
    call_command("rebuild_stats", "--start", "2026-04-02", "--end", "2026-04-02", stdout=out)
    assert (rollup_figures(), _store_rows()) == once


def _store_rows() -> dict:
    return {
        (r.day, r.store_id, r.traveller_kind): (
            r.amount,
            r.items,
            r.sales,
            sorted(rollups.bitmap(r.shoppers)),
            sorted(rollups.bitmap(r.trips)),
        )
        for r in DailyStoreSales.objects.all()
    }


def test_a_refresh_that_fails_half_way_changes_nothing_and_keeps_its_marks(stock: None) -> None:
    htb, _ = support.terminal("SYA-HTB")
    sell(htb, ("R-LIP", 1), at=local(2026, 5, 1, 12))
    rollups.refresh_all_dirty(now=timezone.now())
    before = rollup_figures()
    sell(htb, ("R-WATCH", 1), number=2, at=local(2026, 5, 1, 13))
    marks = DirtyDay.objects.count()

    with (
        mock.patch.object(rollups, "_store_sets", side_effect=RuntimeError("worker killed")),
        pytest.raises(RuntimeError),
    ):
        rollups.refresh_dirty(now=timezone.now())

    assert rollup_figures() == before  # the slice's delete was rolled back too
    assert DirtyDay.objects.count() == marks
    rollups.refresh_all_dirty(now=timezone.now())
    assert rollup_figures() == source_figures()


def test_a_refresh_reads_a_batch_and_leaves_the_other_marks(stock: None) -> None:
    htb, _ = support.terminal("SYA-HTB")
    sell(htb, ("R-LIP", 1), at=local(2026, 6, 1, 12))
    sell(htb, ("R-LIP", 1), number=2, at=local(2026, 6, 2, 12))
    first = rollups.refresh_dirty(limit=1, now=timezone.now())
    assert (first.marks, first.slices) == (1, 1)
    assert DirtyDay.objects.count() == 1
    assert DailyStoreSales.objects.filter(day=date(2026, 6, 1)).exists()
    assert not DailyStoreSales.objects.filter(day=date(2026, 6, 2)).exists()
    rollups.refresh_all_dirty(now=timezone.now())
    assert DailyStoreSales.objects.filter(day=date(2026, 6, 2)).exists()


def test_distinct_shoppers_and_shopper_trips_are_exact_over_any_range(stock: None) -> None:
    htb, _ = support.terminal("SYA-HTB")
    air, _ = support.terminal("SYA-AIR")
    departs = local(2026, 7, 3, 10)
    # Shopper 1: one trip, buying on 1 and 2 July in two stores → 1 人次, 1 shopper.
    sell(htb, ("R-LIP", 1), number=1, at=local(2026, 7, 1, 12), departs=departs)
    sell(air, ("R-LIP", 1), number=1, at=local(2026, 7, 2, 12), departs=departs)
    # Shopper 2: two trips → 2 人次.
    sell(htb, ("R-LIP", 1), number=2, at=local(2026, 7, 1, 12), departs=departs)
    sell(htb, ("R-LIP", 1), number=2, at=local(2026, 7, 10, 12))
    # Shopper 3, a resident with an off-island record, no trip, buys on two days → 2 人次.
    resident_sales = _resident_tripless(htb)
    rollups.refresh_all_dirty(now=timezone.now())

    def totals(start: date, end: date) -> dict:
        return sales_stats(start=start, end=end)["totals"]

    july = totals(date(2026, 7, 1), date(2026, 7, 31))
    assert (july["shoppers"], july["shopper_trips"], july["sales"]) == (
        2 + resident_sales.shoppers,
        3 + resident_sales.trips,
        4 + resident_sales.sales,
    )
    first_two_days = totals(date(2026, 7, 1), date(2026, 7, 2))
    assert (first_two_days["shoppers"], first_two_days["shopper_trips"]) == (2, 2)
    # The sum of daily counts would say 3 shoppers and 3 人次 for these two days.
    daily = [totals(date(2026, 7, d), date(2026, 7, d)) for d in (1, 2)]
    assert sum(d["shopper_trips"] for d in daily) == 3


class _Resident:
    shoppers = 0
    trips = 0
    sales = 0


def _resident_tripless(terminal) -> _Resident:
    """A Hainan resident with an off-island record buys without a trip on two days (immediate
    pickup): each day is one 人次."""
    found = _Resident()
    sell(terminal, ("R-LIP", 1), number=3, at=local(2026, 5, 1, 9), departs=local(2026, 5, 2, 9))
    departure_record(
        doc_type="resident_id",
        country="CHN",
        number=support.resident_id(3),
        carrier_ref="HU7181",
        departed_at=local(2026, 5, 2, 9),
        now=local(2026, 5, 2, 9),
    )
    for day in (20, 21):
        sale = sell(
            terminal,
            ("R-LIP", 1),
            number=3,
            at=local(2026, 7, day, 12),
            departs=False,
            pickup="immediate",
            resident=True,
        )
        assert sale.trip_id is None
        found.sales += 1
    found.shoppers, found.trips = 1, 2
    return found


def test_a_sale_near_local_midnight_lands_on_its_local_day(stock: None) -> None:
    htb, _ = support.terminal("SYA-HTB")
    sale = sell(htb, ("R-LIP", 1), at=local(2026, 1, 1, 0, 30))  # 2025-12-31T16:30Z
    rollups.refresh_all_dirty(now=timezone.now())
    assert sale.local_date == date(2026, 1, 1)
    assert sales_stats(start=date(2026, 1, 1), end=date(2026, 1, 1))["totals"]["sales"] == 1
    assert sales_stats(start=date(2025, 12, 31), end=date(2025, 12, 31))["totals"]["sales"] == 0
