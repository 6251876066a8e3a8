"""Year-on-year sales figures from the rollups (contract: API.md, ``/api/v1/stats/sales``).

A period [start, end] (local dates, inclusive) is compared with a previous one:
- ``calendar`` (default): the same dates one year earlier (29 February → 28 February);
- ``weekday``: 364 days earlier, so weekdays line up;
- ``spring_festival``: the same place in the previous lunar year, counted from the start of
  the official Spring Festival holiday (chinese-calendar; 正月初一 from lunardate where the
  holiday is not yet announced); the holiday window itself is compared with last year's.

Grouped by day or month, each of the previous period's days joins the group of the day it is
compared with, so the groups of the previous period add up to its totals.

Growth percentages are rounded half-up to one decimal, ``None`` where the previous value is 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

import chinese_calendar
from django.db.models import Sum
from django.utils.translation import gettext
from lunardate import LunarDate
from pydantic import Field
from pyroaring import BitMap

from dutyfree import money
from dutyfree.answers import MISSING, Absent, Answer, LocalTime, Money
from shops.models import DailyCategorySales, DailyStoreSales, Store
from shops.reporting.rollups import as_of, bitmap

GROUPS = ("day", "month", "store", "category", "traveller_kind")
ALIGNS = ("calendar", "weekday", "spring_festival")
if TYPE_CHECKING:
    Group: TypeAlias = str
    Align: TypeAlias = str
else:
    Group = Literal[GROUPS]
    Align = Literal[ALIGNS]
MAX_DAYS = 366 * 5
# Dates the statistics answer for: the Spring Festival of every year in between is known
# (lunardate: 1900-2099), and a previous period exists for each.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
ZERO = Decimal("0.00")


class StatsError(ValueError):
    """A request the statistics cannot answer (bad range, group or alignment); ``field`` names
    the parameter at fault, where one is."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def check_period(start: date, end: date) -> None:
    """The one check of a period the statistics answer for (the API, the dashboard and its
    export): in order, between :data:`FIRST_DAY` and :data:`LAST_DAY`, at most
    :data:`MAX_DAYS` days.

    :raises StatsError: naming the field at fault, in the request's language.
    """
    if end < start:
        raise StatsError(gettext("end is before start."), field="end", code="end_before_start")
    for field, day in (("start", start), ("end", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise StatsError(
                gettext("Dates from %(first)s to %(last)s.")
                % {"first": FIRST_DAY, "last": LAST_DAY},
                field=field,
                code="out_of_range",
            )
    if (end - start).days >= MAX_DAYS:
        raise StatsError(
            gettext("A period covers at most %(days)s days.") % {"days": MAX_DAYS},
            field="end",
            code="too_long",
        )


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def spring_festival(year: int) -> date:
    """正月初一 of the lunar year that starts in this Gregorian year."""
    return LunarDate(year, 1, 1).to_solar_date()


def spring_festival_holiday(year: int) -> Period:
    """The official Spring Festival holiday of ``year`` (chinese-calendar: the State Council's
    announcements); for a year it does not know yet, Lunar New Year's Eve + 7 days."""
    new_year = spring_festival(year)
    try:
        days = [
            day
            for day in (new_year + timedelta(days=offset) for offset in range(-10, 14))
            if chinese_calendar.get_holiday_detail(day)
            == (True, chinese_calendar.Holiday.spring_festival.value)
        ]
    except NotImplementedError:
        days = []
    if not days:
        return Period(new_year - timedelta(days=1), new_year + timedelta(days=6))
    return Period(min(days), max(days))


@dataclass(frozen=True)
class Alignment:
    """A period, the previous one it is compared with, and how days map between them."""

    period: Period
    previous: Period
    align: str

    def back(self, day: date) -> date:
        """The previous period's day that ``day`` is compared with."""
        if self.align == "calendar":
            return year_earlier(day)
        if self.align == "weekday":
            return day - timedelta(days=364)
        return self.previous.start + (day - self.period.start)

    @cached_property
    def _partners(self) -> dict[date, date]:
        """Each previous day → the current day it is grouped with: the inverse of
        :meth:`back` over the period (the first current day where two name the same previous
        day, as 28 and 29 February both do); a previous day no current day names (29
        February a year back, the longer of two Spring Festival windows) goes to the current
        day whose own previous day is nearest, so that the groups add up to the totals."""
        days = [self.period.start + timedelta(days=n) for n in range(self.period.days)]
        partners: dict[date, date] = {}
        for day in days:
            earlier = self.back(day)
            if self.previous.start <= earlier <= self.previous.end:
                partners.setdefault(earlier, day)
        for n in range(self.previous.days):
            earlier = self.previous.start + timedelta(days=n)
            if earlier not in partners:
                partners[earlier] = min(days, key=lambda d: (abs(self.back(d) - earlier), d))
        return partners

    def forward(self, day: date) -> date:
        """The current period's day whose group a previous period's ``day`` is counted in."""
        return self._partners[day]

    def previous_key(self, day: date) -> date | None:
        """The previous day shown beside ``day``: the one it is compared with, or ``None``
        when that day is outside the previous period or already shown beside another day."""
        earlier = self.back(day)
        return earlier if self._partners.get(earlier) == day else None


def _lunar_year_of(day: date) -> int:
    """The year whose Spring Festival holiday most recently began on or before ``day``."""
    return day.year if day >= spring_festival_holiday(day.year).start else day.year - 1


def align_periods(period: Period, align: str) -> Alignment:
    """The previous period: the same calendar dates (29 February → 28 February), 364 days
    earlier, or the same place in the previous lunar year counted from the official Spring
    Festival holiday; the holiday window itself is compared with last year's window."""
    if align == "calendar":
        previous = Period(year_earlier(period.start), year_earlier(period.end))
    elif align == "weekday":
        previous = Period(period.start - timedelta(days=364), period.end - timedelta(days=364))
    elif align == "spring_festival":
        year = _lunar_year_of(period.start)
        window, last_window = spring_festival_holiday(year), spring_festival_holiday(year - 1)
        if period == window:
            previous = last_window
        else:
            start = last_window.start + (period.start - window.start)
            previous = Period(start, start + timedelta(days=period.days - 1))
    else:
        raise StatsError(f"align must be one of {', '.join(ALIGNS)}.")
    return Alignment(period, previous, align)


def previous_period(period: Period, align: str) -> Period:
    return align_periods(period, align).previous


def growth(current: Decimal | int, previous: Decimal | int) -> str | None:
    if not previous:
        return None
    pct = (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)
    rounded = pct.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return str(abs(rounded) if rounded.is_zero() else rounded)  # a fall under 0.05 %: "0.0"


@dataclass
class Figures:
    amount: Decimal = ZERO
    items: int = 0
    sales: int = 0
    shopper_count: int = 0
    shopper_trips: int = 0


class _Collector:
    """Sums, and the serialised sets of one group, united once at the end (one C call per
    set: far cheaper than row-by-row unions)."""

    __slots__ = ("amount", "items", "sales", "shoppers", "tripless", "trips")

    def __init__(self) -> None:
        self.amount, self.items, self.sales = ZERO, 0, 0
        self.shoppers: list[bytes] = []
        self.trips: list[bytes] = []
        self.tripless: dict[date, list[bytes]] = defaultdict(list)

    def figures(self) -> Figures:
        def union(blobs: list[bytes]) -> BitMap:
            return BitMap.union(*(bitmap(blob) for blob in blobs)) if blobs else BitMap()

        trips = len(union(self.trips)) + sum(len(union(blobs)) for blobs in self.tripless.values())
        return Figures(
            amount=self.amount,
            items=self.items,
            sales=self.sales,
            shopper_count=len(union(self.shoppers)),
            shopper_trips=trips,
        )


_EMPTY = BitMap().serialize()

# Which stores' sales count: their ids, or None for every store.
Stores: TypeAlias = Collection[int] | None


def _of_stores(manager: Any, stores: Stores) -> Any:
    return manager.all() if stores is None else manager.filter(store_id__in=stores)


def _by_store_level(period: Period, key_of: Any, stores: Stores) -> dict[Any, Figures]:
    """Figures grouped by a key of (day, store code, traveller kind); None → totals only."""
    codes = dict(Store.objects.values_list("id", "code"))
    collectors: dict[Any, _Collector] = defaultdict(_Collector)
    rows = _of_stores(DailyStoreSales.objects, stores).filter(
        day__range=(period.start, period.end)
    ).values_list(
        "day", "store_id", "traveller_kind", "amount", "items", "sales", "shoppers", "trips",
        "tripless_shoppers",
    )  # fmt: skip
    for day, store, kind, amount, items, sales, shoppers, trips, tripless in rows.iterator(
        chunk_size=5000
    ):
        shoppers, trips, tripless = bytes(shoppers), bytes(trips), bytes(tripless)
        group = key_of(day, codes.get(store, str(store)), kind)
        for key in (None, group) if group is not None else (None,):
            entry = collectors[key]
            entry.amount += amount
            entry.items += items
            entry.sales += sales
            entry.shoppers.append(shoppers)
            if trips != _EMPTY:
                entry.trips.append(trips)
            if tripless != _EMPTY:
                entry.tripless[day].append(tripless)
    return {key: collector.figures() for key, collector in collectors.items()}


def _by_category(period: Period, stores: Stores) -> dict[str, Figures]:
    figures: dict[str, Figures] = defaultdict(Figures)
    rows = (
        _of_stores(DailyCategorySales.objects, stores)
        .filter(day__range=(period.start, period.end))
        .values("category_code")
        .annotate(amount=Sum("amount"), items=Sum("items"), sales=Sum("sales"))
    )
    for row in rows:
        entry = figures[row["category_code"]]
        entry.amount, entry.items, entry.sales = row["amount"], row["items"], row["sales"]
    return figures


def _same(day: date) -> date:
    return day


def _figures(
    period: Period, group_by: str | None, stores: Stores, to_current: Any = _same
) -> tuple[Figures, dict[Any, Figures], bool]:
    """Totals and groups. ``to_current`` maps a day to the current period's day whose group it
    joins (the previous period's days are grouped under the days they are compared with).
    Returns whether the groups carry distinct counts."""
    if group_by == "category":
        totals = _by_store_level(period, lambda day, store, kind: None, stores).get(None, Figures())
        return totals, _by_category(period, stores), False
    key_of = {
        None: lambda day, store, kind: None,
        "day": lambda day, store, kind: to_current(day),
        "month": lambda day, store, kind: to_current(day).strftime("%Y-%m"),
        "store": lambda day, store, kind: store,
        "traveller_kind": lambda day, store, kind: kind,
    }[group_by]
    figures = _by_store_level(period, key_of, stores)
    totals = figures.pop(None, Figures())
    return totals, figures, True


def _pair(name: str, current: Any, previous: Any) -> dict[str, Any]:
    return {
        name: current,
        f"previous_{name}": previous,
        f"{name}_yoy_pct": growth(current, previous),
    }


def _block(current: Figures, previous: Figures, *, distinct: bool) -> dict[str, Any]:
    body = {
        **_pair("amount", current.amount, previous.amount),
        **_pair("items", current.items, previous.items),
        **_pair("sales", current.sales, previous.sales),
    }
    if distinct:
        body |= _pair("shopper_trips", current.shopper_trips, previous.shopper_trips)
        body |= _pair("shoppers", current.shopper_count, previous.shopper_count)
        trips, previous_trips = current.shopper_trips, previous.shopper_trips
        body |= _pair(
            "average_spend",
            money.quantize(current.amount / trips) if trips else ZERO,
            money.quantize(previous.amount / previous_trips) if previous_trips else ZERO,
        )
    return body


# --- The answer ------------------------------------------------------------------------------
Growth = Annotated[
    str | None, Field(description="Year on year, in per cent, one decimal; null: nothing before.")
]


class PeriodOut(Answer):
    start: date
    end: date


class FiguresOut(Answer):
    """Each figure with its ``previous_*`` twin and its growth, ``*_yoy_pct``."""

    amount: Money
    previous_amount: Money
    amount_yoy_pct: Growth
    items: int
    previous_items: int
    items_yoy_pct: Growth
    sales: int
    previous_sales: int
    sales_yoy_pct: Growth


class _Distinct(Answer):
    """Distinct people: 人次 (shopper_trips) and shoppers, and the spend per 人次."""

    shopper_trips: int
    previous_shopper_trips: int
    shopper_trips_yoy_pct: Growth
    shoppers: int
    previous_shoppers: int
    shoppers_yoy_pct: Growth
    average_spend: Money
    previous_average_spend: Money
    average_spend_yoy_pct: Growth


class _Key(Answer):
    key: str = Field(description="The day, month, store code, category or traveller kind.")
    previous_key: date | Absent | None = Field(
        default=MISSING,
        description="With group_by=day: the previous period's day this day is compared with; "
        "null when none is (29 February, or a day beyond the previous Spring Festival window). "
        "A previous day no day names (the extra days of a longer previous window) is counted "
        "with the nearest day, so that the groups add up to the totals.",
    )


class _Names(Answer):
    name: str | Absent = Field(
        default=MISSING, description="With group_by=store: the store's name (Accept-Language)."
    )
    short_name: str | Absent = Field(
        default=MISSING,
        description="With group_by=store: the store's short name for charts and tables "
        "(Accept-Language); its name where it has none.",
    )


# Fields in the order of the bases from last to first: key, figures, people, names.
class StatsTotalsOut(_Distinct, FiguresOut):
    pass


class StatsGroupOut(_Names, FiguresOut, _Key):
    """A group by category: its figures without distinct people."""


class StatsDistinctGroupOut(_Names, _Distinct, FiguresOut, _Key):
    """A group by day, month, store or traveller kind: its figures and distinct people."""


class StatsOut(Answer):
    period: PeriodOut
    previous: PeriodOut
    align: Align
    totals: StatsTotalsOut
    group_by: Group | Absent = MISSING
    groups: list[StatsDistinctGroupOut | StatsGroupOut] | Absent = Field(
        default=MISSING, description="With group_by."
    )
    as_of: LocalTime | None = Field(description="The newest rollup.")


def store_names(*, language: str, stores: Stores = None) -> dict[str, tuple[str, str]]:
    """Store code → its full and short name in the language (:meth:`Store.names`), of the
    ``stores`` given (ids; ``None``: all)."""
    rows = Store.objects.all() if stores is None else Store.objects.filter(pk__in=stores)
    return {store.code: store.names(language) for store in rows}


def sales_stats(
    *,
    start: date,
    end: date,
    group_by: str | None = None,
    align: str = "calendar",
    language: str | None = None,
    stores: Stores = None,
) -> dict[str, Any]:
    """The figures of [start, end] against the previous period, optionally grouped. With a
    ``language``, store groups also carry the store's ``name`` and ``short_name`` in it. Only
    the sales of ``stores`` (ids) count, all of them with ``None``: an operator's people see
    their own stores' figures (shops.operators.scope)."""
    check_period(start, end)
    period = Period(start, end)
    if group_by is not None and group_by not in GROUPS:
        raise StatsError(f"group_by must be one of {', '.join(GROUPS)}.")
    alignment = align_periods(period, align)
    previous = alignment.previous
    totals, groups, distinct = _figures(period, group_by, stores)
    previous_totals, previous_groups, _ = _figures(previous, group_by, stores, alignment.forward)
    answer: dict[str, Any] = {
        "period": PeriodOut(start=period.start, end=period.end),
        "previous": PeriodOut(start=previous.start, end=previous.end),
        "align": align,
        "totals": _block(totals, previous_totals, distinct=True),
    }
    if group_by is not None:
        if group_by == "day":
            keys: list[Any] = [start + timedelta(days=n) for n in range(period.days)]
        else:
            keys = sorted(set(groups) | set(previous_groups), key=str)
        answer["group_by"] = group_by
        answer["groups"] = [
            {
                "key": key.isoformat() if isinstance(key, date) else key,
                **({"previous_key": alignment.previous_key(key)} if group_by == "day" else {}),
                **_block(
                    groups.get(key, Figures()),
                    previous_groups.get(key, Figures()),
                    distinct=distinct,
                ),
            }
            for key in keys
        ]
        if group_by in ("store", "category", "traveller_kind"):
            answer["groups"].sort(key=lambda g: g["amount"], reverse=True)
        if group_by == "store" and language is not None:
            names = store_names(language=language, stores=stores)
            for group in answer["groups"]:
                name, short_name = names.get(group["key"], (group["key"], group["key"]))
                group |= {"name": name, "short_name": short_name}
    answer["as_of"] = as_of()
    return StatsOut.model_validate(answer).body()
