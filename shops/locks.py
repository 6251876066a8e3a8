"""Every lock the shops app takes, each with its strength and its place in the order.

The strengths are those of ``quotas/locks.py`` (row locks ``FOR UPDATE`` or ``FOR NO KEY
UPDATE``; advisory locks, keyed from ``dutyfree.locks``, the one registry); every lock lasts until
the transaction ends. A lock of a quota table is never taken here: shops calls ``quotas.locks``.

The order, never reversed, so that no two transactions deadlock:

1. A sale (``checkout.sale_commit``): the (terminal, Idempotency-Key) try-lock
   (:data:`IDEMPOTENCY_KEY_TRY_LOCK`, in the statement that looks for the key's earlier
   answer); then the shopper row and its account of the year, ``FOR NO KEY UPDATE``, by one
   upsert (``quotas.services.quota_account_lock``; the order in ``quotas.locks``); its write
   statement then inserts rows only (a new trip, an upsert of the shopper's own departure).
2. A return: the same try-lock (:func:`idempotency_key_try_lock`), then
   :func:`account_then_sale_lock` (the account, then the sale). A void: the account, then the
   sale. A pickup: the sale alone (:func:`sale_lock`).
3. The rollups: :func:`rollups_lock`, alone in its transaction (a refresh runs after the commit
   that marked a day dirty, never inside it).
4. The event feed: :func:`events_dispatch_locked` skips the events another pump holds (``FOR
   UPDATE SKIP LOCKED``: it never waits), alone in its transaction; :func:`endpoint_lock`
   (``FOR NO KEY UPDATE`` of one endpoint, waiting) alone in a rotation's.

A try-lock never waits, so it cannot close a cycle; it comes first all the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from dutyfree.locks import ROLLUPS, TERMINAL_IDEMPOTENCY
from quotas.locks import quota_account_lock_by_id
from quotas.models import QuotaAccount
from shops.models import Endpoint, Sale

# --- A request in flight with a terminal's Idempotency-Key: advisory, try ---------------------
# A transaction-scoped advisory try-lock on two keys (dutyfree.locks.TERMINAL_IDEMPOTENCY: the
# terminal's id, the key's hash), an SQL expression true when taken: held while the first
# request with the key runs, so that a concurrent retry is told 409 instead of waiting. The sale
# path embeds it in a bigger statement (checkout); its parameters: idempotency_key_lock_params.
IDEMPOTENCY_KEY_TRY_LOCK = "pg_try_advisory_xact_lock(%s, hashtext(%s))"
# An advisory lock has no ORM spelling: the try-lock in a statement of its own.
_IDEMPOTENCY_KEY_TRY_LOCK_SQL = f"SELECT {IDEMPOTENCY_KEY_TRY_LOCK}"


def idempotency_key_lock_params(terminal_id: int, key: str) -> list[Any]:
    """The parameters of :data:`IDEMPOTENCY_KEY_TRY_LOCK`: the terminal's id is the first key,
    inside the space the registry gives the terminals."""
    if terminal_id not in TERMINAL_IDEMPOTENCY.first:
        raise ValueError(f"terminal id {terminal_id} is outside {TERMINAL_IDEMPOTENCY.name}")
    return [terminal_id, key]


def idempotency_key_try_lock(*, terminal_id: int, key: str) -> bool:
    """The advisory try-lock :data:`IDEMPOTENCY_KEY_TRY_LOCK` in a statement of its own:
    ``True`` when taken (until the transaction ends), ``False`` at once when another
    transaction holds it (it never waits)."""
    with connection.cursor() as cursor:
        cursor.execute(_IDEMPOTENCY_KEY_TRY_LOCK_SQL, idempotency_key_lock_params(terminal_id, key))
        (taken,) = cursor.fetchone()
        return bool(taken)


# --- A sale: FOR NO KEY UPDATE, after its account ---------------------------------------------
def sale_lock(sale_id: int) -> Sale:
    """The sale, ``FOR NO KEY UPDATE`` of the sale row only (return lines and records reference
    it; its store and terminal are read, not locked), with its store and terminal; waits for a
    holder. After the sale's account when both are taken (:func:`account_then_sale_lock`)."""
    return (
        Sale.objects.select_for_update(no_key=True, of=("self",))
        .select_related("store", "terminal")
        .get(pk=sale_id)
    )


def account_then_sale_lock(*, account_id: int, sale_id: int) -> tuple[QuotaAccount, Sale]:
    """The sale's quota account (``quotas.locks.quota_account_lock_by_id``, ``FOR NO KEY
    UPDATE``), then the sale (:func:`sale_lock`): the order a sale takes them in, so that a
    return or void and a purchase of the same shopper never deadlock. Both wait."""
    return quota_account_lock_by_id(account_id), sale_lock(sale_id)


# --- The rollups: advisory, waiting -----------------------------------------------------------
# An advisory lock has no ORM spelling: one key, waiting for its holder.
_ROLLUPS_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s)"


def rollups_lock() -> None:
    """One writer of the rollups at a time (a refresh or a rebuild): a transaction-scoped
    advisory lock on one key (``dutyfree.locks.ROLLUPS``) that waits for its holder. Taken
    first in its transaction, before the row locks of the rollups' own statements."""
    with connection.cursor() as cursor:
        cursor.execute(_ROLLUPS_LOCK_SQL, [ROLLUPS.key])


# --- The event feed: events skip-locked, an endpoint for a rotation -----------------------------
# The fan-out's claim of a batch: row locks with SKIP LOCKED inside a set-based statement (the
# ORM cannot lock in a CTE that also updates and inserts), so concurrent pumps take disjoint
# batches and never wait for one another.
# Set-based: a batch of undispatched events (oldest first; concurrent pumps take disjoint
# batches) fanned out into one delivery per enabled endpoint subscribed to the type, of the
# event's store's operator or the platform's; the events marked dispatched. One statement.
_FEED_DISPATCH_SQL = """
WITH batch AS (
  SELECT event.id, event.type, event.store_id FROM shops_event AS event
  WHERE event.dispatched_at IS NULL ORDER BY event.id LIMIT %s FOR UPDATE SKIP LOCKED
), marked AS (
  UPDATE shops_event AS event SET dispatched_at = %s FROM batch WHERE event.id = batch.id
), made AS (
  INSERT INTO shops_delivery (event_id, endpoint_id, status, attempts, next_attempt_at,
                              retry_from, last_error)
  SELECT batch.id, endpoint.id, 'pending', 0, %s, %s, ''
  FROM batch JOIN shops_store AS store ON store.id = batch.store_id
  JOIN shops_endpoint AS endpoint
   ON (endpoint.enabled OR endpoint.kind = 'customs') AND batch.type = ANY(endpoint.event_types)
   AND (endpoint.operator_id IS NULL OR endpoint.operator_id = store.operator_id)
  ON CONFLICT (event_id, endpoint_id) DO NOTHING
)
SELECT count(*) FROM batch"""


def events_dispatch_locked(*, batch: int, now: datetime) -> int:
    """Deliveries for up to ``batch`` undispatched events, oldest first (one per enabled
    endpoint subscribed to the type, of the event's store's operator or the platform's, and
    per customs endpoint even while disabled: customs is owed every sale, sent once it is
    enabled again); the events marked dispatched at ``now``. Events another transaction
    holds are skipped, never waited for. One statement; how many events it took."""
    with connection.cursor() as cursor:
        cursor.execute(_FEED_DISPATCH_SQL, [batch, now, now, now])
        (events,) = cursor.fetchone()
    return int(events)


def endpoint_lock(endpoint_id: int) -> Endpoint:
    """One endpoint, ``FOR NO KEY UPDATE`` (its deliveries reference it); waits for a holder.
    A rotation reads and replaces its secrets under it."""
    return Endpoint.objects.select_for_update(no_key=True).get(pk=endpoint_id)
