"""Day groups of the stats answer add up to the totals under every alignment, and each day
names the previous day it is compared with, or none, so a chart never drops a day: a period
starting on 29 February lost its previous day, and the longer of two Spring Festival windows
lost its last days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shops.reporting import rollups
from shops.reporting.stats import sales_stats, spring_festival_holiday
from tests import support
from tests.conftest import local

AFTER = timedelta(hours=30)  # each sale's departure

pytestmark = pytest.mark.django_db


def grouped_previous(body: dict) -> Decimal:
    return sum((Decimal(g["previous_amount"]) for g in body["groups"]), Decimal("0"))


def test_the_longer_spring_festival_window_folds_into_the_last_day() -> None:
    support.product("SF-LIP", "cosmetics", "100.00")
    htb, _ = support.terminal("SYA-HTB")
    window_2027, window_2026 = spring_festival_holiday(2027), spring_festival_holiday(2026)
    assert (window_2026.days, window_2027.days) == (9, 8)
    support.sell(
        htb, ("SF-LIP", 1), number=1, at=local(2026, 2, 23, 12), departs_after=AFTER
    )  # the 2026 window's 9th day
    rollups.refresh_all_dirty(now=timezone.now())
    body = sales_stats(
        start=window_2027.start, end=window_2027.end, group_by="day", align="spring_festival"
    )
    assert body["previous"] == {"start": "2026-02-15", "end": "2026-02-23"}
    assert body["totals"]["previous_amount"] == "100.00"
    assert grouped_previous(body) == Decimal("100.00")
    last = body["groups"][-1]
    assert (last["key"], last["previous_key"], last["previous_amount"]) == (
        window_2027.end.isoformat(),
        "2026-02-22",
        "100.00",
    )


def test_a_day_beyond_the_shorter_previous_window_names_no_previous_day() -> None:
    window_2026, window_2025 = spring_festival_holiday(2026), spring_festival_holiday(2025)
    body = sales_stats(
        start=window_2026.start, end=window_2026.end, group_by="day", align="spring_festival"
    )
    keys = [g["previous_key"] for g in body["groups"]]
    assert keys[: window_2025.days] == [
        (window_2025.start + timedelta(days=n)).isoformat() for n in range(window_2025.days)
    ]
    assert keys[window_2025.days :] == [None] * (window_2026.days - window_2025.days)


def test_a_period_starting_on_29_february_keeps_its_previous_day() -> None:
    support.product("FEB-LIP", "cosmetics", "100.00")
    htb, _ = support.terminal("SYA-HTB")
    support.sell(htb, ("FEB-LIP", 3), number=1, at=local(2027, 2, 28, 12), departs_after=AFTER)
    rollups.refresh_all_dirty(now=timezone.now())
    body = sales_stats(start=date(2028, 2, 29), end=date(2028, 2, 29), group_by="day")
    assert body["previous"] == {"start": "2027-02-28", "end": "2027-02-28"}
    [group] = body["groups"]
    assert (group["previous_key"], group["previous_amount"]) == ("2027-02-28", "300.00")


def test_28_and_29_february_do_not_count_the_same_previous_day_twice() -> None:
    support.product("FEB-LIP", "cosmetics", "100.00")
    htb, _ = support.terminal("SYA-HTB")
    support.sell(htb, ("FEB-LIP", 2), number=1, at=local(2027, 2, 28, 12), departs_after=AFTER)
    rollups.refresh_all_dirty(now=timezone.now())
    body = sales_stats(start=date(2028, 2, 27), end=date(2028, 3, 1), group_by="day")
    by_day = {g["key"]: g for g in body["groups"]}
    assert by_day["2028-02-28"]["previous_key"] == "2027-02-28"
    assert by_day["2028-02-28"]["previous_amount"] == "200.00"
    assert by_day["2028-02-29"]["previous_key"] is None
    assert by_day["2028-02-29"]["previous_amount"] == "0.00"
    assert grouped_previous(body) == Decimal(body["totals"]["previous_amount"]) == Decimal("200")


@pytest.mark.parametrize("align", ["calendar", "weekday", "spring_festival"])
def test_day_groups_add_up_to_the_totals(align: str) -> None:
    support.product("ALL-LIP", "cosmetics", "10.00")
    htb, _ = support.terminal("SYA-HTB")
    for n in range(0, 400, 7):  # a sale every week from early 2027 to 2028
        support.sell(
            htb,
            ("ALL-LIP", 1 + n % 3),
            number=n,
            at=local(2027, 1, 3, 12) + timedelta(days=n),
            departs_after=AFTER,
        )
    rollups.refresh_all_dirty(now=timezone.now())
    window = spring_festival_holiday(2028)
    start, end = (
        (window.start, window.end)
        if align == "spring_festival"
        else (date(2028, 1, 10), date(2028, 3, 20))
    )
    body = sales_stats(start=start, end=end, group_by="day", align=align)
    assert grouped_previous(body) == Decimal(body["totals"]["previous_amount"])
    current = sum((Decimal(g["amount"]) for g in body["groups"]), Decimal("0"))
    assert current == Decimal(body["totals"]["amount"])
