"""Set-based reads and writes of shoppers, accounts, trips and the ledger, batch by batch.

The bulk half of the quota services, for ``manage.py import_sales``: what
:func:`quotas.services.quota_account_lock`, :func:`~quotas.services.sale_trip_part` and
:func:`~quotas.services.sale_debit_part` do for one sale, these do for thousands in a few
statements. Keys go as one array literal per column (one statement whatever the batch size);
new rows are streamed with ``COPY``, with ids drawn beforehand from each table's sequence.

Rows are inserted only after the caller found them missing: a row created meanwhile by
another writer fails on its unique index (``IntegrityError``) or comes back short, and the
caller rolls the batch back and reads again. Call inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from dutyfree.db import (
    IsoStamp,
    copy_rows,
    copy_text,
    execute,
    fetch_all,
    next_ids,
    plain_array,
    text_array,
    time_array,
)

from . import identity, sql
from .models import QuotaAccount, QuotaEntry, Shopper, Trip

AccountKey = tuple[int, int, int]  # (shopper id, programme id, year)
TripKey = tuple[int, str, datetime]  # (shopper id, carrier reference, departure)


_SHOPPER_COLUMNS = (
    "id",
    "document_type",
    "document_country",
    "document_key",
    "document_last4",
    "name_key",
    "key_version",
    "birth_year",
    "hainan_resident",
    "created_at",
    "updated_at",
)
_ACCOUNT_COLUMNS = ("id", "shopper", "programme", "year", "limit", "used", "updated_at")
_TRIP_COLUMNS = ("id", "shopper", "kind", "mode", "carrier_ref", "departs_at", "created_at")
_ENTRY_COLUMNS = ("account", "kind", "amount", "reference", "created_at")


def shopper_ids(document_keys: Sequence[str]) -> dict[str, int]:
    """The ids of the shoppers known under these document keys (current key version)."""
    return dict(
        fetch_all(
            sql.SHOPPER_IDS,
            [plain_array(document_keys)],  # hexadecimal
        )
    )


def shoppers_insert(
    shoppers: Sequence[tuple[str, str, str, str, str, int, bool]], *, now: datetime
) -> dict[str, int]:
    """Insert shoppers (document type, country, document key, last four, name key, year of
    birth, resident) under the current key version; their ids by document key."""
    stamp = IsoStamp()(now)
    version = identity.current_version()
    ids = next_ids(Shopper, len(shoppers))
    text = "".join(
        [
            # Every value is an enumeration, letters and digits, hexadecimal or a number.
            f"{pk}\t{doc_type}\t{country}\t{key}\t{last4}\t{name_key}\t{version}\t"
            f"{year}\t{'t' if resident else 'f'}\t{stamp}\t{stamp}\n"
            for pk, (doc_type, country, key, last4, name_key, year, resident) in zip(
                ids, shoppers, strict=True
            )
        ]
    )
    copy_rows(Shopper, _SHOPPER_COLUMNS, text)
    return {key: pk for (_, _, key, _, _, _, _), pk in zip(shoppers, ids, strict=True)}


def accounts_open(
    accounts: Sequence[tuple[int, int, int, Decimal, Decimal]], *, now: datetime
) -> dict[AccountKey, int]:
    """Open accounts (shopper, programme, year, limit, used) with their balance already
    spent (their ledger entries follow: :func:`ledger_append`); their ids by key."""
    stamp = IsoStamp()(now)
    ids = next_ids(QuotaAccount, len(accounts))
    text = "".join(
        [
            f"{pk}\t{shopper}\t{programme}\t{year}\t{limit}\t{used}\t{stamp}\n"
            for pk, (shopper, programme, year, limit, used) in zip(ids, accounts, strict=True)
        ]
    )
    copy_rows(QuotaAccount, _ACCOUNT_COLUMNS, text)
    return {
        (shopper, programme, year): pk
        for (shopper, programme, year, _, _), pk in zip(accounts, ids, strict=True)
    }


def accounts_move(deltas: Sequence[tuple[int, Decimal]], *, now: datetime) -> None:
    """Add each (account id, amount) to the account's balance, in one statement. The caller
    holds the accounts' locks (:func:`accounts_lock`) and appends the matching entries."""
    if not deltas:
        return
    ids, amounts = zip(*deltas, strict=True)
    execute(
        sql.ACCOUNTS_MOVE,
        [now, plain_array(ids), plain_array(amounts)],
    )


def ledger_append(entries: Sequence[tuple[int, str, Decimal, str]], *, now: datetime) -> None:
    """Append ledger entries (account id, kind, amount, reference) by ``COPY``: the entries of
    balances opened by :func:`accounts_open` or moved by :func:`accounts_move`."""
    stamp = IsoStamp()(now)
    text = "".join(
        [
            f"{account}\t{kind}\t{amount}\t{copy_text(reference)}\t{stamp}\n"
            for account, kind, amount, reference in entries
        ]
    )
    copy_rows(QuotaEntry, _ENTRY_COLUMNS, text)


def trips_find(keys: Sequence[TripKey]) -> dict[TripKey, int]:
    """The ids of the trips among ``keys`` that exist."""
    if not keys:
        return {}
    shoppers, carriers, departures = zip(*keys, strict=True)
    rows = fetch_all(
        sql.TRIPS_FIND,
        [plain_array(shoppers), text_array(carriers), time_array(departures)],
    )
    return {(s, c, d): pk for pk, s, c, d in rows}


def trips_insert(
    trips: Sequence[tuple[int, str, str, str, datetime]], *, now: datetime
) -> dict[TripKey, int]:
    """Insert trips (shopper, kind, mode, carrier reference as :func:`quotas.rules.carrier_ref_key`
    gives it, departure); their ids by key."""
    stamp = IsoStamp()(now)
    ids = next_ids(Trip, len(trips))
    text = "".join(
        [
            # kind and mode are enumerations; a carrier reference is letters, digits, spaces,
            # dashes and slashes.
            f"{pk}\t{shopper}\t{kind}\t{mode}\t{carrier}\t{departs.isoformat()}\t{stamp}\n"
            for pk, (shopper, kind, mode, carrier, departs) in zip(ids, trips, strict=True)
        ]
    )
    copy_rows(Trip, _TRIP_COLUMNS, text)
    return {
        (shopper, carrier, departs): pk
        for (shopper, _, _, carrier, departs), pk in zip(trips, ids, strict=True)
    }
