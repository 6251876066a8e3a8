"""The feed in the admin: endpoints with their delivery health (disabled, enabled, sent a time
range again), events with their deliveries (sent again), deliveries with their attempts.

Endpoints are made with ``create_webhook`` (its secret is shown once, there): the admin never
shows a secret and adds none. An operator's people see their own endpoints and their stores'
events; the platform's see all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from shops.feed import endpoints as feed_endpoints
from shops.models import Attempt, Delivery, Endpoint, Event
from shops.operators.admin import OperatorScoped
from shops.operators.scope import operator_of


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = (
        "endpoint", "status", "attempts", "last_status_code", "last_error", "delivered_at",
        "next_attempt_at",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        """An operator's people see their own endpoints' deliveries of the event, never the
        platform's or customs' (their status and errors are not theirs)."""
        deliveries = super().get_queryset(request).select_related("endpoint")
        own = operator_of(request.user)
        return deliveries if own is None else deliveries.filter(endpoint__operator=own)


class AttemptInline(ReadOnlyInline):
    model = Attempt
    fields = ("at", "status_code", "duration_ms", "response_head", "error")
    readonly_fields = fields
    ordering = ("-at",)
    show_change_link = False


class Records(OperatorScoped, admin.ModelAdmin):
    """What the feed recorded (events, deliveries): read, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReplayForm(forms.Form):
    start = forms.SplitDateTimeField(label=_("from"), widget=AdminSplitDateTime)
    end = forms.SplitDateTimeField(label=_("until"), widget=AdminSplitDateTime)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] >= cleaned["end"]:
            raise forms.ValidationError(gettext("The end must come after the start."))
        return cleaned


@admin.register(Endpoint)
class EndpointAdmin(OperatorScoped, admin.ModelAdmin):
    # Health first: on a narrow screen the URL is what scrolls away.
    list_display = (
        "name", "enabled", "backlog", "failed", "failures_in_row", "last_success_at", "kind",
        "operator", "url",
    )  # fmt: skip
    list_filter = ("kind", "enabled")
    search_fields = ("name", "url")
    fields = (
        "name", "url", "kind", "operator", "event_types", "enabled", "disabled_reason",
        "created_at", "last_success_at", "last_failure_at", "failures_in_row", "retry_at",
    )  # fmt: skip
    readonly_fields = (
        "name", "url", "kind", "operator", "event_types", "disabled_reason", "created_at",
        "last_success_at", "last_failure_at", "failures_in_row", "retry_at",
    )  # fmt: skip
    actions = ("disable", "enable", "replay_range")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        endpoints = feed_endpoints.health(
            admin.ModelAdmin.get_queryset(self, request).select_related("operator")
        )
        own = operator_of(request.user)
        return endpoints if own is None else endpoints.filter(operator=own)

    @admin.display(description=_("backlog"), ordering="backlog_count")
    def backlog(self, endpoint: Endpoint) -> int:
        return int(endpoint.backlog_count)  # type: ignore[attr-defined]  # annotated

    @admin.display(description=_("failed"), ordering="failed_count")
    def failed(self, endpoint: Endpoint) -> int:
        return int(endpoint.failed_count)  # type: ignore[attr-defined]  # annotated

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `create_webhook` makes them: its secret is shown there, once

    @admin.action(description=_("Disable the selected endpoints"), permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        reason = gettext("disabled by %(user)s") % {"user": request.user}
        for endpoint in queryset:
            feed_endpoints.set_enabled(endpoint, enabled=False, reason=reason)
        self.message_user(
            request,
            ngettext("%(n)d endpoint disabled.", "%(n)d endpoints disabled.", len(queryset))
            % {"n": len(queryset)},
        )

    @admin.action(description=_("Enable the selected endpoints"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            feed_endpoints.set_enabled(endpoint, enabled=True)
        self.message_user(
            request,
            ngettext("%(n)d endpoint enabled.", "%(n)d endpoints enabled.", len(queryset))
            % {"n": len(queryset)},
        )

    @admin.action(description=_("Send the events of a time range again"), permissions=["change"])
    def replay_range(
        self, request: HttpRequest, queryset: QuerySet[Endpoint]
    ) -> HttpResponse | None:
        now = timezone.now()
        if "apply" in request.POST:
            form = ReplayForm(request.POST)
            if form.is_valid():
                count = sum(
                    feed_endpoints.replay(
                        endpoint=endpoint,
                        now=now,
                        start=form.cleaned_data["start"],
                        end=form.cleaned_data["end"],
                    )
                    for endpoint in queryset
                )
                self.message_user(
                    request,
                    ngettext(
                        "%(n)d event queued to be sent again.",
                        "%(n)d events queued to be sent again.",
                        count,
                    )
                    % {"n": count},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.get_full_path())
        else:
            local = timezone.localtime(now).replace(microsecond=0)
            form = ReplayForm(initial={"start": local - timedelta(hours=24), "end": local})
        return TemplateResponse(
            request,
            "admin/shops/endpoint/replay.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Send events again"),
                "form": form,
                "endpoints": queryset,
                "opts": self.model._meta,
                "media": self.media + form.media,
            },
        )


@admin.register(Event)
class EventAdmin(Records):
    list_display = ("public_id", "type", "store", "sale", "created_at", "dispatched_at")
    list_filter = ("type", ("store", admin.RelatedOnlyFieldListFilter))
    search_fields = ("public_id", "sale__receipt_no")
    date_hierarchy = "created_at"
    list_select_related = ("store", "sale")
    fields = ("public_id", "type", "store", "sale", "created_at", "dispatched_at", "data")
    readonly_fields = fields
    inlines = [DeliveryInline]
    actions = ("send_again",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        events = admin.ModelAdmin.get_queryset(self, request)
        own = operator_of(request.user)
        return events if own is None else events.filter(store__operator=own)

    def has_send_permission(self, request: HttpRequest) -> bool:
        """Sending events again is changing what endpoints are due: their right."""
        return request.user.has_perms(["shops.view_event", "shops.change_endpoint"])

    @admin.action(description=_("Send the selected events again"), permissions=["send"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        now = timezone.now()
        own = operator_of(request.user)
        count = 0
        for event in queryset.select_related("store"):
            if own is None:
                count += feed_endpoints.replay_event(event=event, now=now)
            else:
                for endpoint in Endpoint.objects.filter(operator=own, enabled=True):
                    count += feed_endpoints.replay(endpoint=endpoint, now=now, event=event)
        self.message_user(
            request,
            ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.", count)
            % {"n": count},
        )


@admin.register(Delivery)
class DeliveryAdmin(Records):
    list_display = (
        "event", "endpoint", "status", "attempts", "last_status_code", "last_error",
        "next_attempt_at", "delivered_at",
    )  # fmt: skip
    list_filter = ("status", ("endpoint", admin.RelatedOnlyFieldListFilter))
    search_fields = ("event__public_id", "event__sale__receipt_no")
    list_select_related = ("event", "endpoint")
    fields = (*list_display, "failed_at", "last_attempt_at")
    readonly_fields = fields
    inlines = [AttemptInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        deliveries = admin.ModelAdmin.get_queryset(self, request)
        own = operator_of(request.user)
        return deliveries if own is None else deliveries.filter(endpoint__operator=own)
