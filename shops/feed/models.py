"""The event feed's tables: the outbox of events, the endpoints that receive them, and each
delivery with its attempts (imported into ``shops.models``: the app's models are one set)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    SALE_COMPLETED = "sale.completed", "sale.completed"
    SALE_RETURNED = "sale.returned", "sale.returned"
    SALE_VOIDED = "sale.voided", "sale.voided"
    SALE_PICKED_UP = "sale.picked_up", "sale.picked_up"
    DEPARTURE_RECORDED = "departure.recorded", "departure.recorded"


EVENT_TYPES: tuple[str, ...] = tuple(EventType.values)


class Event(models.Model):
    """One change as it committed (the transactional outbox): written in the change's own
    transaction, so a change rolled back leaves none and a committed one always has its own.
    ``data`` is the JSON text of the object as the API shows it, sent as it is."""

    public_id = models.CharField(_("event id"), max_length=40, unique=True)
    type = models.CharField(_("type"), max_length=32, choices=EventType.choices)
    # The store whose change it is: an operator's endpoint receives its own stores' events.
    # No database key (a hot reference row every sale points at, as the sale's own).
    store = models.ForeignKey(
        "shops.Store",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
        verbose_name=_("store"),
    )
    sale = models.ForeignKey(
        "shops.Sale",
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
        db_constraint=False,  # written by the sale's own statement, beside the sale
        verbose_name=_("sale"),
    )
    created_at = models.DateTimeField(_("created at"))
    data = models.TextField(_("data"))
    # For customs only: the shopper's identity as presented, sealed to customs' public key
    # (base64 of a libsodium sealed box); empty when no customs channel was configured.
    sealed_identity = models.TextField(_("sealed identity"), blank=True, default="")
    # When its deliveries were made (one per subscribed endpoint); NULL: not yet.
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(
                fields=["id"], name="event_not_dispatched", condition=Q(dispatched_at=None)
            ),
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"


class EndpointKind(models.TextChoices):
    INTEGRATOR = "integrator", _("integrator")
    CUSTOMS = "customs", _("customs")


class Endpoint(models.Model):
    """A receiver of events: an operator's (its own stores' events), or the platform's and
    customs' (every store's). The secret signs; it is shown once, when made or rotated."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=2000)
    kind = models.CharField(
        _("kind"), max_length=16, choices=EndpointKind.choices, default=EndpointKind.INTEGRATOR
    )
    operator = models.ForeignKey(
        "shops.Operator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="endpoints",
        verbose_name=_("operator"),
        help_text=_("Blank: the platform's, receiving every store's events."),
    )
    event_types = ArrayField(
        models.CharField(max_length=32, choices=EventType.choices), verbose_name=_("events")
    )
    secret = models.CharField(_("signing secret"), max_length=100)
    # While a secret is being rotated, deliveries are signed with both until this time.
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created at"))
    # Health, kept by the deliveries.
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    failures_in_row = models.PositiveIntegerField(_("failures in a row"), default=0)
    # After a failure, nothing is sent before this time (the endpoint's backoff).
    retry_at = models.DateTimeField(null=True, blank=True)
    # A delivery task was queued with this lease and may run until this time, the only one for
    # the endpoint: not queued again before (a lost message or a killed worker is re-queued
    # once it has passed); a task whose token is no longer the lease's does nothing.
    queued_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=36, blank=True, default="")

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="customs") | Q(operator=None),
                name="endpoint_customs_is_the_platforms",
            )
        ]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")


class Delivery(models.Model):
    """One event to one endpoint, until the endpoint answers 2xx (or the retries run out)."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    # Retried until FEED_RETRY_FOR after this: when it was made, or last sent again.
    retry_from = models.DateTimeField(_("retried since"))
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_once")]
        indexes = [
            # The due deliveries of an endpoint, oldest due first, read a chunk at a time
            # straight off the index (ordering by the event would sort the whole backlog).
            models.Index(
                fields=["endpoint", "next_attempt_at", "id"],
                name="delivery_due",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event.public_id} → {self.endpoint.name}"


class Attempt(models.Model):
    """One POST of a delivery: kept 30 days."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    at = models.DateTimeField(_("at"), db_index=True)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    response_head = models.CharField(_("answer (first bytes)"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} at {timezone.localtime(self.at):%Y-%m-%d %H:%M:%S}"


class FeedState(models.Model):
    """One row: when the feed began. Changes before it have no events (check_books)."""

    started_at = models.DateTimeField()

    class Meta:
        verbose_name = _("feed state")
        verbose_name_plural = _("feed state")

    def __str__(self) -> str:
        return f"feed started at {timezone.localtime(self.started_at):%Y-%m-%d %H:%M:%S}"
