"""Every lock the quotas app takes, each with its strength and its place in the order.

Row locks come in two strengths here. ``FOR UPDATE`` (``select_for_update()``) is taken on a row
that may be deleted or whose key may change, and blocks even the foreign-key checks of rows
that reference it. ``FOR NO KEY UPDATE`` (``select_for_update(no_key=True)``) is enough for a row
whose columns change but whose key does not: inserts that reference it (a sale on an account, a
ledger entry, a trip of a shopper) go on while it is held. Every lock here waits for its holder
and lasts until the transaction ends; none is a try-lock. (The app takes no advisory lock.)

The order, never reversed, so that no two transactions deadlock:

1. A sale: the shopper row, then its account of the year, both ``FOR NO KEY UPDATE``, taken by
   one upsert (``quotas.services.quota_account_lock``: ``INSERT … ON CONFLICT DO UPDATE`` of the
   shopper, then of the account, in one statement; a write's own row locks, so it lives with the
   writes). The shopper row serialises the sales of a shopper across quota years too (two sales
   for one departure either side of local midnight on 31 December hold two accounts but one
   shopper). While a key rotation is under way, the shopper's re-keying (``shopper_rekey``, an
   ``UPDATE`` of the key: ``FOR UPDATE``) comes before, on the same shopper row. The sale's
   write statement then upserts a new trip of the shopper (its row, last).
   A return or void: the sale's account (:func:`quota_account_lock_by_id`, ``FOR NO KEY
   UPDATE``), then the sale row (``shops.locks``); never the shopper row, so it cannot close a
   cycle with a sale (shopper, then account). An import batch: its existing accounts
   (:func:`accounts_lock`) in id order; it inserts new shoppers and accounts with ``ON CONFLICT
   DO NOTHING`` and locks no shopper row, so it may wait for a sale's shopper or account but a
   sale never waits for a shopper it holds.
2. A ban: the ban (:func:`ban_lock`, ``FOR UPDATE``) when lifting one, then the shopper
   (:func:`shopper_lock`, ``FOR NO KEY UPDATE``): one writer of a shopper's bans at a time. No
   account lock follows, and a sale takes no ban lock: a ban and a sale of one shopper queue on
   the shopper row.
3. A policy: the policy row, ``FOR UPDATE`` to publish, withdraw, replace categories or save it
   (:func:`policy_lock`), ``FOR NO KEY UPDATE`` to edit one of its categories
   (:func:`policy_status_lock`): a publish waits for an edit to commit, or the edit sees the
   policy published.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from dutyfree.db import fetch_all, plain_array

from .models import Ban, Policy, QuotaAccount, Shopper


# --- The accounts: FOR NO KEY UPDATE -------------------------------------------------------
class AccountBalance(NamedTuple):
    """An account as :func:`accounts_lock` found it."""

    id: int
    used: Decimal
    limit: Decimal


# Set-based: a batch's (shopper, programme, year) keys matched as rows, in one statement.
_ACCOUNTS_READ = (
    'SELECT a.id, a.shopper_id, a.programme_id, a.year, a.used, a."limit" '
    "FROM quotas_quotaaccount AS a JOIN unnest(%s::bigint[], %s::bigint[], %s::int[]) "
    "AS k(shopper_id, programme_id, year) ON a.shopper_id = k.shopper_id "
    "AND a.programme_id = k.programme_id AND a.year = k.year ORDER BY a.id"
)
# The same, locked in id order: the lock's SQL stays in the lock module, which says its strength.
_ACCOUNTS_LOCK = f"{_ACCOUNTS_READ} FOR NO KEY UPDATE OF a"


def accounts_lock(
    wanted: Sequence[tuple[int, int, int]], *, lock: bool = True
) -> dict[tuple[int, int, int], AccountBalance]:
    """(id, used, limit) by (shopper, programme, year) of the existing accounts among
    ``wanted``, locked ``FOR NO KEY UPDATE`` until the transaction ends unless ``lock`` is false
    (a dry run reads them only). An import batch's lock: the lock every sale, return and void
    takes, taken in id order, so that two imports cannot deadlock and a sale holds one account
    at a time; it waits for a holder. One statement, the keys as one array per column."""
    if not wanted:
        return {}
    sql = _ACCOUNTS_LOCK if lock else _ACCOUNTS_READ
    rows = fetch_all(sql, [plain_array(column) for column in zip(*wanted, strict=True)])
    return {(s, p, y): AccountBalance(pk, used, limit) for pk, s, p, y, used, limit in rows}


def quota_account_lock_by_id(account_id: int) -> QuotaAccount:
    """The account a sale was made on, ``FOR NO KEY UPDATE`` as a sale locks it; waits for a
    holder. A return or void takes it first, before the sale's own row (``shops.locks``), in
    the order a sale takes its locks."""
    return QuotaAccount.objects.select_for_update(no_key=True).get(pk=account_id)


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
