"""What customs is sent: our wire format for the customs channel, in this one module, so that an
adapter to customs' own format (not public) replaces this module and nothing else.

A customs endpoint's ``sale.completed`` carries what customs asks of each sale — store,
terminal, receipt, local time, trip, pickup, lines with the category's policy number, total —
and the shopper's identity as presented at the till, sealed to customs' public key
(``CUSTOMS_SEAL_PUBLIC_KEY``: a libsodium sealed box, PyNaCl's ``SealedBox``), so only customs
reads it and this database never holds it in clear. The other events go as they are.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from functools import cache
from typing import Any

from django.conf import settings
from nacl.public import PublicKey, SealedBox

from dutyfree import money
from quotas.rules import LOCAL_TZ
from quotas.selectors import policy_by_id_cached
from shops.models import Event, Sale


class SealKeyError(Exception):
    """``CUSTOMS_SEAL_PUBLIC_KEY`` is missing or malformed (the message says which)."""


@cache
def _seal_box(text: str) -> SealedBox:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise SealKeyError("CUSTOMS_SEAL_PUBLIC_KEY is not valid base64") from exc
    if len(raw) != 32:
        raise SealKeyError(f"CUSTOMS_SEAL_PUBLIC_KEY must hold 32 bytes, not {len(raw)}")
    return SealedBox(PublicKey(raw))


def seal_configured() -> bool:
    return bool(settings.CUSTOMS_SEAL_PUBLIC_KEY)


def check_seal_key() -> None:
    """:raises SealKeyError: customs' public key is missing or malformed."""
    if not seal_configured():
        raise SealKeyError("no CUSTOMS_SEAL_PUBLIC_KEY: customs' public key to seal identities to")
    _seal_box(settings.CUSTOMS_SEAL_PUBLIC_KEY)


def seal_identity(
    *, doc_type: str, number: str, country: str, name: str, birth_date: date | None
) -> str:
    """The identity as presented, as UTF-8 JSON sealed to customs' key, base64-encoded."""
    identity = {
        "document": {"type": doc_type, "number": number, "country": country},
        "name": name,
        "birth_date": birth_date.isoformat() if birth_date else None,
    }
    plain = json.dumps(identity, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(_seal_box(settings.CUSTOMS_SEAL_PUBLIC_KEY).encrypt(plain)).decode()


def customs_data(event: Event) -> str:
    """The ``data`` JSON text customs is sent for ``event``."""
    if event.type != "sale.completed" or event.sale_id is None:
        return event.data
    sale = (
        Sale.objects.select_related("store", "terminal", "trip")
        .prefetch_related("lines")
        .get(pk=event.sale_id)
    )
    categories = policy_by_id_cached(sale.policy_id).rules.categories
    trip = sale.trip
    body: dict[str, Any] = {
        "id": sale.pk,
        "store": sale.store.code,
        "terminal": sale.terminal.name,
        "receipt_no": sale.receipt_no,
        "sold_at": sale.sold_at.astimezone(LOCAL_TZ).isoformat(),
        "trip": None
        if trip is None
        else {
            "mode": trip.mode,
            "kind": trip.kind,
            "carrier_ref": trip.carrier_ref,
            "departs_at": trip.departs_at.astimezone(LOCAL_TZ).isoformat(),
        },
        "pickup": sale.pickup,
        "lines": [
            {
                "sku": line.sku,
                "category": {
                    "code": line.category_code,
                    "number": categories[line.category_code].number
                    if line.category_code in categories
                    else None,
                },
                "quantity": line.quantity,
                "unit_price": money.to_str(line.unit_price),
                "amount": money.to_str(line.amount),
            }
            for line in sorted(sale.lines.all(), key=lambda line: line.line_no)
        ],
        "total": money.to_str(sale.total),
        "shopper": {"identity_sealed": event.sealed_identity or None},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
