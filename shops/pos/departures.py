"""A departure recorded by a till (``POST /api/v1/departures``): the shopper's trip on that
carrier closed, and the departure-deadline bans it shows were wrong lifted
(``shops.pos.deadline``). A training terminal's departure is answered as that, and changes
nothing (:func:`departure_rehearse`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from quotas import services as quota_services
from shops.feed import events as feed_events
from shops.models import EventType
from shops.pos.answers import departure_answer
from shops.pos.deadline import settle_after_departure
from shops.pos.idempotency import Answer, Retry, answer, once, render
from shops.tasks import pump_feed_after_commit


@transaction.atomic
def departure_record(
    *, now: datetime, store_id: int | None = None, **departure: Any
) -> quota_services.DepartureRecorded:
    """Record a departure (:func:`quotas.services.departure_record_outcome`) and lift the
    departure-deadline bans it shows were wrong (:func:`settle_after_departure`). Told by a
    till of ``store_id``: a shopper's departure newly recorded is a ``departure.recorded``
    event, its data the answer the till gets (a departure of history, with no store, is none).

    :raises DepartureInFuture: as :func:`quotas.services.departure_record_outcome`.
    """
    outcome = quota_services.departure_record_outcome(now=now, **departure)
    if outcome.recorded_on is not None:
        settle_after_departure(shopper_id=outcome.recorded_on.shopper_id, now=now)
        if store_id is not None and outcome.reason != quota_services.ALREADY_RECORDED:
            feed_events.record(
                type=EventType.DEPARTURE_RECORDED,
                store_id=store_id,
                data=render(departure_answer(outcome)).decode(),
                at=now,
            )
            pump_feed_after_commit()
    return outcome


@transaction.atomic
def departure_rehearse(*, now: datetime, **departure: Any) -> quota_services.DepartureRecorded:
    """What :func:`departure_record` would decide, with nothing kept: a training terminal's
    departure. It is decided in a savepoint that is then rolled back, so no trip is closed or
    recorded, no ban lifted and no event told (what was queued for after the commit goes with
    the savepoint), and the answer is the one a real departure would get.

    :raises DepartureInFuture: as :func:`quotas.services.departure_record_outcome`.
    """
    rehearsal = transaction.savepoint()
    try:
        return departure_record(now=now, **departure)
    finally:
        transaction.savepoint_rollback(rehearsal)


def departure_record_once(
    *, retry: Retry, now: datetime, store_id: int, training: bool = False, **departure: Any
) -> Answer:
    """A departure recorded once per (terminal, key) (:func:`departure_record`):
    a retry is told what the first call decided, never a new verdict. A document no shopper
    holds is answered, stored and replayed as any other (a replay must not tell it apart); a
    shopper's departure is told as ``departure.recorded`` (``store_id``: the terminal's). A
    training terminal's (``training``) is answered, stored and replayed likewise, and changes
    nothing else (:func:`departure_rehearse`).

    :raises DepartureInFuture: as :func:`quotas.services.departure_record_outcome`.
    :raises IdempotencyKeyReused, RequestInProgress: as :func:`shops.pos.idempotency.once`.
    """

    def decide() -> quota_services.DepartureRecorded:
        if training:
            return departure_rehearse(now=now, **departure)
        return departure_record(now=now, store_id=store_id, **departure)

    return once(retry=retry, now=now, act=lambda: answer(201, departure_answer(decide())))
