"""Celery tasks: thin wrappers over the services (the beat schedule is in settings)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.utils import timezone

from .deadline import departure_deadline_enforce


@shared_task(name="shops.tasks.enforce_departure_deadline")
def enforce_departure_deadline() -> dict[str, Any]:
    """Ban shoppers whose immediate or guarantee pickup has no departure within the deadline."""
    return asdict(departure_deadline_enforce(now=timezone.now()))
