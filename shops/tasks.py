"""Celery tasks: thin wrappers over the services (the beat schedule is in settings)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shops.pos.deadline import departure_deadline_enforce
from shops.reporting import rollups


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
