"""The one source of unique test values: idempotency keys, terminal names, serials.

A key is unique for the whole test run (not per module), so two helpers can never hand one
terminal the same key by accident; a test that means a replay passes its own key."""

from __future__ import annotations

from itertools import count

_serials = count(1)


def serial() -> int:
    """A number no other call of this run got."""
    return next(_serials)


def unique_key(prefix: str = "key") -> str:
    """An ``Idempotency-Key`` (or any name) no other call of this run got: ``key-17``."""
    return f"{prefix}-{serial()}"
