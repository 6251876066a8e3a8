"""Celery tasks: thin wrappers over the services (the beat schedule is in settings)."""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shops.feed import delivery
from shops.pos.deadline import departure_deadline_enforce
from shops.reporting import rollups

logger = logging.getLogger(__name__)


@shared_task(name="shops.tasks.enforce_departure_deadline")
def enforce_departure_deadline() -> dict[str, Any]:
    """Ban shoppers whose immediate or guarantee pickup has no departure within the deadline."""
    return asdict(departure_deadline_enforce(now=timezone.now()))


@shared_task(name="shops.tasks.refresh_stats")
def refresh_stats() -> dict[str, Any]:
    """Recompute the (day, store) slices marked dirty since the last run."""
    return asdict(rollups.refresh_all_dirty(now=timezone.now()))


def refresh_stats_after_commit() -> None:
    """Where a dirty-day mark is written: with ``STATS_REFRESH_ON_COMMIT`` (zero-config mode:
    Celery eager, no beat), run :func:`refresh_stats` in this process once the caller's
    transaction commits. ``apply``, not ``delay``: whatever the setting, the sale path never
    touches the broker. Otherwise nothing: beat refreshes the marks. A failed refresh is
    logged and never fails the committed sale (``robust``); its marks stay for the next one."""
    if settings.STATS_REFRESH_ON_COMMIT:
        transaction.on_commit(refresh_stats.apply, robust=True)


@shared_task(name="shops.tasks.rebuild_stats")
def rebuild_stats(start: str, end: str, step_days: int = 31) -> int:
    """Recompute every slice of a date range (ISO dates, inclusive), ``step_days`` per
    transaction."""
    from datetime import date

    return rollups.rebuild(
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        step_days=step_days,
        now=timezone.now(),
    )


# --- The event feed ---------------------------------------------------------------------------
@shared_task(name="shops.tasks.feed_pump")
def feed_pump() -> dict[str, int]:
    """Fan new events out to their endpoints and queue one delivery task per endpoint due."""
    return delivery.pump(now=timezone.now(), send=lambda e, t: feed_deliver.delay(e, t))


@shared_task(name="shops.tasks.feed_deliver")
def feed_deliver(endpoint_id: int, token: str) -> dict[str, Any] | None:
    """Deliver one endpoint's due events while its lease ``token`` holds."""
    outcome = delivery.deliver_endpoint(endpoint_id, token, clock=timezone.now)
    return None if outcome is None else asdict(outcome)


@shared_task(name="shops.tasks.feed_prune")
def feed_prune() -> int:
    """Forget delivery attempts older than 30 days."""
    return delivery.prune_attempts(now=timezone.now())


_pump_wanted = threading.Event()
_pump_thread: threading.Thread | None = None
_pump_guard = threading.Lock()


def pump_feed_after_commit() -> None:
    """Where an event is written: with ``FEED_PUMP_ON_COMMIT`` (zero-config mode: no beat, no
    worker), wake this process's feed thread once the caller's transaction commits; it pumps
    and delivers in the background, so the request never waits on a receiver. Otherwise
    nothing: beat pumps."""
    if settings.FEED_PUMP_ON_COMMIT:
        transaction.on_commit(_wake_pump, robust=True)


def _wake_pump() -> None:
    global _pump_thread
    with _pump_guard:
        if _pump_thread is None or not _pump_thread.is_alive():
            _pump_thread = threading.Thread(target=_pump_loop, name="feed-pump", daemon=True)
            _pump_thread.start()
    _pump_wanted.set()


def _pump_loop() -> None:
    from django.db import connection

    while True:  # woken by a commit, or every 10 s for the retries that come due
        _pump_wanted.wait(timeout=10)
        _pump_wanted.clear()
        try:
            delivery.pump(
                now=timezone.now(),
                send=lambda e, t: delivery.deliver_endpoint(e, t, clock=timezone.now),
            )
        except Exception:  # a receiver or the database failing must not end the thread
            logger.exception("the feed's pump failed; its deliveries wait for the next")
        finally:
            connection.close()


# --- Policy previews --------------------------------------------------------------------------
@shared_task(name="shops.tasks.run_policy_preview")
def run_policy_preview(preview_id: int) -> str | None:
    """Run a queued policy preview (shops.previews); its status and result are on its row."""
    from shops.previews.services import preview_run

    preview = preview_run(preview_id, clock=timezone.now)
    return None if preview is None else preview.status


def start_policy_preview_after_commit(preview_id: int) -> None:
    """Once the caller's transaction commits, run the preview: a worker's task, or with
    ``PREVIEW_IN_PROCESS`` (zero-config mode: no worker) a background thread of this process,
    so that the request answers at once either way."""
    if settings.PREVIEW_IN_PROCESS:
        transaction.on_commit(lambda: _preview_thread(preview_id), robust=True)
    else:
        transaction.on_commit(lambda: run_policy_preview.delay(preview_id), robust=True)


def _preview_thread(preview_id: int) -> None:
    def run() -> None:
        from django.db import connection

        try:
            run_policy_preview(preview_id)
        except Exception:  # recorded on the preview's row (failed); the thread ends here
            logger.warning("policy preview %s failed in its thread", preview_id)
        finally:
            connection.close()

    threading.Thread(target=run, name=f"policy-preview-{preview_id}", daemon=True).start()
