"""Prove the books on a live database: read-only checks that everything adds up.

Each check is a plain function returning a list of differences, short texts that name the
account, sale, return, trip or rollup slice by id (never a receipt number, document number or
name). :func:`check_books` runs them all in one snapshot (a ``REPEATABLE READ
READ ONLY`` transaction, so sales committing meanwhile never show as a false difference).

What must hold:

- **Accounts**: ``used`` = the sum of the account's ledger entries = the completed sales on
  the account net of returns (voided sales count nothing; imported sales count);
  ``0 ≤ used ≤ limit``.
- **Ledger**: each sale has its debit (kind ``sale``, or ``import`` for an imported sale) of
  its total on its account; each return its credit; each voided sale a credit of what was
  still outstanding; no entry refers to nothing.
- **Sales**: total = Σ line amounts; line amount = quantity × unit price; returned amount =
  Σ returns; a return's amount = Σ its lines; a return line's amount = quantity × the sale
  line's unit price and its line belongs to the returned sale; a line's returned quantity =
  Σ its return lines; the account is the shopper's for the sale's local year, the local date
  is the sale's date in Asia/Shanghai, the trip is the shopper's; voided ⇔ ``voided_at``.
- **Trips**: per limited category of the policy that judged each sale, what the trip's
  completed *judged* sales hold (pieces or ml, net of returns) is within the limit. Imported
  sales are not judged: a trip taken over a limit by imported sales is a note, not a
  difference.
- **Immediate pickup**: per kind of the immediate-pickup list of the policy that judged each
  sale, what a departure took away at once (completed sales picked up immediately, net of
  returns; pieces for cosmetics) is within the kind's cap, and each SKU within its
  per-variety cap; a resident's sale without a trip on its own. Imported sales: notes, as
  for the trips.
- **The feed**: every change made at a till since the feed began has its event in the outbox
  (a sale its ``sale.completed``, each return a ``sale.returned``, a void and a pickup theirs:
  ``shops.feed.reconcile.changes_without_events``).
- **Rollups** = source: ``DailyCategorySales`` and ``DailyStoreSales`` (amount, items,
  receipts, and the exact sets behind the distinct counts) against the same aggregates
  recomputed from the sales, without writing. (day, store) slices still marked dirty are
  waiting for the refresh: skipped, and counted.

Everything that reads the big tables is a set-based statement (aggregates and anti-joins in
SQL; only differing rows reach Python, except the rollups' id sets, compared as bitmaps).
The ledger is checked in two steps: one pass compares each
account's entries, by kind, in amount and number, with what its sales, returns and voids call
for; only the accounts where they differ are then examined entry by entry (so a clean ledger
costs one grouped pass, and a broken one still names the sale or return). How long it takes
on a big database: README, "Performance".
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from pyroaring import BitMap

from quotas import audit as quota_audit
from quotas.selectors import judging_policy_ids, policy_by_id_cached
from shops import sql
from shops.feed.reconcile import changes_without_events
from shops.models import DailyCategorySales, DailyStoreSales, DirtyDay, Return, Sale

# Differences listed per check; beyond this one line says there are more.
LIMIT = 50
FEN = Decimal("0.01")


# --- Values as messages show them ------------------------------------------------------------
def _money(value: Decimal | int | None) -> Decimal:
    return Decimal("0.00") if value is None else Decimal(value).quantize(FEN)


def _same(a: Decimal | int | None, b: Decimal | int | None) -> bool:
    return _money(a) == _money(b)


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _rows(statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))
        return cursor.fetchall()


def _first(statement: str, order: str, params: Sequence[Any], limit: int) -> list[tuple[Any, ...]]:
    """The first ``limit + 1`` rows of ``statement`` (differences only) in ``order`` (column
    positions). ``OFFSET 0`` fences the query from the outer ``LIMIT``: planned
    for finding every row, not the first few (a fast-start plan of nested loops costs ten
    times more when, as it should be, there is nothing to find)."""
    return _rows(
        sql.AUDIT_FIRST.format(sql=statement, order=order),
        [*params, limit + 1],
    )


def _capped(found: list[str], rows: int, limit: int, what: str) -> list[str]:
    if rows > limit:
        found.append(f"… more {what} not shown (first {limit} listed)")
    return found


# --- Accounts --------------------------------------------------------------------------------
# At most this many accounts whose ledger does not match their sales are examined entry by
# entry (the rest are still reported as account differences).
SUSPECTS = 1000


# One pass over the ledger and one over the sales, grouped by account: the balance against
# both, and each kind of entry (amount and number) against what the account's sales, returns
# and voids call for (sql.AUDIT_ACCOUNTS). Only where those differ are the entries examined one
# by one.
def _ledger_differs() -> str:
    pairs = [
        ("COALESCE(e.sale_amount, 0)", "COALESCE(x.sale_amount, 0)"),
        ("COALESCE(e.import_amount, 0)", "COALESCE(x.import_amount, 0)"),
        ("COALESCE(e.return_amount, 0)", "-COALESCE(r.amount, 0)"),
        ("COALESCE(e.void_amount, 0)", "COALESCE(x.void_amount, 0)"),
    ]
    counts = [
        "COALESCE(e.sale_count, 0) <> COALESCE(x.sale_count, 0)",
        "COALESCE(e.import_count, 0) <> COALESCE(x.import_count, 0)",
        "COALESCE(e.return_count, 0) <> COALESCE(r.returns, 0)",
        "COALESCE(e.void_count, 0) <> COALESCE(x.void_count, 0)",
        "COALESCE(e.entries, 0) <> COALESCE(e.sale_count, 0) + COALESCE(e.import_count, 0)"
        " + COALESCE(e.return_count, 0) + COALESCE(e.void_count, 0)",
    ]
    return "(" + " OR ".join([*(sql.differs(a, b) for a, b in pairs), *counts]) + ")"


class _AccountRow(NamedTuple):
    """A row of ``sql.AUDIT_ACCOUNTS``, in its column order."""

    pk: int
    used: Decimal
    cap: Decimal
    ledger: Decimal
    net: Decimal
    suspect: int  # 1: the account's entries do not add up, by kind, to what its sales call for


def _accounts(limit: int) -> tuple[list[str], list[int]]:
    """(the account differences, the accounts whose entries do not match their sales)."""
    statement = sql.AUDIT_ACCOUNTS.format(
        accounts=quota_audit.ACCOUNTS,
        ledger=quota_audit.LEDGER_BY_ACCOUNT,
        ledger_differs=_ledger_differs(),
        used_ledger=sql.differs("a.used", "COALESCE(e.total, 0)"),
        used_net=sql.differs("a.used", "COALESCE(x.net, 0)"),
    )
    rows = [_AccountRow._make(row) for row in _first(statement, "1", [], max(limit, SUSPECTS))]
    found: list[str] = []
    listed = 0
    for pk, used, cap, ledger, net, _ in rows:
        mine = []
        if not _same(used, ledger):
            mine.append(f"account {pk}: used {_money(used)} ≠ ledger sum {_money(ledger)}")
        if not _same(used, net):
            mine.append(
                f"account {pk}: used {_money(used)} ≠ completed sales net of returns {_money(net)}"
            )
        if _money(used) < 0 or _money(used) > _money(cap):
            mine.append(f"account {pk}: used {_money(used)} outside 0 … {_money(cap)}")
        if mine and listed == limit:
            found.append(f"… more account differences not shown (first {limit} listed)")
            break
        listed += bool(mine)
        found += mine
    suspects = [row.pk for row in rows[:SUSPECTS] if row.suspect]
    return found, suspects


def account_differences(*, limit: int = LIMIT) -> list[str]:
    """``used`` = ledger sum = completed sales net of returns; ``0 ≤ used ≤ limit``."""
    return _accounts(limit)[0]


# --- Ledger ----------------------------------------------------------------------------------
def _among(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    return f"{column} = ANY(%s::bigint[])", [list(ids)]


def ledger_differences(*, limit: int = LIMIT, accounts: Sequence[int] | None = None) -> list[str]:
    """Each sale's debit, each return's credit, each void's credit, once, on the right
    account; no entry that refers to nothing. Entry by entry only for the accounts whose
    entries do not add up, by kind, to what their sales call for (``accounts``; found with
    :func:`account_differences`' statement when not given)."""
    if accounts is None:
        accounts = _accounts(limit)[1]
    if not accounts:
        return []
    return [
        *_sale_entry_differences(accounts=accounts, limit=limit),
        *_return_entry_differences(accounts=accounts, limit=limit),
        *_entries_without_source(accounts=accounts, limit=limit),
    ]


def _sale_entry_differences(*, accounts: Sequence[int], limit: int) -> list[str]:
    """The accounts' sales against their entries: one debit of the sale's total on its account,
    of kind ``sale`` (``import`` for an imported sale); at most one void credit, on its account,
    of what was still outstanding when it was voided."""
    sale_debits, debit_params = quota_audit.entries_referring("sale", accounts)
    void_credits, void_params = quota_audit.entries_referring("void", accounts)
    among_sales, among_params = _among("s.account_id", accounts)
    statement = sql.AUDIT_SALE_ENTRIES.format(
        sale_debits=sale_debits, void_credits=void_credits, among_sales=among_sales
    )
    rows = _first(statement, "1", [*debit_params, *void_params, *among_params], limit)
    found = [
        problem
        for row in rows[:limit]
        for problem in _sale_entry_problems(_SaleEntryRow._make(row))
    ]
    return _capped(found, len(rows), limit, "sale ledger differences")


class _SaleEntryRow(NamedTuple):
    """A row of :func:`_sale_entry_differences`' statement: the sale, its debits (``debit``:
    their ``ref_id``, NULL for none), its void credits (``void``: likewise)."""

    pk: int
    account: int
    total: Decimal
    returned: Decimal
    status: str
    imported: bool
    debit: int | None
    amount: Decimal | None
    a_min: int | None
    a_max: int | None
    k_min: str | None
    k_max: str | None
    n: int | None
    void: int | None
    void_amount: Decimal | None
    v_min: int | None
    v_max: int | None
    v_n: int | None


def _sale_entry_problems(row: _SaleEntryRow) -> list[str]:
    """What is wrong with a sale's entries, from a row of :func:`_sale_entry_differences`."""
    pk, account, status = row.pk, row.account, row.status
    kind = "import" if row.imported else "sale"
    found = []
    if row.debit is None:
        found.append(f"sale {pk}: no ledger debit")
    else:
        if _int(row.n) != 1:
            found.append(f"sale {pk}: {_int(row.n)} ledger debits")
        if not _same(row.amount, row.total):
            found.append(
                f"sale {pk}: ledger debit {_money(row.amount)} ≠ sale total {_money(row.total)}"
            )
        if row.a_min != account or row.a_max != account:
            found.append(f"sale {pk}: ledger debit on another account than {account}")
        if row.k_min != row.k_max or row.k_min != kind:
            found.append(f"sale {pk}: ledger debit of kind {row.k_min}/{row.k_max}, not {kind}")
    if row.void is not None and (row.v_min != account or row.v_max != account):
        found.append(f"sale {pk}: void credit on another account than {account}")
    if row.void is not None and _int(row.v_n) > 1:
        found.append(f"sale {pk}: {_int(row.v_n)} void credits")
    owed = _money(row.returned) - _money(row.total) if status == "voided" else Decimal("0.00")
    if not _same(row.void_amount, owed):
        found.append(
            f"sale {pk}: void credits {_money(row.void_amount)} in the ledger, {owed} expected "
            f"(status {status})"
        )
    return found


def _return_entry_differences(*, accounts: Sequence[int], limit: int) -> list[str]:
    """The returns of the accounts' sales against their entries: one credit of the return's
    amount, on the sale's account."""
    return_credits, credit_params = quota_audit.entries_referring("return", accounts)
    among_sales, among_params = _among("s.account_id", accounts)
    statement = sql.AUDIT_RETURN_ENTRIES.format(
        return_credits=return_credits, among_sales=among_sales
    )
    rows = _first(statement, "1", [*credit_params, *among_params], limit)
    found: list[str] = []
    for pk, sale, amount, account, credit, credited, a_min, a_max, n in rows[:limit]:
        if credit is None:
            found.append(f"return {pk} (sale {sale}): no ledger credit")
            continue
        if _int(n) != 1:
            found.append(f"return {pk} (sale {sale}): {_int(n)} ledger credits")
        if not _same(credited, -_money(amount)):
            found.append(
                f"return {pk} (sale {sale}): ledger credit {_money(credited)} ≠ -{_money(amount)}"
            )
        if a_min != account or a_max != account:
            found.append(f"return {pk} (sale {sale}): credit on another account than {account}")
    return _capped(found, len(rows), limit, "return ledger differences")


def _entries_without_source(*, accounts: Sequence[int], limit: int) -> list[str]:
    """The accounts' entries that refer to no sale, void or return of their kind."""
    entries, params = quota_audit.entries_of(accounts)
    statement = sql.AUDIT_ENTRIES_WITHOUT_SOURCE.format(entries=entries)
    rows = _first(statement, "1", params, limit)
    found = [
        f"ledger entry {pk} (account {account}, {kind}): refers to no "
        f"{ref_kind or 'known'} {ref_id if ref_id is not None else ''}".rstrip()
        for pk, account, kind, ref_kind, ref_id in rows[:limit]
    ]
    return _capped(found, len(rows), limit, "ledger entries without a source")


# --- Sales, lines, returns -------------------------------------------------------------------
def sale_differences(*, limit: int = LIMIT) -> list[str]:
    """Totals, lines, returns and the facts a sale repeats (account, date, trip)."""
    return [
        *_sale_total_differences(limit=limit),
        *_sale_line_differences(limit=limit),
        *_return_differences(limit=limit),
        *_sale_fact_differences(limit=limit),
    ]


def _sale_total_differences(*, limit: int) -> list[str]:
    """A sale's total = Σ its lines' amounts; its returned amount = Σ its returns."""
    rows = _first(sql.AUDIT_SALE_TOTALS, "1", [], limit)
    found: list[str] = []
    for pk, total, returned, has_lines, lines, returns in rows[:limit]:
        if has_lines is None:
            found.append(f"sale {pk}: no lines")
        elif not _same(total, lines):
            found.append(f"sale {pk}: total {_money(total)} ≠ Σ line amounts {_money(lines)}")
        if not _same(returned, returns):
            found.append(
                f"sale {pk}: returned amount {_money(returned)} ≠ Σ returns {_money(returns)}"
            )
    return _capped(found, len(rows), limit, "sale total differences")


def _sale_line_differences(*, limit: int) -> list[str]:
    """A line's amount = quantity × unit price; its returned quantity = Σ its return lines,
    between 0 and the quantity sold."""
    rows = _first(sql.AUDIT_SALE_LINES, "1", [], limit)
    found: list[str] = []
    for pk, sale, quantity, price, amount, returned, return_lines in rows[:limit]:
        if not _same(amount, _money(price) * quantity):
            found.append(
                f"sale {sale} line {pk}: amount {_money(amount)} ≠ {quantity} × {_money(price)}"
            )
        if _int(returned) != _int(return_lines):
            found.append(
                f"sale {sale} line {pk}: returned quantity {returned} ≠ Σ return lines "
                f"{_int(return_lines)}"
            )
        if not 0 <= _int(returned) <= _int(quantity):
            found.append(f"sale {sale} line {pk}: returned {returned} of {quantity}")
    return _capped(found, len(rows), limit, "sale line differences")


def _return_differences(*, limit: int) -> list[str]:
    """A return's amount = Σ its lines; each line of the returned sale, its amount = quantity ×
    the sale line's unit price."""
    rows = _first(sql.AUDIT_RETURNS, "1", [], limit)
    found: list[str] = []
    for pk, sale, amount, has_lines, lines, foreign, mispriced in rows[:limit]:
        if has_lines is None:
            found.append(f"return {pk} (sale {sale}): no lines")
            continue
        if not _same(amount, lines):
            found.append(
                f"return {pk} (sale {sale}): amount {_money(amount)} ≠ Σ its lines {_money(lines)}"
            )
        if _int(foreign):
            found.append(f"return {pk} (sale {sale}): {_int(foreign)} line(s) of another sale")
        if _int(mispriced):
            found.append(
                f"return {pk} (sale {sale}): {_int(mispriced)} line(s) not priced at "
                "quantity × the sale line's unit price"
            )
    return _capped(found, len(rows), limit, "return differences")


class _SaleFactRow(NamedTuple):
    """A row of ``sql.AUDIT_SALE_FACTS``: the sale, its account, its trip (NULL for none), and the
    local year and date of its time."""

    pk: int
    shopper: int
    status: str
    voided_at: datetime | None
    local: date
    account: int
    owner: int
    year: int
    trip: int | None
    traveller: int | None
    sale_year: int
    sold_on: date


def _sale_fact_differences(*, limit: int) -> list[str]:
    """The facts a sale repeats: its account is its shopper's for the sale's local year, its
    local date is its date in Asia/Shanghai, its trip is its shopper's; voided ⇔ ``voided_at``."""
    statement = sql.AUDIT_SALE_FACTS.format(accounts=quota_audit.ACCOUNTS, trips=quota_audit.TRIPS)
    rows = _first(statement, "1", [], limit)
    found: list[str] = []
    for row in map(_SaleFactRow._make, rows[:limit]):
        pk, account, status = row.pk, row.account, row.status
        if row.owner != row.shopper:
            found.append(f"sale {pk}: account {account} is another shopper's")
        if _int(row.year) != _int(row.sale_year):
            found.append(
                f"sale {pk}: account {account} is of {row.year}, the sale of {row.sale_year}"
            )
        if row.local != row.sold_on:
            found.append(f"sale {pk}: local date {row.local}, sold on {row.sold_on} locally")
        if row.trip is not None and row.traveller != row.shopper:
            found.append(f"sale {pk}: trip {row.trip} is another shopper's")
        if status not in ("completed", "voided"):
            found.append(f"sale {pk}: unknown status {status!r}")
        elif (status == "voided") != (row.voided_at is not None):
            found.append(f"sale {pk}: status {status} with voided_at {row.voided_at or 'unset'}")
    return _capped(found, len(rows), limit, "sale fact differences")


# --- Trips -----------------------------------------------------------------------------------
def _limits() -> list[tuple[int, str, str, int]]:
    """(policy id, category code, unit, limit) of every limited category of every policy that
    may have judged a sale."""
    found = []
    for policy_id in judging_policy_ids():
        for category in policy_by_id_cached(policy_id).rules.limited_categories:
            found.append(
                (policy_id, category.code, category.limit_unit or "", category.limit_value or 0)
            )
    return found


def _values(casts: Sequence[str], rows: int) -> str:
    """A ``VALUES`` list of ``rows`` rows of placeholders, each cast as ``casts`` say."""
    return ", ".join([f"({', '.join(casts)})"] * rows)


class _TripOverRow(NamedTuple):
    """A row of ``sql.AUDIT_TRIPS_OVER``: a trip over a category's limit."""

    trip: int
    code: str
    unit: str
    cap: int
    held_all: int
    held_judged: int
    judged_over: int  # 1: a difference (judged sales alone are over), 0: a note


class _ImmediateOverRow(NamedTuple):
    """A row of ``sql.AUDIT_IMMEDIATE_OVER``: a departure (a trip, or a sale ``alone``) over a
    kind's cap, or a SKU's (``sku`` NULL: the kind as a whole)."""

    trip: int | None
    alone: int | None
    kind: str
    sku: str | None
    cap: int
    held_all: int
    held_judged: int
    judged_over: int  # 1: a difference (judged sales alone are over), 0: a note


def _cut_short(
    *,
    rows: Sequence[_TripOverRow | _ImmediateOverRow],
    limit: int,
    found: list[str],
    notes: list[str] | None,
    what: str,
) -> list[str]:
    """Say that more rows were found than listed: ``what`` (``… over a limit``), or, in
    ``notes``, the same ``with imported sales``. Differences come first: the first row left
    out says which was cut short."""
    if len(rows) > limit and rows[limit].judged_over == 1:
        found.append(f"… more {what} not shown (first {limit} listed)")
    elif len(rows) > limit and notes is not None:
        notes.append(f"… more {what} with imported sales not shown ({limit} rows)")
    return found


# Per trip and limited category, what its completed sales hold net of returns (pieces or ml),
# all of them and the judged ones only, against the limit of the policy that judged each sale:
# the trips over a limit, a difference first (1 in the last column) when judged sales alone
# are over it.
def trip_differences(*, limit: int = LIMIT, notes: list[str] | None = None) -> list[str]:
    """No trip holds more of a limited category in judged sales than the limit of the policy
    that judged them. Imported sales are not judged: a trip over a limit only with imported
    sales is appended to ``notes`` instead."""
    limits = _limits()
    if not limits:
        return []
    codes = sorted({code for _, code, _, _ in limits})
    statement = sql.AUDIT_TRIPS_OVER.format(
        values=_values(("%s::bigint", "%s::varchar", "%s::varchar", "%s::bigint"), len(limits)),
        codes=", ".join(["%s"] * len(codes)),
    )
    params: list[Any] = [value for row in limits for value in row] + codes
    rows = [_TripOverRow._make(row) for row in _first(statement, "7 DESC, 1, 2", params, limit)]
    found = []
    for trip, code, unit, cap, held_all, held_judged, judged_over in rows[:limit]:
        units = "pieces" if unit == "piece" else unit
        if judged_over == 1:
            found.append(
                f"trip {trip}: {code} {_int(held_judged)} {units} held by judged sales, over "
                f"the limit of {cap}"
            )
        elif notes is not None:
            notes.append(
                f"trip {trip}: {code} {_int(held_all)} {units} held with imported sales "
                f"(judged sales {_int(held_judged)}), over the limit of {cap}: imported sales "
                "are not judged"
            )
    return _cut_short(rows=rows, limit=limit, found=found, notes=notes, what="trips over a limit")


def _immediate_kinds() -> list[tuple[int, str, int, int | None, bool]]:
    """(policy id, kind code, cap per departure, per-variety cap, counts pieces) of every
    immediate-pickup kind of every policy that may have judged a sale."""
    return [
        (policy_id, kind.code, kind.per_trip, kind.per_variety, kind.counts_pieces)
        for policy_id in judging_policy_ids()
        for kind in policy_by_id_cached(policy_id).rules.immediate_kinds.values()
    ]


# Per departure (a trip, or a sale without one: ``alone``) and kind, and per SKU where the kind
# has a per-variety cap (``sku`` NULL: the kind as a whole), what its completed sales picked up
# at once hold net of returns, all of them and the judged ones only, against the cap of the
# policy that judged each sale: the departures over a cap, a difference first (1 in the last
# column) when judged sales alone are over it.
def immediate_differences(*, limit: int = LIMIT, notes: list[str] | None = None) -> list[str]:
    """No departure took away at once more of a kind than the cap of the policy that judged
    its sales (per departure, and per SKU where the kind has a per-variety cap); a resident's
    sale without a trip is capped on its own. Counted as the till counts: completed sales with
    immediate pickup, net of returns, the kind the line was sold as, pieces for a kind that
    counts them. Imported sales are not judged: a departure over a cap only with imported
    sales is appended to ``notes``."""
    kinds = _immediate_kinds()
    if not kinds:
        return []
    casts = ("%s::bigint", "%s::varchar", "%s::bigint", "%s::bigint", "%s::boolean")
    statement = sql.AUDIT_IMMEDIATE_OVER.format(values=_values(casts, len(kinds)))
    params: list[Any] = [value for row in kinds for value in row]
    order = "8 DESC, 1, 2, 3, 4"
    rows = [_ImmediateOverRow._make(row) for row in _first(statement, order, params, limit)]
    found = []
    for trip, alone, kind, sku, cap, held_all, held_judged, judged_over in rows[:limit]:
        where = f"trip {trip}" if trip is not None else f"sale {alone} (no trip)"
        what = f"{kind} (SKU {sku})" if sku is not None else kind
        cap_name = "per-variety cap" if sku is not None else "cap"
        if judged_over == 1:
            found.append(
                f"{where}: immediate pickup of {what} {_int(held_judged)} by judged sales, "
                f"over the {cap_name} of {cap}"
            )
        elif notes is not None:
            notes.append(
                f"{where}: immediate pickup of {what} {_int(held_all)} with imported sales "
                f"(judged sales {_int(held_judged)}), over the {cap_name} of {cap}: imported "
                "sales are not judged"
            )
    return _cut_short(
        rows=rows, limit=limit, found=found, notes=notes, what="immediate pickups over a cap"
    )


# --- Rollups ---------------------------------------------------------------------------------
def dirty_slices() -> int:
    """(day, store) slices marked for the next refresh."""
    return DirtyDay.objects.values("day", "store").distinct().count()


def _slice(level: str, day: Any, store: Any, code: Any, kind: Any) -> str:
    what = f"{code} {kind}" if level == "category" else f"{kind}"
    return f"{level} rollup {day} store {store} {what}"


class _RollupRow(NamedTuple):
    """A row of ``sql.AUDIT_ROLLUPS``: a slice (``code`` NULL at the store level), what its sales
    hold (NULL: none) against its rollup (``r_``), ``missing`` when it has no rollup."""

    level: str
    day: date
    store: int
    code: str | None
    kind: str
    amount: Decimal | None
    r_amount: Decimal | None
    items: int | None
    r_items: int | None
    sales: int | None
    r_sales: int | None
    missing: bool | None


def rollup_differences(*, limit: int = LIMIT) -> list[str]:
    """The rollups against the sales, slice by slice, except slices still marked dirty."""
    sale_clean = sql.not_dirty("s.local_date", "s.store_id")
    statement = sql.AUDIT_ROLLUPS.format(
        # The category level recomputed by the very aggregate the refresh writes.
        category=sql.ROLLUP_CATEGORY.format(where=sale_clean),
        sale_clean=sale_clean,
        cat_clean=sql.not_dirty("x.day", "x.store_id"),
        store_clean=sql.not_dirty("x.day", "x.store_id"),
        cat_amount=sql.differs("c.amount", "r.amount"),
        store_amount=sql.differs("c.amount", "r.amount"),
    )
    rows = _first(statement, "2, 3, 1, 4, 5", [], limit)
    found = []
    for row in map(_RollupRow._make, rows[:limit]):
        where = _slice(row.level, row.day, row.store, row.code, row.kind)
        amount, sales = row.amount, row.sales
        if amount is None:
            found.append(f"{where}: no completed sales, the rollup holds {_money(row.r_amount)}")
            continue
        if row.missing:
            found.append(f"{where}: missing (sales hold {_money(amount)}, {_int(sales)} receipts)")
            continue
        if not _same(amount, row.r_amount):
            found.append(f"{where}: amount {_money(row.r_amount)}, sales say {_money(amount)}")
        if _int(row.items) != _int(row.r_items):
            found.append(f"{where}: items {_int(row.r_items)}, sales say {_int(row.items)}")
        if _int(sales) != _int(row.r_sales):
            found.append(f"{where}: receipts {_int(row.r_sales)}, sales say {_int(sales)}")
    _capped(found, len(rows), limit, "rollup differences")
    return found + _set_differences(limit=limit)


def _ids(value: Any) -> BitMap:
    """A set of ids as ``array_agg`` gives it (NULL for none)."""
    if value is None:
        return BitMap()
    return BitMap(value)  # a list of ints (the aggregate leaves NULLs out)


@contextmanager
def _planned_for_all_rows() -> Iterator[None]:
    """PostgreSQL plans a cursor for its first tenth of rows (``cursor_tuple_fraction``): a
    sort-based plan several times slower when every row is read, as here. For this statement
    only (restored after, also inside a caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.AUDIT_TUPLE_FRACTION, [])
        (previous,) = cursor.fetchone()
        cursor.execute(sql.AUDIT_TUPLE_FRACTION_SET, ["1.0"])
        try:
            yield
        finally:
            cursor.execute(sql.AUDIT_TUPLE_FRACTION_SET, [previous])


def _set_differences(*, limit: int) -> list[str]:
    """The sets behind the distinct counts (shoppers, trips, shoppers without a trip) of each
    store rollup row against the sales of its slice."""
    stored: dict[tuple[date, int, str], tuple[BitMap, BitMap, BitMap]] = {}
    for day, store, kind, shoppers, trips, tripless in _rows(sql.AUDIT_STORED_SETS):
        stored[(day, int(store), kind)] = tuple(  # type: ignore[assignment]  # 3 blobs, 3 maps
            BitMap.deserialize(bytes(blob)) for blob in (shoppers, trips, tripless)
        )
    found: list[str] = []
    over = False
    with _planned_for_all_rows(), connection.chunked_cursor() as cursor:
        cursor.execute(sql.AUDIT_SALES_SETS, [])
        while rows := cursor.fetchmany(2000):
            for day, store, kind, shoppers, trips, tripless in rows:
                have = stored.get((day, int(store), kind))
                if have is None:
                    continue  # a missing row: reported with the amounts
                for name, mine, theirs in zip(
                    ("shoppers", "trips", "trip-less shoppers"),
                    have,
                    (_ids(shoppers), _ids(trips), _ids(tripless)),
                    strict=True,
                ):
                    if mine != theirs:
                        if len(found) >= limit:
                            over = True
                            continue
                        found.append(
                            f"store rollup {day} store {store} {kind}: {name} set of "
                            f"{len(mine)} ≠ the sales' {len(theirs)} "
                            f"({len(mine - theirs)} extra, {len(theirs - mine)} missing)"
                        )
    if over:
        found.append(f"… more rollup set differences not shown (first {limit} listed)")
    return found


# --- Everything at once ----------------------------------------------------------------------
@dataclass
class Books:
    """What :func:`check_books` found."""

    accounts: int = 0
    sales: int = 0
    trips: int = 0
    returns: int = 0
    rollup_rows: int = 0
    dirty_slices: int = 0
    rollups_checked: bool = True
    seconds: float = 0.0
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rollups = (
            f"{self.rollup_rows} rollup rows ({self.dirty_slices} dirty (day, store) slices "
            "skipped, waiting for the refresh)"
            if self.rollups_checked
            else "rollups not checked"
        )
        return (
            f"Checked {self.accounts} accounts, {self.sales} sales, {self.returns} returns, "
            f"{self.trips} trips, {rollups} in {self.seconds:.2f} s: "
            f"{len(self.differences)} difference(s), {len(self.notes)} note(s)."
        )


@contextmanager
def snapshot() -> Iterator[None]:
    """One consistent view for all the checks: a repeatable-read, read-only transaction.
    Inside a caller's transaction, the caller's."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql.AUDIT_SNAPSHOT)
        yield


def check_books(*, rollups: bool = True, limit: int = LIMIT) -> Books:
    """Run every check in one snapshot; ``rollups=False`` leaves the rollups out."""
    started = time.perf_counter()
    books = Books(rollups_checked=rollups)
    with snapshot():
        books.accounts, books.trips = quota_audit.counts()
        books.sales = Sale.objects.count()
        books.returns = Return.objects.count()
        accounts, suspects = _accounts(limit)
        books.differences += accounts
        books.differences += ledger_differences(limit=limit, accounts=suspects)
        books.differences += sale_differences(limit=limit)
        books.differences += trip_differences(limit=limit, notes=books.notes)
        books.differences += immediate_differences(limit=limit, notes=books.notes)
        books.differences += changes_without_events(limit=limit)
        if rollups:
            books.dirty_slices = dirty_slices()
            books.rollup_rows = DailyCategorySales.objects.count() + DailyStoreSales.objects.count()
            books.differences += rollup_differences(limit=limit)
    books.seconds = time.perf_counter() - started
    return books


def differences(*, rollups: bool = True) -> list[str]:
    """Every difference in the books (empty when they balance)."""
    return check_books(rollups=rollups).differences
