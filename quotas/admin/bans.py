"""Bans: recorded, never edited or deleted; lifting one (its own page) records who, when and
why. The list filters by state: not started, in force, ended, lifted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dutyfree.errors import DomainError

from .. import services
from ..errors import BanInvalid
from ..models import Ban, BanState
from .shared import local, refusal, staff

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class BanStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return BanState.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ban]) -> QuerySet[Ban]:
        now = timezone.now()
        standing = queryset.filter(lifted_at__isnull=True)
        by_state: dict[str | None, QuerySet[Ban]] = {
            BanState.NOT_STARTED: standing.filter(starts_at__gt=now),
            BanState.IN_FORCE: standing.filter(starts_at__lte=now, ends_at__gt=now),
            BanState.ENDED: standing.filter(ends_at__lte=now),
            BanState.LIFTED: queryset.filter(lifted_at__isnull=False),
        }
        return by_state.get(self.value(), queryset)


def ban_state_text(ban: Ban) -> StrPromise | str:
    return ban.state_at(timezone.now()).label


class BanForm(forms.ModelForm):
    years = forms.IntegerField(
        label=_("years"),
        required=False,
        min_value=1,
        max_value=50,
        help_text=_("Or give an end below."),
    )

    class Meta:
        model = Ban
        fields = ("shopper", "reason", "detail", "source_receipt_no", "starts_at", "ends_at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "starts_at" in self.fields:  # the add form (a recorded ban is read only)
            self.fields["starts_at"].initial = timezone.now
            self.fields["ends_at"].required = False

    def clean(self) -> dict[str, Any]:
        data = cast("dict[str, Any]", super().clean())  # Django returns cleaned_data
        if bool(data.get("years")) == bool(data.get("ends_at")):
            raise ValidationError(gettext("Give either a number of years or an end, not both."))
        if data.get("starts_at"):
            # The service's own rules, checked here so that a refusal is a form error.
            try:
                services.ban_end(
                    starts_at=data["starts_at"], ends_at=data.get("ends_at"),
                    years=data.get("years"), now=timezone.now(),
                )  # fmt: skip
            except BanInvalid as exc:
                raise ValidationError(refusal(exc)) from exc
        return data


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the ban is lifted (kept with the ban). Never a name or document number."),
    )


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    """Bans are recorded, never edited or deleted; lifting one records who, when and why."""

    form = BanForm
    list_display = (
        "id",
        "shopper_masked",
        "reason",
        "source_receipt_no",
        "starts_at",
        "ends_at",
        "state",
    )
    list_filter = (BanStateFilter, "reason")
    search_fields = ("=source_receipt_no", "=shopper__document_last4", "=source")
    raw_id_fields = ("shopper",)
    date_hierarchy = "starts_at"
    readonly_fields = (
        "shopper",
        "reason",
        "detail",
        "source",
        "source_receipt_no",
        "starts_at",
        "ends_at",
        "state",
        "created_at",
        "created_by",
        "lifted_at",
        "lifted_by",
        "lift_reason",
        "lift_link",
    )
    list_select_related = ("shopper",)

    @admin.display(description=_("shopper"), ordering="shopper")
    def shopper_masked(self, ban: Ban) -> str:
        return f"****{ban.shopper.document_last4}"

    @admin.display(description=_("state"))
    def state(self, ban: Ban) -> StrPromise | str:
        if ban.lifted_at is not None:
            return gettext("lifted %(time)s") % {"time": local(ban.lifted_at)}
        return ban_state_text(ban)

    @admin.display(description=_("lift"))
    def lift_link(self, ban: Ban) -> str:
        if ban.lifted_at is not None or not ban.pk:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:quotas_ban_lift", args=[ban.pk]),
            gettext("Lift this ban…"),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Ban | None = None) -> Any:
        return self.readonly_fields if obj is not None else ("lift_link",)

    def get_fields(self, request: HttpRequest, obj: Ban | None = None) -> Any:
        if obj is None:
            return (
                "shopper",
                "reason",
                "detail",
                "source_receipt_no",
                "starts_at",
                "years",
                "ends_at",
            )
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # A recorded ban is read only (lifting it has its own page): no save buttons.
        read_only = {"show_save": False, "show_save_and_continue": False}
        read_only["show_save_and_add_another"] = False
        return super().change_view(
            request, object_id, form_url, {**read_only, **(extra_context or {})}
        )

    def save_model(
        self, request: HttpRequest, obj: Ban, form: forms.ModelForm, change: bool
    ) -> None:
        if change:  # nothing on a recorded ban is editable (all fields read only)
            return
        data = form.cleaned_data
        ban, _created = services.shopper_ban(
            shopper_id=data["shopper"].pk,
            reason=data["reason"],
            starts_at=data["starts_at"],
            ends_at=data.get("ends_at"),
            years=data.get("years"),
            detail=data["detail"],
            source_receipt_no=data["source_receipt_no"],
            by=staff(request),
            now=timezone.now(),
        )
        # The row is ``ban``, written and loaded by the ORM. ``obj`` is the form's unsaved
        # instance, which the admin goes on to log (its pk and str) and redirect to (its pk):
        # it takes the recorded ban's columns, nothing more (nothing after this reads its state).
        for field in Ban._meta.concrete_fields:
            setattr(obj, field.attname, getattr(ban, field.attname))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/lift/",
                self.admin_site.admin_view(self.lift_view),
                name="quotas_ban_lift",
            ),
            *super().get_urls(),
        ]

    def lift_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        ban = get_object_or_404(Ban.objects.select_related("shopper"), pk=pk)
        if not self.has_change_permission(request, ban):
            raise PermissionDenied
        form = LiftForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.ban_lift(
                    ban_id=ban.pk,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                    by=staff(request),
                )
            except DomainError as exc:
                form.add_error(None, refusal(exc))
            else:
                self.log_change(request, ban, "Lifted: " + form.cleaned_data["reason"])
                self.message_user(
                    request, gettext("Ban %(id)s lifted.") % {"id": ban.pk}, messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:quotas_ban_change", args=[ban.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": ban,
            "title": gettext("Lift ban %(id)s of %(shopper)s")
            % {"id": ban.pk, "shopper": ban.shopper},
            "form": form,
        }
        return TemplateResponse(request, "admin/quotas/ban/lift.html", context)
