"""Writing one batch of legacy receipts, in one transaction.

Receipts already in ``shops_sale`` are skipped; the shoppers' quota accounts are locked (the
lock every live sale takes, in id order) and a receipt that would take its account over the
limit is rejected; then shoppers, accounts and trips are inserted in bulk and the balances move
(:mod:`quotas.bulk`: quotas writes its own tables and the ledger), and sales and lines go in by
``COPY`` and the dirty-day marks by one ``INSERT`` per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dutyfree import money
from dutyfree.db import (
    COPY_NULL,
    copy_rows,
    copy_text,
    execute,
    fetch_all,
    next_ids,
    plain_array,
    text_array,
)
from quotas import bulk, rules
from quotas.choices import (
    EntryKind,
    TravellerKind,
)
from quotas.locks import accounts_lock
from shops import sql
from shops.imports.reading import (
    TERMINAL_NAME,
    LegacyTrip,
    Person,
    Receipt,
)
from shops.models import (
    Sale,
    SaleLine,
    SaleStatus,
    Terminal,
)
from shops.pos.checkout import SALE_COLUMNS

_RESIDENT = TravellerKind.RESIDENT.value
_COMPLETED = SaleStatus.COMPLETED.value
_IMPORT = EntryKind.IMPORT.value


# --- Writing --------------------------------------------------------------------------------------
class Retry(Exception):
    """A concurrent writer created a row this batch meant to create: roll back, read again.
    (On PostgreSQL the row's unique index says so first, as an ``IntegrityError``.)"""


@dataclass(slots=True)
class _Account:
    id: int | None  # None: to be opened by this batch
    limit: Decimal
    used: Decimal  # as found (and locked) when the batch began
    after: Decimal  # after the batch's receipts accepted so far


@dataclass
class Outcome:
    accepted: list[Receipt] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0
    notes: list[tuple[int, str]] = field(default_factory=list)
    spent: dict[tuple[str, int, int], Decimal] = field(default_factory=dict)


AccountKey = tuple[str, int, int]  # (document key, programme id, year)


def write_batch(
    receipts: Sequence[Receipt],
    *,
    db: SalesTables,
    terminals: dict[int, int],
    spent_before: dict[AccountKey, Decimal],
    now: datetime,
    dry_run: bool,
) -> Outcome:
    """Skip the receipts already stored, spend each shopper's quota in ``sold_at`` order
    under the account locks, and write the receipts that fit (not in a dry run).

    Call inside a transaction. ``spent_before`` (dry run only) is what the earlier batches
    would have spent of each account, as a dry run writes nothing for the next batch to read;
    the outcome's ``spent`` is the same, this batch included.

    :raises Retry, IntegrityError: a concurrent writer created a shopper, account or trip
        meanwhile.
    """
    outcome = Outcome()
    fresh = _not_stored(receipts, db=db, outcome=outcome)
    shoppers = bulk.shopper_ids(sorted({r.account_key[0] for r in fresh}))
    accounts = _accounts(fresh, shoppers=shoppers, spent_before=spent_before, lock=not dry_run)
    for receipt in fresh:
        account = accounts[receipt.account_key]
        refused = _refusal(receipt, account=account, terminals=terminals)
        if refused is not None:
            outcome.errors.append(
                (receipt.first_line, f"{receipt.where(receipt.first_line)}: {refused}")
            )
            continue
        account.after += receipt.total
        receipt.used_after = account.after
        outcome.accepted.append(receipt)
    if dry_run:
        outcome.spent = {
            key: account.after - account.used
            for key, account in accounts.items()
            if account.after != account.used
        }
    elif outcome.accepted:
        _write(
            outcome.accepted,
            db=db,
            accounts=accounts,
            shoppers=shoppers,
            terminals=terminals,
            now=now,
        )
    return outcome


def _not_stored(receipts: Sequence[Receipt], *, db: SalesTables, outcome: Outcome) -> list[Receipt]:
    """The receipts not yet in ``shops_sale``. The others are counted as skipped, with a note
    for each whose stored content differs: a re-run never changes a sale."""
    existing = db.existing_receipts([r.receipt_no for r in receipts])
    fresh = []
    for receipt in receipts:
        stored = existing.get(receipt.receipt_no)
        if stored is None:
            fresh.append(receipt)
            continue
        outcome.skipped += 1
        if stored != receipt.fingerprint:
            outcome.notes.append(
                (
                    receipt.first_line,
                    f"{receipt.where(receipt.first_line)}: already in the database with other "
                    "content; skipped, not changed",
                )
            )
    return fresh


def _accounts(
    receipts: list[Receipt],
    *,
    shoppers: dict[str, int],
    spent_before: dict[AccountKey, Decimal],
    lock: bool,
) -> dict[AccountKey, _Account]:
    """Each receipt's quota account: as found, and locked (``lock``) until the transaction
    ends, or to be opened with the annual limit of the receipt's policy; plus what the earlier
    batches of a dry run spent of it."""
    found = accounts_lock(
        sorted(
            {
                (shoppers[key], programme, year)
                for key, programme, year in (r.account_key for r in receipts)
                if key in shoppers
            }
        ),
        lock=lock,
    )
    accounts: dict[AccountKey, _Account] = {}
    for receipt in receipts:
        key = receipt.account_key
        if key in accounts:
            continue
        row = found.get((shoppers.get(key[0], 0), key[1], key[2]))
        if row is None:
            limit = receipt.version.policy.annual_limit  # type: ignore[union-attr]  # resolved
            account = _Account(None, limit, money.ZERO, money.ZERO)
        else:
            account = _Account(row.id, row.limit, row.used, row.used)
        account.after += spent_before.get(key, money.ZERO)
        accounts[key] = account
    return accounts


def _refusal(receipt: Receipt, *, account: _Account, terminals: dict[int, int]) -> str | None:
    """Why the receipt cannot be written (its store has no import terminal, or its total
    would take the account over its limit), or None."""
    if receipt.store_id not in terminals:
        return (
            f"store_code: the store has an active terminal named {TERMINAL_NAME!r}; rename it, "
            "so that imports get their own revoked one"
        )
    after = account.after + receipt.total
    if after > account.limit:
        return (
            f"quota: the receipt's total {money.to_str(receipt.total)} would take the "
            f"shopper's {receipt.account_key[2]} quota to {money.to_str(after)}, over the limit "
            f"of {money.to_str(account.limit)} (already used {money.to_str(account.after)}); "
            "rejected"
        )
    return None


def _write(
    receipts: list[Receipt],
    *,
    db: SalesTables,
    accounts: dict[AccountKey, _Account],
    shoppers: dict[str, int],
    terminals: dict[int, int],
    now: datetime,
) -> None:
    """Shoppers, accounts, balances, trips, sales, lines, ledger entries, dirty marks.

    :raises Retry, IntegrityError: a concurrent writer created a shopper, account or trip
        meanwhile.
    """
    created = _insert_shoppers(receipts, shoppers=shoppers, now=now)
    _move_balances(accounts, shoppers=shoppers, now=now)
    trips = _trips(receipts, shoppers=shoppers, created=created, now=now)
    sale_ids = db.insert_sales(
        _sale_rows(receipts, accounts=accounts, shoppers=shoppers, trips=trips, terminals=terminals)
    )
    db.insert_lines(receipts, sale_ids)
    bulk.ledger_append(
        [
            (accounts[r.account_key].id, _IMPORT, r.total, f"sale:{sale_id}")  # type: ignore[misc]  # every account has its id by now
            for r, sale_id in zip(receipts, sale_ids, strict=True)
        ],
        now=now,
    )
    slices = {(r.local_date, r.store_id) for r in receipts}
    db.mark_dirty(sorted(slices), now)  # type: ignore[arg-type]  # a written receipt has a date


def _insert_shoppers(
    receipts: list[Receipt], *, shoppers: dict[str, int], now: datetime
) -> set[str]:
    """Insert the shoppers first seen here, with the facts of their latest receipt, into
    ``shoppers``; returns their document keys. A shopper already known keeps the facts last
    presented at a till: they are newer than any legacy receipt.

    :raises Retry, IntegrityError: a concurrent writer created one of them meanwhile.
    """
    latest: dict[str, Person] = {
        r.account_key[0]: r.person  # type: ignore[misc]  # a resolved receipt has a person
        for r in receipts
        if r.account_key[0] not in shoppers
    }
    if latest:
        people = [
            (p.doc_type, p.country, key, p.last4, p.name_key, p.birth_date.year, p.hainan_resident)
            for key, p in sorted(latest.items())
        ]
        created = bulk.shoppers_insert(people, now=now)
        if len(created) != len(people):
            raise Retry
        shoppers.update(created)
    return set(latest)


def _move_balances(
    accounts: dict[AccountKey, _Account], *, shoppers: dict[str, int], now: datetime
) -> None:
    """Open the accounts this batch spends first, each with its final balance; move the others'
    by one UPDATE. Every account spent has its id afterwards.

    :raises Retry, IntegrityError: a concurrent writer opened one of them meanwhile.
    """
    spent = {key: account for key, account in accounts.items() if account.after != account.used}
    opened = sorted(
        (shoppers[key[0]], key[1], key[2], account.limit, account.after)
        for key, account in spent.items()
        if account.id is None
    )
    ids: dict[tuple[int, int, int], int] = {}
    if opened:
        ids = bulk.accounts_open(opened, now=now)
        if len(ids) != len(opened):
            raise Retry
    moved = []
    for key, account in spent.items():
        if account.id is None:
            account.id = ids[(shoppers[key[0]], key[1], key[2])]
        else:
            moved.append((account.id, account.after - account.used))
    bulk.accounts_move(sorted(moved), now=now)


def _sale_rows(
    receipts: list[Receipt],
    *,
    accounts: dict[AccountKey, _Account],
    shoppers: dict[str, int],
    trips: dict[bulk.TripKey, int],
    terminals: dict[int, int],
) -> list[tuple[Any, ...]]:
    """The receipts as ``shops_sale`` rows, in :meth:`SalesTables.insert_sales`' order: completed,
    imported, nothing returned, the key and fingerprint the receipt's number and content."""
    sales = []
    for r in receipts:
        shopper = shoppers[r.account_key[0]]
        trip = r.trip
        sales.append(
            (
                r.receipt_no,
                r.store_id,
                terminals[r.store_id],
                shopper,
                None if trip is None else trips[(shopper, trip.carrier_ref, trip.departs_at)],
                accounts[r.account_key].id,
                r.version.policy.id,  # type: ignore[union-attr]  # resolved
                r.sold_at,
                r.local_date,
                r.pickup,
                rules.age_on(r.person.birth_date, r.local_date),  # type: ignore[union-attr,arg-type]  # resolved
                r.person.hainan_resident,  # type: ignore[union-attr]  # resolved
                _RESIDENT if trip is None else trip.kind,
                _COMPLETED,
                r.total,
                money.ZERO,
                r.used_after,
                r.receipt_no,
                r.fingerprint,
                True,
            )
        )
    return sales


def _trips(
    receipts: list[Receipt],
    *,
    shoppers: dict[str, int],
    created: set[str],
    now: datetime,
) -> dict[bulk.TripKey, int]:
    """Each receipt's trip by (shopper, carrier reference, departure): found or inserted.

    :raises Retry, IntegrityError: a concurrent writer created one of them meanwhile.
    """
    wanted: dict[bulk.TripKey, LegacyTrip] = {}
    for receipt in receipts:
        trip = receipt.trip
        if trip is not None:
            wanted.setdefault(
                (shoppers[receipt.account_key[0]], trip.carrier_ref, trip.departs_at), trip
            )
    if not wanted:
        return {}
    new_shoppers = {shoppers[key] for key in created}  # cannot have trips yet
    found = bulk.trips_find(sorted(key for key in wanted if key[0] not in new_shoppers))
    missing = sorted(key for key in wanted if key not in found)
    if missing:
        rows = [(key[0], wanted[key].kind, wanted[key].mode, key[1], key[2]) for key in missing]
        inserted = bulk.trips_insert(rows, now=now)
        if len(inserted) != len(rows):
            raise Retry
        found.update(inserted)
    return found


# --- Storage: the sales' own tables (the quota half: quotas.bulk) ----------------------------
# In the order of Item.copy and Amount.copy.
_LINE_COLUMNS = (
    "sale",
    "line_no",
    "product",
    "sku",
    "category_code",
    "pieces",
    "volume_ml",
    "immediate_kind",
    "quantity",
    "unit_price",
    "amount",
    "returned_quantity",
)


class SalesTables:
    """Set-based reads and writes of one batch's sales, lines and dirty marks, as
    :mod:`quotas.bulk` does for shoppers, accounts, trips and the ledger."""

    def begin(self, *, last: bool) -> None:
        if not last:  # the last batch's commit flushes the WAL of all the batches before it
            execute(sql.IMPORT_ASYNC_COMMIT, [])

    def existing_receipts(self, receipt_nos: Sequence[str]) -> dict[str, str]:
        return dict(fetch_all(sql.IMPORT_EXISTING_RECEIPTS, [text_array(receipt_nos)]))

    def insert_sales(self, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        ids = next_ids(Sale, len(rows))
        text = "".join(
            [
                f"{pk}\t{copy_text(receipt_no)}\t{store}\t{terminal}\t{shopper}\t"
                f"{COPY_NULL if trip is None else trip}\t{account}\t{policy}\t"
                f"{sold_at.isoformat()}\t{local_date}\t{pickup}\t"
                f"{age}\t{'t' if resident else 'f'}\t{kind}\t{status}\t{total}\t"
                f"{returned}\t{after}\t{copy_text(key)}\t{fingerprint}\t"
                f"{'t' if imported else 'f'}\n"
                for pk, (
                    receipt_no,
                    store,
                    terminal,
                    shopper,
                    trip,
                    account,
                    policy,
                    sold_at,
                    local_date,
                    pickup,
                    age,
                    resident,
                    kind,
                    status,
                    total,
                    returned,
                    after,
                    key,
                    fingerprint,
                    imported,
                ) in zip(ids, rows, strict=True)
            ]
        )
        copy_rows(Sale, ("id", *SALE_COLUMNS), text)
        return ids

    def insert_lines(self, receipts: Sequence[Receipt], sale_ids: Sequence[int]) -> None:
        text = "".join(
            [
                f"{sale_id}\t{number}\t{item.copy}\t{amount.copy}\t0\n"
                for receipt, sale_id in zip(receipts, sale_ids, strict=True)
                for number, (_, item, amount) in enumerate(receipt.lines, start=1)
            ]
        )
        copy_rows(SaleLine, _LINE_COLUMNS, text)

    def mark_dirty(self, slices: Sequence[tuple[date, int]], now: datetime) -> None:
        days, stores = zip(*slices, strict=True)
        execute(sql.IMPORT_MARK_DIRTY, [now, plain_array(days), plain_array(stores)])


# --- Terminals ------------------------------------------------------------------------------------
def import_terminals(
    store_ids: Iterable[int], *, now: datetime, dry_run: bool = False
) -> dict[int, int]:
    """Each store's ``legacy-import`` terminal by store id, created on demand and revoked
    from birth: its key is never shown, and a revoked terminal never authenticates
    (``shops.api.auth``). A store whose terminal of that name is active is left out. In a dry
    run nothing is created (id 0)."""
    wanted = set(store_ids)
    found = {
        store: (pk, revoked)
        for store, pk, revoked in Terminal.objects.filter(
            name=TERMINAL_NAME, store_id__in=wanted
        ).values_list("store_id", "id", "revoked_at")
    }
    terminals = {}
    for store_id in sorted(wanted):
        if store_id in found:
            pk, revoked = found[store_id]
            if revoked is not None:
                terminals[store_id] = pk
            continue
        if dry_run:
            terminals[store_id] = 0
            continue
        _, prefix, key_hash = Terminal.new_key()  # the key itself is dropped at once
        terminal, _ = Terminal.objects.get_or_create(
            store_id=store_id,
            name=TERMINAL_NAME,
            defaults={"key_prefix": prefix, "key_hash": key_hash, "revoked_at": now},
        )
        if terminal.revoked_at is not None:
            terminals[store_id] = terminal.pk
    return terminals
