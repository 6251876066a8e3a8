"""Endpoints: made with their secret (shown once), rotated, disabled and enabled, replayed to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from shops.feed import customs, signing
from shops.locks import endpoint_lock
from shops.models import (
    EVENT_TYPES,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointKind,
    Event,
    Operator,
)

ROTATION_OVERLAP = timedelta(hours=24)


class EndpointRefused(Exception):
    """The endpoint cannot be made or changed as asked (the message says why)."""


@dataclass(frozen=True)
class Made:
    endpoint: Endpoint
    secret: str  # shown once


def check_url(url: str) -> str:
    """An http(s) URL with a host; anything else is refused."""
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"}:
        raise EndpointRefused(f"{url!r}: only http and https URLs receive events")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise EndpointRefused(f"{url!r} is not a valid URL") from exc
    return url


def check_types(types: Sequence[str]) -> list[str]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise EndpointRefused(
            f"unknown event type(s): {', '.join(unknown)} (known: {', '.join(EVENT_TYPES)})"
        )
    return [t for t in EVENT_TYPES if t in set(types)]


def create_endpoint(
    *,
    url: str,
    name: str,
    types: Sequence[str] | None,
    operator: Operator | None,
    kind: str,
    now: datetime,
) -> Made:
    """A new endpoint and its secret. A customs endpoint is the platform's, receives every
    type, and needs both keys configured (the operator's signing key, customs' seal key).

    :raises EndpointRefused: a bad URL, an unknown type, a name taken, customs without keys
        or with an operator.
    """
    url = check_url(url)
    if kind == EndpointKind.CUSTOMS:
        if operator is not None:
            raise EndpointRefused("a customs endpoint is the platform's: no --operator")
        try:
            signing.signing_key()
            customs.check_seal_key()
        except (signing.FeedKeyError, customs.SealKeyError) as exc:
            raise EndpointRefused(f"the customs channel needs its keys: {exc}") from exc
        chosen = list(EVENT_TYPES)
    else:
        chosen = check_types(types) if types else list(EVENT_TYPES)
    if not name.strip():
        raise EndpointRefused("an endpoint needs a name")
    if Endpoint.objects.filter(name=name).exists():
        raise EndpointRefused(f"an endpoint named {name!r} exists")
    secret = signing.new_secret()
    endpoint = Endpoint.objects.create(
        name=name,
        url=url,
        kind=kind,
        operator=operator,
        event_types=chosen,
        secret=secret,
        created_at=now,
    )
    return Made(endpoint, secret)


def endpoint_named(name: str) -> Endpoint:
    try:
        return Endpoint.objects.get(name=name)
    except Endpoint.DoesNotExist:
        raise EndpointRefused(f"no endpoint named {name!r}") from None


def rotate(*, name: str, now: datetime) -> Made:
    """A new secret; the old one still signs (both signatures, space-separated) for 24 hours."""
    with transaction.atomic():
        endpoint = endpoint_lock(endpoint_named(name).pk)
        secret = signing.new_secret()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = now + ROTATION_OVERLAP
        endpoint.secret = secret
        endpoint.save(update_fields=["previous_secret", "previous_secret_until", "secret"])
    return Made(endpoint, secret)


def set_enabled(endpoint: Endpoint, *, enabled: bool, reason: str = "") -> None:
    """Enable (its failures forgotten: deliveries resume now) or disable an endpoint."""
    changes: dict[str, object] = {"enabled": enabled, "disabled_reason": "" if enabled else reason}
    if enabled:
        changes |= {"failures_in_row": 0, "retry_at": None}
    Endpoint.objects.filter(pk=endpoint.pk).update(**changes)


def receives(endpoint: Endpoint) -> QuerySet[Event]:
    """The events ``endpoint`` receives: its types, its operator's stores (all for the
    platform's and customs')."""
    events = Event.objects.filter(type__in=endpoint.event_types)
    if endpoint.operator_id is not None:
        events = events.filter(store__operator_id=endpoint.operator_id)
    return events


def replay(
    *, endpoint: Endpoint, now: datetime, event: Event | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> int:  # fmt: skip
    """Send again (or for the first time) one event, or the endpoint's events created in
    [``start``, ``end``): each delivery pending and due now, its attempts kept. Only events
    the endpoint receives. Returns how many."""
    events = receives(endpoint)
    if event is not None:
        events = events.filter(pk=event.pk)
    if start is not None:
        events = events.filter(created_at__gte=start)
    if end is not None:
        events = events.filter(created_at__lt=end)
    ids = list(events.values_list("pk", flat=True))
    with transaction.atomic():
        # A delivery the pump makes meanwhile is met, not duplicated (the pair is unique).
        Delivery.objects.bulk_create(
            [Delivery(endpoint=endpoint, event_id=pk, next_attempt_at=now, retry_from=now)
             for pk in ids],
            ignore_conflicts=True,
        )  # fmt: skip
        Delivery.objects.filter(endpoint=endpoint, event_id__in=ids).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, failed_at=None, retry_from=now
        )
    return len(ids)


def replay_event(*, event: Event, now: datetime) -> int:
    """Send one event again to every enabled endpoint that receives it; how many endpoints."""
    count = 0
    for endpoint in Endpoint.objects.filter(enabled=True, event_types__contains=[event.type]):
        if endpoint.operator_id is None or endpoint.operator_id == event.store.operator_id:
            count += replay(endpoint=endpoint, now=now, event=event)
    return count


def health(endpoints: QuerySet[Endpoint]) -> QuerySet[Endpoint]:
    """``endpoints`` with ``backlog_count`` (deliveries pending) and ``failed_count``."""
    return endpoints.annotate(
        backlog_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
    )
