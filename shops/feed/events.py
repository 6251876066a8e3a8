"""Writing events into the outbox, in the transaction of the change each reports.

The sale writes its ``sale.completed`` in its own write statement (``shops.sql.sale_write_sql``:
the first answer's text, as the key's record keeps it, is the event's ``data``); returns, voids,
pickups and departures call :func:`record` in theirs. A change rolled back takes its event with
it; a committed one always has its event. Ids are ``evt_`` and 32 hex digits, drawn by
PostgreSQL (``gen_random_uuid``) on the sale path and here alike.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime

from shops.feed import customs
from shops.models import Endpoint, EndpointKind, Event, EventType

# On the sale path the customs channel is asked of settings first (no statement when customs'
# key is not configured), then of the endpoints, at most once a minute per process.
_CUSTOMS_TTL = 60.0
_customs_seen: tuple[float, bool] = (-_CUSTOMS_TTL, False)


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def customs_channel_on(*, fresh: bool = False) -> bool:
    """Whether the customs channel is configured: customs' sealing key is set and an enabled
    customs endpoint exists. Cached a minute per process (``fresh``: asked now)."""
    global _customs_seen
    if not customs.seal_configured():
        return False
    seen_at, on = _customs_seen
    now = time.monotonic()
    if fresh or now - seen_at >= _CUSTOMS_TTL:
        on = Endpoint.objects.filter(kind=EndpointKind.CUSTOMS, enabled=True).exists()
        _customs_seen = (now, on)
    return on


def forget_customs_channel() -> None:
    """Drop the cached answer of :func:`customs_channel_on` (an endpoint was made or changed)."""
    global _customs_seen
    _customs_seen = (-_CUSTOMS_TTL, False)


def sealed_identity_of(
    *, doc_type: str, number: str, country: str, name: str, birth_date: date | None
) -> str:
    """The identity as presented, sealed for customs; empty when no customs channel is on."""
    if not customs_channel_on():
        return ""
    return customs.seal_identity(
        doc_type=doc_type, number=number, country=country, name=name, birth_date=birth_date
    )


def record(
    *, type: EventType, store_id: int, data: str, at: datetime, sale_id: int | None = None
) -> Event:
    """Write an event in the caller's transaction. ``data``: the JSON text of the object as
    the API answered it (masked identity only)."""
    return Event.objects.create(
        public_id=new_event_id(),
        type=type,
        store_id=store_id,
        sale_id=sale_id,
        created_at=at,
        data=data,
    )
