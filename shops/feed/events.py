"""Writing events into the outbox, in the transaction of the change each reports.

The sale writes its ``sale.completed`` in its own write statement (``shops.sql.sale_write_sql``:
the first answer's text, as the key's record keeps it, is the event's ``data``); returns, voids,
pickups and departures call :func:`record` in theirs. A change rolled back takes its event with
it; a committed one always has its event. Ids are ``evt_`` and 32 hex digits, drawn by
PostgreSQL (``gen_random_uuid``) on the sale path and here alike.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime

from shops.feed import customs
from shops.models import Event, EventType

logger = logging.getLogger(__name__)


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def sealed_identity_of(
    *, doc_type: str, number: str, country: str, name: str, birth_date: date | None
) -> str:
    """The identity as presented, sealed for customs whenever customs' key is configured (no
    database read: a customs endpoint made, disabled or enabled later still gets every sale
    with its identity); empty without the key. A malformed key never fails the sale: it is
    logged (``manage.py check`` names it) and the sale goes on without a sealed identity."""
    if not customs.seal_configured():
        return ""
    try:
        return customs.seal_identity(
            doc_type=doc_type, number=number, country=country, name=name, birth_date=birth_date
        )
    except customs.SealKeyError:
        logger.exception("CUSTOMS_SEAL_PUBLIC_KEY is unusable: a sale went without its seal")
        return ""


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
