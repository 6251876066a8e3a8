"""What the commands' arguments share."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError


def local_day(text: str) -> date:
    """A local day as a command takes it (YYYY-MM-DD).

    :raises CommandError: naming what was given.
    """
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {text!r}") from exc
