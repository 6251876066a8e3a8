"""Exactly once: every write a till may retry answers its first answer again, byte for byte.

A terminal sends an ``Idempotency-Key`` with every POST that writes (a sale, a return, a void, a
pickup, a departure). The first request with a key does the work and stores its answer — status,
the JSON bytes as sent, ``Location`` — in :class:`~shops.models.IdempotencyRecord`, in the
transaction of the work itself; a retry with the same key and request gets those bytes again
(``Idempotent-Replayed: true``), never a new verdict, whatever changed in between. The same key
with another request is refused (422), and a retry while the first is still running is told so
(409) by a transaction-scoped advisory try-lock (``shops.locks``) instead of waiting.

One mechanism for every write: :func:`once` wraps returns, voids, pickups and departures; the
sale runs the same look-up (:data:`RECORD_COLUMNS`, read in its first statement) and writes the
same record inside its own write statement, so that the sale path spends no statement on it.
An answer that refuses (4xx) is not stored: the till may try again once the situation changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.renderers import JSONRenderer

from dutyfree.errors import ConflictError, DomainError
from shops.locks import idempotency_key_try_lock
from shops.models import IdempotencyRecord


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title = _("Idempotency key reused with another request")


KEY_REUSED = _("This Idempotency-Key was used for a different request; use a new key.")
IN_PROGRESS = _(
    "The first request with this Idempotency-Key has not finished; retry shortly to get its answer."
)


class RequestInProgress(ConflictError):
    code = "request_in_progress"
    title = _("A request with this idempotency key is still running")


@dataclass(frozen=True)
class Retry:
    """What identifies a request among its retries: the terminal, its key, and a fingerprint
    of the validated request (:func:`shops.pos.checkout.request_fingerprint`)."""

    terminal_id: int
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Answer:
    """An answer as it goes on the wire: status, JSON bytes, ``Location`` (or empty)."""

    status: int
    content: bytes
    location: str = ""
    replayed: bool = False

    @property
    def body(self) -> Any:
        """The answer's JSON, parsed (for callers that read it rather than send it)."""
        return json.loads(self.content)


def render(body: Any) -> bytes:
    """The JSON bytes of an answer, exactly as the API's renderer writes them."""
    return JSONRenderer().render(body)


def answer(status: int, body: Any, *, location: str = "") -> Answer:
    """A first answer, rendered once: what is sent now is what a retry gets."""
    return Answer(status=status, content=render(body), location=location)


# The columns a look-up reads of a key's record, in this order (the sale reads them in its first
# statement; :func:`replay` turns them into the answer).
RECORD_COLUMNS = ("fingerprint", "status_code", "content", "location")


def replay(*, fingerprint: str, stored: tuple[str, int, str, str]) -> Answer:
    """The stored first answer of a key, for a retry with ``fingerprint``.

    :raises IdempotencyKeyReused: the key answered another request.
    """
    recorded, status, content, location = stored
    if recorded != fingerprint:
        raise IdempotencyKeyReused(KEY_REUSED)
    return Answer(status=status, content=content.encode(), location=location, replayed=True)


def recorded_answer(retry: Retry) -> Answer | None:
    """The first answer for (terminal, key), after taking the key's try-lock; ``None`` for a
    key never answered. Inside the caller's transaction.

    :raises RequestInProgress: the first request with the key is still running.
    :raises IdempotencyKeyReused: the key answered another request.
    """
    if not idempotency_key_try_lock(terminal_id=retry.terminal_id, key=retry.key):
        raise RequestInProgress(IN_PROGRESS)
    stored = (
        IdempotencyRecord.objects.filter(terminal_id=retry.terminal_id, key=retry.key)
        .values_list(*RECORD_COLUMNS)
        .first()
    )
    return None if stored is None else replay(fingerprint=retry.fingerprint, stored=stored)


def record_row(*, retry: Retry, first: Answer, now: datetime) -> dict[str, Any]:
    """The record of a first answer, as a row of :class:`IdempotencyRecord`."""
    return {
        "terminal_id": retry.terminal_id,
        "key": retry.key,
        "fingerprint": retry.fingerprint,
        "status_code": first.status,
        "content": first.content.decode(),
        "location": first.location,
        "created_at": now,
    }


def once(*, retry: Retry, now: datetime, act: Callable[[], Answer]) -> Answer:
    """``act()``'s answer, recorded for the key in the same durable transaction — or, for a
    retry, the answer recorded the first time (``act`` is then not called). A refusal that
    ``act`` raises rolls everything back and records nothing.

    :raises RequestInProgress: the first request with the key is still running.
    :raises IdempotencyKeyReused: the key answered another request.
    """
    with transaction.atomic(durable=True):
        first = recorded_answer(retry)
        if first is not None:
            return first
        first = act()
        IdempotencyRecord.objects.create(**record_row(retry=retry, first=first, now=now))
        return first
