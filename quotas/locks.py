"""Every lock the quotas app takes, each with its strength and its place in the order.

Row locks come in two strengths here. ``FOR UPDATE`` (``select_for_update()``) is taken on a row
that may be deleted or whose key may change, and blocks even the foreign-key checks of rows
that reference it. ``FOR NO KEY UPDATE`` (``select_for_update(no_key=True)``) is enough for a row
whose columns change but whose key does not: inserts that reference it (a sale on an account, a
ledger entry, a trip of a shopper) go on while it is held. Advisory locks lock no row: a number
(its key comes from ``dutyfree.locks``, the one registry). Every lock here waits for its holder
and lasts until the transaction ends; none is a try-lock.

The order, never reversed, so that no two transactions deadlock:

1. A sale, return or void: the shopper's account of the year (:func:`account_of_document_lock`,
   :func:`account_lock` or :func:`quota_account_lock_by_id`, ``FOR NO KEY UPDATE``; an import
   batch: its accounts, :func:`accounts_lock`, in id order), first;
   then, for a sale with a trip, :func:`shopper_trips_lock` (advisory), always last. (A return
   or void then locks the sale row: ``shops.locks``.) The shopper row itself is not locked on
   this path: the first purchase's upsert of the shopper (``ON CONFLICT DO UPDATE``) locks its
   row before the account is inserted, and nothing on the path locks them the other way round.
2. A ban: the ban (:func:`ban_lock`, ``FOR UPDATE``) when lifting one, then the shopper
   (:func:`shopper_lock`, ``FOR NO KEY UPDATE``): one writer of a shopper's bans at a time.
3. A policy: the policy row, ``FOR UPDATE`` to publish, withdraw, replace categories or save it
   (:func:`policy_lock`), ``FOR NO KEY UPDATE`` to edit one of its categories
   (:func:`policy_status_lock`): a publish waits for an edit to commit, or the edit sees the
   policy published.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from dutyfree.db import fetch_all, loaded, plain_array, select_rows
from dutyfree.locks import SHOPPER_TRIPS

from .models import Ban, Policy, QuotaAccount, Shopper


# --- The account: FOR NO KEY UPDATE ----------------------------------------------------------
def _accounts() -> QuerySet[QuotaAccount]:
    # no_key: sales and entries reference the account; a no-key lock leaves their foreign-key
    # checks unblocked. of=self: the joined shopper row is read, not locked.
    return QuotaAccount.objects.select_for_update(no_key=True, of=("self",)).select_related(
        "shopper"
    )


def account_lock(*, shopper_id: int, programme_id: int, year: int) -> QuotaAccount:
    """The shopper's account of ``year``, ``FOR NO KEY UPDATE`` of the account (the shopper row
    joined is read, not locked), with its ``shopper``; waits for a holder. Through the ORM: the
    path of a first purchase that met a concurrent one's new account."""
    return _accounts().get(shopper_id=shopper_id, programme_id=programme_id, year=year)


# The hot path's account lock: the same rows and lock as account_lock() (FOR NO KEY UPDATE OF the
# account only), one hand-written statement (docs/ARCHITECTURE.md, "Hand-written statements").
_ACCOUNT_OF_DOCUMENT_SQL = (
    'SELECT a.id, a.used, a."limit", s.id, s.document_type, s.document_country, '
    "s.document_last4, s.banned_from, s.banned_until, s.birth_year, s.hainan_resident, "
    "s.name_key "
    "FROM quotas_quotaaccount AS a JOIN quotas_shopper AS s ON s.id = a.shopper_id "
    "WHERE s.document_key = %s AND a.programme_id = %s AND a.year = %s "
    "FOR NO KEY UPDATE OF a"
)
_ACCOUNT_OF_DOCUMENT_FIELDS = [
    *(QuotaAccount._meta.get_field(name) for name in ("id", "used", "limit")),
    *(
        Shopper._meta.get_field(name)
        for name in (
            "id",
            "document_type",
            "document_country",
            "document_last4",
            "banned_from",
            "banned_until",
            "birth_year",
            "hainan_resident",
            "name_key",
        )
    ),
]


def account_of_document_lock(
    *, document_key: str, programme_id: int, year: int
) -> QuotaAccount | None:
    """The account of ``year`` of the shopper with this document key, ``FOR NO KEY UPDATE`` of
    the account only (the shopper row is read, not locked), with its ``shopper``; waits for a
    holder. ``None`` when the shopper or the account does not exist (nothing is locked then).
    One statement: the lock every sale takes first."""
    rows = select_rows(
        _ACCOUNT_OF_DOCUMENT_SQL, [document_key, programme_id, year], _ACCOUNT_OF_DOCUMENT_FIELDS
    )
    if not rows:
        return None
    (
        account_id,
        used,
        limit,
        shopper_id,
        doc_type,
        country,
        last4,
        banned_from,
        banned_until,
        birth_year,
        resident,
        name_key,
    ) = rows[0]
    shopper = loaded(
        Shopper,
        id=shopper_id,
        document_type=doc_type,
        document_country=country,
        document_key=document_key,
        document_last4=last4,
        banned_from=banned_from,
        banned_until=banned_until,
        birth_year=birth_year,
        hainan_resident=resident,
        name_key=name_key,
    )
    account = loaded(
        QuotaAccount,
        id=account_id,
        shopper=shopper_id,
        programme=programme_id,
        year=year,
        limit=limit,
        used=used,
    )
    account.shopper = shopper
    return account


def accounts_lock(
    wanted: Sequence[tuple[int, int, int]], *, lock: bool = True
) -> dict[tuple[int, int, int], tuple[int, Decimal, Decimal]]:
    """(id, used, limit) by (shopper, programme, year) of the existing accounts among
    ``wanted``, locked ``FOR NO KEY UPDATE`` until the transaction ends unless ``lock`` is false
    (a dry run reads them only). An import batch's lock: the lock every sale, return and void
    takes, taken in id order, so that two imports cannot deadlock and a sale holds one account
    at a time; it waits for a holder. One statement, the keys as one array per column."""
    if not wanted:
        return {}
    sql = (
        'SELECT a.id, a.shopper_id, a.programme_id, a.year, a.used, a."limit" '
        "FROM quotas_quotaaccount AS a JOIN unnest(%s::bigint[], %s::bigint[], %s::int[]) "
        "AS k(shopper_id, programme_id, year) ON a.shopper_id = k.shopper_id "
        "AND a.programme_id = k.programme_id AND a.year = k.year ORDER BY a.id"
        + (" FOR NO KEY UPDATE OF a" if lock else "")
    )
    rows = fetch_all(sql, [plain_array(column) for column in zip(*wanted, strict=True)])
    return {(s, p, y): (pk, used, limit) for pk, s, p, y, used, limit in rows}


def quota_account_lock_by_id(account_id: int) -> QuotaAccount:
    """The account a sale was made on, ``FOR NO KEY UPDATE`` as a sale locks it; waits for a
    holder. A return or void takes it first, before the sale's own row (``shops.locks``), in
    the order a sale takes its locks."""
    return QuotaAccount.objects.select_for_update(no_key=True).get(pk=account_id)


# --- A shopper's trips: advisory -------------------------------------------------------------
_SHOPPER_TRIPS_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, %s)"


def shopper_trips_lock(shopper_id: int) -> None:
    """Serialise the per-trip recounts of one shopper across quota years: two sales for one
    departure either side of local midnight on 31 December hold two different year accounts,
    so the account lock alone lets both count the trip without seeing each other.

    A transaction-scoped advisory lock on two keys (``dutyfree.locks.SHOPPER_TRIPS``, the
    shopper's id) that waits for its holder; taken after the account lock (always in that
    order), for the rest of the transaction. Not a lock on the shopper row: it writes nothing (a row
    lock marks the shopper's tuple, a dirty page and WAL on every sale), and, always taken
    last, it cannot invert the order of the first purchase's upsert (shopper row, then
    account)."""
    with connection.cursor() as cursor:
        cursor.execute(_SHOPPER_TRIPS_LOCK_SQL, [SHOPPER_TRIPS.key, shopper_id % 2**31])


# --- Bans: the ban FOR UPDATE, the shopper FOR NO KEY UPDATE ----------------------------------
def ban_lock(ban_id: int) -> Ban:
    """The ban, ``FOR UPDATE``; waits for a holder. Taken before :func:`shopper_lock`."""
    return Ban.objects.select_for_update().get(pk=ban_id)


def shopper_lock(shopper_id: int) -> None:
    """One writer of a shopper's bans at a time: the shopper row, ``FOR NO KEY UPDATE`` (sales
    creating accounts and trips that reference the shopper are not blocked by it); waits for a
    holder. After :func:`ban_lock` when both are taken."""
    Shopper.objects.select_for_update(no_key=True).only("id").get(pk=shopper_id)


# --- Policies: FOR UPDATE to change one, FOR NO KEY UPDATE to edit a category -----------------
def policy_lock(policy_id: int) -> Policy | None:
    """The policy, ``FOR UPDATE`` (a publish, a withdrawal, a CSV replace of its categories, a
    save), so that a concurrent publish cannot slip between a check and the write; waits for a
    holder. ``None``: no such policy."""
    return Policy.objects.select_for_update().filter(pk=policy_id).first()


def policy_status_lock(policy_id: int) -> str | None:
    """The policy's status, its row ``FOR NO KEY UPDATE`` (an edit of one of its categories,
    which references the policy); waits for a holder, and a publish (:func:`policy_lock`)
    waits for it. ``None``: no such policy."""
    return (
        Policy.objects.select_for_update(no_key=True)
        .filter(pk=policy_id)
        .values_list("status", flat=True)
        .first()
    )
