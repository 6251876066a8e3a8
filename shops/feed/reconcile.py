"""Whether everything was told: a sale's customs status, what each endpoint has not yet
received (``reconcile_feed``), and every committed change with its event (``check_books``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from django.db.models import Count, Exists, Min, OuterRef, Q

from shops.feed.endpoints import health
from shops.models import (
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointKind,
    Event,
    EventType,
    FeedState,
    Return,
    Sale,
    SaleStatus,
)

CustomsStatus = Literal["pending", "delivered", "failed", "not_configured", "training"]


@dataclass(frozen=True)
class Customs:
    status: CustomsStatus
    at: datetime | None = None


NOT_CONFIGURED = Customs("not_configured")
# A training terminal's sale has no event: customs is never told of it.
TRAINING = Customs("training")


def customs_of(sales: Iterable[Sale]) -> dict[int, Customs]:
    """Each sale's customs status, by id: its ``sale.completed`` delivered to customs (when),
    failed (when), or pending (not yet dispatched or still retried); ``not_configured``
    without a customs endpoint; ``training`` for a training terminal's sale. Two queries
    whatever the number of sales."""
    sales = list(sales)
    found: dict[int, Customs] = {sale.pk: TRAINING for sale in sales if sale.training}
    ids = [sale.pk for sale in sales if not sale.training]
    if not ids:
        return found
    customs = list(Endpoint.objects.filter(kind=EndpointKind.CUSTOMS).values_list("pk", flat=True))
    if not customs:
        return found | dict.fromkeys(ids, NOT_CONFIGURED)
    reported: dict[int, Customs] = {}
    rows = Delivery.objects.filter(
        endpoint_id__in=customs, event__type=EventType.SALE_COMPLETED, event__sale_id__in=ids
    ).values_list("event__sale_id", "status", "delivered_at", "failed_at")
    for sale_id, status, delivered_at, failed_at in rows:
        state = Customs(
            "delivered" if status == "delivered" else "failed" if status == "failed" else "pending",
            delivered_at if status == "delivered" else failed_at,
        )
        seen = reported.get(sale_id)
        if seen is None or seen.status != "delivered":  # any customs endpoint's success
            reported[sale_id] = state
    return found | {sale_id: reported.get(sale_id, Customs("pending")) for sale_id in ids}


# --- reconcile_feed ---------------------------------------------------------------------------
@dataclass
class EndpointBacklog:
    endpoint: str
    kind: str
    enabled: bool
    pending: int
    failed: int
    oldest: datetime | None  # the oldest undelivered event's time
    missing_sales: list[str] = field(default_factory=list)  # customs: receipts not delivered


@dataclass
class Reconciliation:
    day: date
    max_age: timedelta
    now: datetime
    endpoints: list[EndpointBacklog]

    @property
    def late(self) -> bool:
        """Anything undelivered older than ``max_age`` (a failure counts at once)."""
        limit = self.now - self.max_age
        return any(
            e.failed or (e.oldest is not None and e.oldest <= limit) or e.missing_sales
            for e in self.endpoints
        )


def reconcile(*, day: date, max_age: timedelta, now: datetime) -> Reconciliation:
    """Per endpoint, what it has not received (pending, failed, the oldest); for customs, every
    completed sale made through a terminal on ``day`` (local) whose ``sale.completed`` it has
    not received and that is older than ``max_age`` (a training terminal's sales are never
    reported)."""
    report = Reconciliation(day=day, max_age=max_age, now=now, endpoints=[])
    annotated = health(Endpoint.objects.all()).annotate(
        oldest=Min(
            "deliveries__event__created_at",
            filter=~Q(deliveries__status=DeliveryStatus.DELIVERED),
        ),
    ).order_by("name")
    for endpoint in annotated:
        backlog = EndpointBacklog(
            endpoint=endpoint.name,
            kind=endpoint.kind,
            enabled=endpoint.enabled,
            pending=endpoint.backlog_count,  # type: ignore[attr-defined]  # health()
            failed=endpoint.failed_count,  # type: ignore[attr-defined]  # health()
            oldest=endpoint.oldest,
        )
        if endpoint.kind == EndpointKind.CUSTOMS:
            delivered = Delivery.objects.filter(
                endpoint=endpoint,
                status=DeliveryStatus.DELIVERED,
                event__type=EventType.SALE_COMPLETED,
                event__sale_id=OuterRef("pk"),
            )
            backlog.missing_sales = list(
                Sale.objects.filter(
                    local_date=day,
                    imported=False,
                    training=False,  # never reported
                    sold_at__lte=now - max_age,
                    sold_at__gte=endpoint.created_at,
                )
                .exclude(Exists(delivered))
                .order_by("sold_at")
                .values_list("receipt_no", flat=True)
            )
        report.endpoints.append(backlog)
    return report


# --- check_books: every committed change has its event ------------------------------------------
def changes_without_events(*, limit: int) -> list[str]:
    """What the books say changed since the feed began and the outbox does not hold: a sale
    made at a till without its ``sale.completed``, a return without its ``sale.returned``, a
    voided sale without ``sale.voided``, a picked-up one without ``sale.picked_up``. Imported
    sales are history, not changes at a till, and a training terminal's sales are never told:
    they have none."""
    state = FeedState.objects.order_by("pk").first()
    if state is None:
        return []
    since = state.started_at
    problems: list[str] = []

    def told(type: EventType) -> Exists:
        return Exists(Event.objects.filter(type=type, sale_id=OuterRef("pk")))

    sales = Sale.objects.filter(imported=False, training=False)
    checks = [
        (EventType.SALE_COMPLETED, sales.filter(sold_at__gte=since)),
        (EventType.SALE_VOIDED, sales.filter(status=SaleStatus.VOIDED, voided_at__gte=since)),
        (EventType.SALE_PICKED_UP, sales.filter(picked_up_at__gte=since)),
    ]
    for type, rows in checks:
        for receipt in rows.exclude(told(type)).values_list("receipt_no", flat=True)[:limit]:
            problems.append(f"sale {receipt}: no {type} event")
    returned = dict(
        Return.objects.filter(created_at__gte=since, sale__training=False)
        .values("sale_id")
        .annotate(n=Count("pk"))
        .values_list("sale_id", "n")
    )
    told_returns = dict(
        Event.objects.filter(type=EventType.SALE_RETURNED, sale_id__in=list(returned))
        .values("sale_id")
        .annotate(n=Count("pk"))
        .values_list("sale_id", "n")
    )
    short = sorted(pk for pk, n in returned.items() if told_returns.get(pk, 0) < n)[:limit]
    receipts = dict(Sale.objects.filter(pk__in=short).values_list("pk", "receipt_no"))
    for pk in short:
        problems.append(
            f"sale {receipts[pk]}: {returned[pk]} returns, {told_returns.get(pk, 0)} "
            "sale.returned events"
        )
    return problems[:limit]
