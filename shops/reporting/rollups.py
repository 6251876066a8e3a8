"""Sales rollups: whole (local day, store) slices recomputed from the sales, set-based.

Every sale, return and void marks its (local day, store) dirty in the same transaction
(``DirtyDay``, append-only). ``refresh_dirty`` reads a batch of marks, deletes and recomputes
those slices from source in one transaction, and deletes exactly the marks it read: a re-run,
or a crash half-way (the transaction rolls back), never double counts; a mark committed
meanwhile stays for the next run. ``rebuild`` recomputes every slice of a date range.

Two tables:
- ``DailyCategorySales``: day × store × category × traveller kind — amount net of returns,
  pieces, receipts. Voided sales count nothing; returns count against the sale's own day.
- ``DailyStoreSales``: day × store × traveller kind — the same totals, and the sets behind
  exact distinct counts (roaring bitmaps of shopper ids, trip ids, and shoppers buying without
  a trip). ``shopper_trips`` (人次) over a range = |∪ trips| + Σ over days |∪ trip-less
  shoppers of the day|: a trip is one shopper's, and a sale without a trip counts once per
  shopper per local day (API.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from pyroaring import BitMap

from shops import sql
from shops.locks import rollups_lock
from shops.models import DailyCategorySales, DailyStoreSales, DirtyDay, RollupState, Sale

log = logging.getLogger(__name__)
Slice = tuple[date, int]  # (local day, store id)
STATE = "sales"
MARKS_PER_REFRESH = 20_000
# One refresh or rebuild at a time: shops.locks.rollups_lock. (A bigger work_mem keeps the sort
# in memory but costs the parallel plan: slower here, measured with bench/stats_bench.py.)


@dataclass
class RefreshReport:
    marks: int = 0
    slices: int = 0
    seconds: float = 0.0


def bitmap_bytes(ids: Iterable[int | None]) -> bytes:
    return BitMap(i for i in ids if i is not None).serialize()


def bitmap(data: bytes | memoryview) -> BitMap:
    return BitMap.deserialize(bytes(data))


# --- The statements (shops.sql): ``{where}`` selects the slices, a day range or (day, store) pairs
def _where_range(column: str, start: date, end: date) -> tuple[str, list[Any]]:
    return f"{column} BETWEEN %s AND %s", [start, end]


def _where_slices(day: str, store: str, slices: Sequence[Slice]) -> tuple[str, list[Any]]:
    values = ", ".join(["(%s::date, %s::bigint)"] * len(slices))
    params: list[Any] = []
    for slice_day, store_id in slices:
        params += [slice_day, store_id]
    return f"({day}, {store}) IN (VALUES {values})", params


def _store_sets(where: str, params: list[Any]) -> dict[tuple[date, int, str], tuple]:
    """(day, store, kind) → (receipts, shoppers, trips, trip-less shoppers) as bitmaps."""
    found: dict[tuple[date, int, str], tuple] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql.ROLLUP_STORE_SETS.format(where=where), params)
        for day, store, kind, receipts, shoppers, trips, tripless in cursor.fetchall():
            found[(day, store, kind)] = (
                receipts,
                BitMap(shoppers),
                BitMap(trips),
                BitMap(tripless),
            )
    return found


def _recompute(
    *,
    sales_where: tuple[str, list[Any]],
    rollup_where: tuple[str, list[Any]],
    emptied: bool = False,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Delete and rewrite the slices the two conditions select (the same slices, phrased on
    the sales table and on the rollup tables). Returns the number of store rows written."""
    where, params = rollup_where
    with connection.cursor() as cursor:
        if not emptied:  # (a full rebuild truncated the tables)
            cursor.execute(sql.ROLLUP_CATEGORY_DELETE.format(where=where), params)
            cursor.execute(sql.ROLLUP_STORE_DELETE.format(where=where), params)
        _insert_category_rows(cursor, *sales_where, everything=emptied)
        cursor.execute(sql.ROLLUP_STORE_TOTALS.format(where=where), params)
        totals = {(d, s, k): (amount, items) for d, s, k, amount, items in cursor.fetchall()}
    log.debug("recompute: category rows written")
    if progress:
        progress(1)
    sets = _store_sets(*sales_where)
    log.debug("recompute: store sets read")
    rows = []
    for key, (receipts, shoppers, trips, tripless) in sets.items():
        amount, items = totals.get(key, (Decimal("0.00"), 0))
        rows.append(
            (
                key[0],
                key[1],
                key[2],
                amount,
                items,
                receipts,
                shoppers.serialize(),
                trips.serialize(),
                tripless.serialize(),
            )
        )
    _insert_store_rows(rows)
    if progress:
        progress(1)
    return len(rows)


def _insert_category_rows(
    cursor: Any, where: str, params: list[Any], *, everything: bool = False
) -> None:
    """Aggregate the slices' lines into the category rollup.

    A full rebuild goes through CREATE UNLOGGED TABLE ... AS, dropped in the
    same transaction: unlike INSERT ... SELECT or COPY of a query, it may run the aggregate in
    parallel (figures: README, bench/stats_bench.py)."""
    select = sql.ROLLUP_CATEGORY.format(where=where)
    if everything and not params:
        cursor.execute(sql.ROLLUP_BUILD_DROP_STALE)
        cursor.execute(sql.ROLLUP_BUILD.format(select=select))
        cursor.execute(sql.ROLLUP_BUILD_COPY)
        cursor.execute(sql.ROLLUP_BUILD_DROP)
        return
    cursor.execute(sql.ROLLUP_CATEGORY_INSERT.format(select=select), params)


def _insert_store_rows(rows: list[tuple]) -> None:
    """COPY (not a bulk INSERT through Django's compiler: docs/ARCHITECTURE.md)."""
    with connection.cursor() as cursor, cursor.cursor.copy(sql.ROLLUP_STORE_COPY) as copy:
        for row in rows:
            copy.write_row(row)


def _touch(now: datetime) -> None:
    RollupState.objects.update_or_create(name=STATE, defaults={"refreshed_at": now})


def refresh_dirty(*, now: datetime, limit: int = MARKS_PER_REFRESH) -> RefreshReport:
    """Recompute the slices marked dirty (a batch of at most ``limit`` marks) and delete
    exactly the marks read. Call again while it reports marks (the task loops). ``now`` (the
    caller's clock) is recorded as the time the rollups were refreshed; ``seconds`` is the
    time the batch took."""
    started = time.perf_counter()
    report = RefreshReport()
    with transaction.atomic():
        rollups_lock()
        marks = list(DirtyDay.objects.order_by("id").values_list("id", "day", "store_id")[:limit])
        report.marks = len(marks)
        slices = sorted({(day, store) for _, day, store in marks})
        report.slices = len(slices)
        for start in range(0, len(slices), 500):
            chunk = slices[start : start + 500]
            _recompute(
                sales_where=_where_slices("s.local_date", "s.store_id", chunk),
                rollup_where=_where_slices("day", "store_id", chunk),
            )
        ids = [mark_id for mark_id, _, _ in marks]
        for start in range(0, len(ids), 5000):
            DirtyDay.objects.filter(id__in=ids[start : start + 5000]).delete()
        _touch(now)
    report.seconds = time.perf_counter() - started
    return report


def refresh_all_dirty(*, now: datetime) -> RefreshReport:
    """Refresh until no mark is left (each batch in its own transaction). Every batch records
    ``now``, the time the refresh began: what was committed before it is in."""
    total = RefreshReport()
    while True:
        report = refresh_dirty(now=now)
        total.marks += report.marks
        total.slices += report.slices
        total.seconds += report.seconds
        if report.marks < MARKS_PER_REFRESH:
            return total


def sales_date_range() -> tuple[date, date] | None:
    found = Sale.objects.aggregate(low=Min("local_date"), high=Max("local_date"))
    return (found["low"], found["high"]) if found["low"] is not None else None


def rebuild(
    *,
    start: date,
    end: date,
    step_days: int = 31,
    progress: Callable[[int], object] | None = None,
    now: datetime,
) -> int:
    """Recompute every slice from ``start`` to ``end`` (inclusive), one chunk of days per
    transaction; the dirty marks of those days are consumed. Returns the store rows written.
    ``now`` (the caller's clock) is recorded as the time the rollups were refreshed."""
    written = 0
    day = start
    while day <= end:
        last = min(day + timedelta(days=step_days - 1), end)
        with transaction.atomic():
            rollups_lock()
            marks = list(
                DirtyDay.objects.filter(day__range=(day, last)).values_list("id", flat=True)
            )
            written += _recompute(
                sales_where=_where_range("s.local_date", day, last),
                rollup_where=_where_range("day", day, last),
            )
            for chunk in range(0, len(marks), 5000):
                DirtyDay.objects.filter(id__in=marks[chunk : chunk + 5000]).delete()
            _touch(now)
        if progress:
            progress((last - day).days + 1)
        day = last + timedelta(days=1)
    return written


def rebuild_all(*, now: datetime, progress: Callable[[int], object] | None = None) -> int:
    """Recompute every rollup from every sale in one transaction. The tables are truncated
    rather than deleted from (a unique index full of just-deleted rows makes every insert
    check them): readers wait for the rebuild to commit, as with REFRESH MATERIALIZED VIEW,
    and never see a half-built table. ``progress`` is called with 1 after each of its three
    steps (category rows, store rows, commit)."""
    started = time.perf_counter()
    with transaction.atomic():
        rollups_lock()
        marks = list(DirtyDay.objects.values_list("id", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(sql.ROLLUPS_TRUNCATE)
        written = _recompute(sales_where=("TRUE", []), rollup_where=("TRUE", []), emptied=True)
        for chunk in range(0, len(marks), 5000):
            DirtyDay.objects.filter(id__in=marks[chunk : chunk + 5000]).delete()
        _touch(now)
        log.info("rebuild_all: %d store-day rows in %.2f s", written, time.perf_counter() - started)
    log.info("rebuild_all: committed after %.2f s", time.perf_counter() - started)
    if progress:
        progress(1)
    return written


def as_of() -> datetime | None:
    state = RollupState.objects.filter(name=STATE).first()
    return state.refreshed_at if state else None


__all__ = [
    "DailyCategorySales",
    "DailyStoreSales",
    "RefreshReport",
    "as_of",
    "bitmap",
    "bitmap_bytes",
    "rebuild",
    "rebuild_all",
    "refresh_all_dirty",
    "refresh_dirty",
    "sales_date_range",
]
