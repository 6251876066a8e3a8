"""Baskets and sales through the real checkout (``shops.pos.checkout.sale_commit``).

``commit`` commits a basket; ``sell`` builds the basket from its lines and commits it. Both
take a fresh key from ``tests.support.keys`` unless given one (a replay passes the same key),
and the fingerprint follows the key: the same key and basket are the same request."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from quotas.services import PresentedShopper
from shops.models import Terminal
from shops.pos.checkout import Basket, CommitResult, LineInput, TripInput, sale_commit

from .keys import unique_key
from .shop import resident_id, shopper, trip


def basket(
    *lines: tuple[str, int],
    who: PresentedShopper | None = None,
    number: int | None = None,
    on: TripInput | None = None,
    departs_at: datetime | None = None,
    pickup: str = "departure",
    no_trip: bool = False,
) -> Basket:
    """A basket of ``(sku, quantity)`` lines for ``who`` (or the shopper of resident ID
    ``resident_id(number)``, or the default shopper) on ``on`` (or a trip departing at
    ``departs_at``, or the default trip), or without a trip."""
    if who is None:
        who = shopper() if number is None else shopper(resident_id(number))
    if on is None and not no_trip:
        on = trip(departs_at=departs_at)
    return Basket(
        shopper=who,
        trip=None if no_trip else on,
        pickup=pickup,
        lines=tuple(LineInput(sku, quantity) for sku, quantity in lines),
    )


def commit(
    terminal: Terminal,
    b: Basket,
    *,
    key: str | None = None,
    fingerprint: str | None = None,
    now: datetime | None = None,
) -> CommitResult:
    """Commit ``b`` at ``terminal`` (now unless said) under ``key`` (a fresh one unless said)."""
    key = key or unique_key()
    return sale_commit(
        terminal=terminal,
        idempotency_key=key,
        fingerprint=fingerprint or f"fp-{key}",
        basket=b,
        now=now or timezone.now(),
    )


def sell(
    terminal: Terminal,
    *lines: tuple[str, int],
    at: datetime | None = None,
    key: str | None = None,
    who: PresentedShopper | None = None,
    number: int | None = None,
    on: TripInput | None = None,
    departs_at: datetime | None = None,
    departs_after: timedelta | None = None,
    pickup: str = "departure",
    no_trip: bool = False,
) -> CommitResult:
    """Sell ``lines`` at ``terminal`` at ``at`` (now unless said): ``basket`` and ``commit``.
    ``departs_after``: the trip departs that long after the sale."""
    if departs_after is not None:
        departs_at = (at or timezone.now()) + departs_after
    b = basket(
        *lines,
        who=who,
        number=number,
        on=on,
        departs_at=departs_at,
        pickup=pickup,
        no_trip=no_trip,
    )
    return commit(terminal, b, key=key, now=at)


def json_basket(b: Basket) -> dict:
    """The API body of a basket."""
    body = {
        "shopper": {
            "document": {
                "type": b.shopper.doc_type,
                "number": b.shopper.number,
                "country": b.shopper.country,
            },
            "name": b.shopper.name,
            "birth_date": b.shopper.birth_date.isoformat(),
            "hainan_resident": b.shopper.hainan_resident,
        },
        "pickup": b.pickup,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in b.lines],
    }
    if b.trip is not None:
        body["trip"] = {
            "mode": b.trip.mode,
            "kind": b.trip.kind,
            "carrier_ref": b.trip.carrier_ref,
            "departs_at": b.trip.departs_at.isoformat(),
        }
    return body
