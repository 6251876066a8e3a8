"""Policies: administrators edit category lists as dated policy versions.

Life cycle: clone a published policy to a draft → edit (inline or by CSV) → publish with an
effective time (now or later), or withdraw a published one before it takes effect. Published
policies are read-only here, and the model layer refuses changes anyway (quotas.models).

Here: the Policy admin (its list, its form, what it keeps and why, the clone, publish and
withdraw pages) and the Programme admin. PolicyAdmin takes its CSV pages from csv_pages.py and
its History page from history.py; its inlines are in categories.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from dutyfree.errors import DomainError

from .. import services
from ..choices import (
    POLICY_TRAVELLER_KINDS,
    PickupMode,
    PolicyStatus,
    TravellerKind,
    Verification,
    choices_of,
)
from ..models import Policy, PolicyQuerySet, Programme
from ..rules import LOCAL_TZ
from .categories import CategoryInline, ImmediatePickupKindInline
from .csv_pages import PolicyCsvPages
from .history import PolicyHistory
from .shared import local, refusal, staff

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def _labels(choices: Any, values: Any) -> str:
    """A list of choice values as a list of their labels (a published policy's lists)."""
    labels = dict(choices)
    return format_html(
        '<ul class="df-list">{}</ul>',
        format_html_join("", "<li>{}</li>", ((labels.get(v, v),) for v in values or [])),
    )


class PolicyAdminForm(forms.ModelForm):
    traveller_kinds = forms.MultipleChoiceField(
        label=_("traveller kinds"),
        choices=choices_of(POLICY_TRAVELLER_KINDS),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Who may buy."),
    )
    pickup_modes = forms.MultipleChoiceField(
        label=_("pickup modes"),
        choices=PickupMode.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Pickup modes the policy allows."),
    )

    class Meta:
        model = Policy
        fields = ("programme", "name_zh", "name_en", "effective_from", *Policy.RULE_FIELDS)
        help_texts: dict[str, StrPromise | str] = {
            "effective_from": _("Planned date; the time is fixed when you publish.")
        }


class LockedPolicyForm(PolicyAdminForm):
    """A published or withdrawn policy, read only: its effective time is no longer a plan."""

    class Meta(PolicyAdminForm.Meta):
        help_texts = {"effective_from": ""}


def kept_because(policy: Policy) -> str:
    """Why a policy is never deleted, in the page's language ("" when it may be)."""
    if policy.status == PolicyStatus.PUBLISHED:
        return gettext(
            "Published versions are never deleted; withdraw a scheduled one or clone to a draft."
        )
    if policy.status == PolicyStatus.WITHDRAWN:
        return gettext("Withdrawn versions are never deleted: they stay on record.")
    if policy.is_source_of_locked():
        return gettext(
            "This draft is never deleted: a published or withdrawn version was cloned from it."
        )
    return ""


def _input_format_hint(format_name: str) -> str:
    """The first input format of the active language, as a person writes it (YYYY/MM/DD)."""
    pattern = formats.get_format(format_name)[0]
    for code, text in (("%Y", "YYYY"), ("%m", "MM"), ("%d", "DD"), ("%H", "HH"), ("%M", "mm")):
        pattern = pattern.replace(code, text)
    return pattern.replace("%S", "ss")


class PublishDateTime(AdminSplitDateTime):
    """The admin's date and time fields (calendar and clock pickers) with their format shown
    in the fields themselves."""

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        self.widgets[0].attrs["placeholder"] = _input_format_hint("DATE_INPUT_FORMATS")
        self.widgets[1].attrs["placeholder"] = _input_format_hint("TIME_INPUT_FORMATS")
        return super().get_context(name, value, attrs)


class PublishForm(forms.Form):
    effective_from = forms.SplitDateTimeField(
        required=False,
        widget=PublishDateTime,
        label=_("Takes effect at (Asia/Shanghai time, UTC+8)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tomorrow = timezone.localtime(timezone.now(), LOCAL_TZ) + timedelta(days=1)
        example = tomorrow.replace(hour=0, minute=0, second=0, microsecond=0)
        date_format = formats.get_format("DATE_INPUT_FORMATS")[0]
        time_format = formats.get_format("TIME_INPUT_FORMATS")[0]
        self.fields["effective_from"].help_text = gettext(
            "Date as %(date)s and time as %(time)s (24-hour), for example %(example)s; the "
            "calendar and clock buttons fill them in. The draft's planned date is filled in "
            "when it is in the future. Leave both empty to take effect now; never in the past."
        ) % {
            "date": _input_format_hint("DATE_INPUT_FORMATS"),
            "time": _input_format_hint("TIME_INPUT_FORMATS"),
            "example": f"{example.strftime(date_format)} {example.strftime(time_format)}",
        }


@admin.register(Policy)
class PolicyAdmin(PolicyCsvPages, PolicyHistory):
    form = PolicyAdminForm
    inlines = [CategoryInline, ImmediatePickupKindInline]

    change_form_template = "admin/quotas/policy/change_form.html"
    object_history_template = "admin/quotas/policy/object_history.html"
    object_history_list_template = "admin/quotas/policy/object_history_list.html"
    list_filter = ("programme", "status")
    search_fields = ("name_zh", "name_en")
    readonly_fields = (
        "status",
        "cloned_from",
        "published_at",
        "published_by",
        "withdrawn_at",
        "traveller_kinds_list",
        "pickup_modes_list",
    )
    actions = ["delete_drafts"]

    class Media:
        css = {"all": ["quotas/admin.css"]}

    def get_form(self, request: HttpRequest, obj: Policy | None = None, **kwargs: Any) -> Any:
        if obj is not None and obj.is_locked:
            kwargs["form"] = LockedPolicyForm
        return super().get_form(request, obj, **kwargs)

    def get_list_display(self, request: HttpRequest) -> Any:
        # The programme column only when there is more than one to tell apart (as its filter).
        programme = ("programme",) if Programme.objects.count() > 1 else ()
        return (
            "policy_name",
            *programme,
            "status_badge",
            "effective_from",
            "in_force",
            "category_count",
            "unverified_count",
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        return (
            super()
            .get_queryset(request)
            .select_related("programme")
            .annotate(
                n_categories=Count("categories"),
                n_unverified=Count("categories", filter=~Q(categories__verified="name_and_number")),
            )
            .order_by("programme", "-effective_from", "-pk")
        )

    def get_fieldsets(self, request: HttpRequest, obj: Policy | None = None) -> Any:
        locked = obj is not None and obj.is_locked
        main = (
            None,
            {"fields": ("programme", "name_zh", "name_en", "status", "effective_from")},
        )
        # A published policy shows its lists by their labels, not as JSON.
        shown = {"traveller_kinds": "traveller_kinds_list", "pickup_modes": "pickup_modes_list"}
        fields = tuple(shown.get(name, name) if locked else name for name in Policy.RULE_FIELDS)
        rules = (_("Rules"), {"fields": fields})
        record = (
            _("Record"),
            {
                "fields": (
                    "cloned_from",
                    "published_at",
                    "published_by",
                    "withdrawn_at",
                ),
                "classes": ("collapse",),
            },
        )
        return (main, rules, record)

    # --- read-only lists ---------------------------------------------------------------------
    @admin.display(description=_("traveller kinds"))
    def traveller_kinds_list(self, policy: Policy) -> str:
        return _labels(TravellerKind.choices, policy.traveller_kinds)

    @admin.display(description=_("pickup modes"))
    def pickup_modes_list(self, policy: Policy) -> str:
        return _labels(PickupMode.choices, policy.pickup_modes)

    # --- list columns -----------------------------------------------------------------------
    @admin.display(description=_("name"), ordering="name_zh")
    def policy_name(self, policy: Policy) -> str:
        return policy.name

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, policy: Policy) -> str:
        return format_html(
            '<span class="df-status df-status-{}">{}</span>',
            policy.status,
            policy.get_status_display(),
        )

    @admin.display(description=_("in force now"), boolean=True)
    def in_force(self, policy: Policy) -> bool:
        if policy.status != PolicyStatus.PUBLISHED or policy.effective_from is None:
            return False
        now = timezone.now()
        newer = Policy.objects.filter(
            programme_id=policy.programme_id,
            status=PolicyStatus.PUBLISHED,
            effective_from__gt=policy.effective_from,
            effective_from__lte=now,
        )
        return policy.effective_from <= now and not newer.exists()

    @admin.display(description=_("categories"), ordering="n_categories")
    def category_count(self, policy: Policy) -> int:
        return policy.n_categories  # type: ignore[attr-defined]  # get_queryset annotates it

    @admin.display(description=_("unverified"), ordering="n_unverified")
    def unverified_count(self, policy: Policy) -> str:
        count = policy.n_unverified  # type: ignore[attr-defined]  # get_queryset annotates it
        if not count:
            return "0"
        return format_html('<span class="df-badge df-unverified">⚠ {}</span>', count)

    # --- the change page's tools: each offered exactly when it would work --------------------
    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Policy | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context |= self._tools(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _tools(self, request: HttpRequest, policy: Policy) -> dict[str, bool]:
        """Which of the change page's buttons (clone, publish, withdraw, each list's export and
        import) this user gets on this policy."""
        parts = {
            name: inline(self.model, self.admin_site)
            for name, inline in (
                ("categories", CategoryInline),
                ("kinds", ImmediatePickupKindInline),
            )
        }
        return {
            "can_clone": self._may_clone(request),
            # Publish: a draft this user may change; import: and its list too.
            "can_edit": self.has_change_permission(request, policy),
            **{
                f"can_export_{name}": part.has_view_permission(request, policy)
                for name, part in parts.items()
            },
            **{
                f"can_import_{name}": part.has_change_permission(request, policy)
                for name, part in parts.items()
            },
            "can_withdraw": policy.is_scheduled_at(timezone.now())
            and self.has_change_permission(request),
        }

    # --- permissions: locked policies are read-only and never deleted -----------------------
    def has_change_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        if obj is not None and obj.is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        if obj is not None and (obj.is_locked or obj.is_source_of_locked()):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Django's bulk delete, tried on a published version, blames a missing permission;
        # delete_drafts deletes what can go and says why it keeps the rest.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Delete selected drafts"), permissions=["delete"])
    def delete_drafts(self, request: HttpRequest, queryset: PolicyQuerySet) -> None:
        drafts = queryset.filter(status=PolicyStatus.DRAFT).exclude(
            pk__in=queryset.sources_of_locked()
        )
        skipped = queryset.exclude(pk__in=drafts).count()
        deleted = drafts.count()
        drafts.delete()
        if deleted or not skipped:
            self.message_user(
                request,
                ngettext("Deleted %(count)d draft.", "Deleted %(count)d drafts.", deleted)
                % {"count": deleted},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "Kept %(count)d policy. Published versions are never deleted; withdraw a "
                    "scheduled one or clone to a draft. Withdrawn versions, and the drafts "
                    "published ones were cloned from, stay on record.",
                    "Kept %(count)d policies. Published versions are never deleted; withdraw a "
                    "scheduled one or clone to a draft. Withdrawn versions, and the drafts "
                    "published ones were cloned from, stay on record.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # A version that is kept for good: its page, with the reason, rather than a 403 that
        # blames a missing permission.
        policy = self.get_object(request, unquote(object_id))
        if policy is not None and self.has_view_permission(request, policy):
            reason = kept_because(policy)
            if reason:
                self.message_user(request, reason, messages.ERROR)
                return HttpResponseRedirect(self._change_url(policy))
        return super().delete_view(request, object_id, extra_context)

    # --- clone, publish, withdraw ---------------------------------------------------------
    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/clone/", wrap(self.clone_view), name="quotas_policy_clone"),
            path("<int:pk>/publish/", wrap(self.publish_view), name="quotas_policy_publish"),
            path("<int:pk>/withdraw/", wrap(self.withdraw_view), name="quotas_policy_withdraw"),
            *super().get_urls(),
        ]

    def _may_clone(self, request: HttpRequest) -> bool:
        """A clone adds a policy with its categories and kinds."""
        parts = (
            part(self.model, self.admin_site)
            for part in (CategoryInline, ImmediatePickupKindInline)
        )
        return self.has_add_permission(request) and all(
            part.has_add_permission(request, None) for part in parts
        )

    def clone_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = self._policy(request, pk, change=False)
        if not self._may_clone(request):
            raise PermissionDenied
        if request.method == "POST":
            draft = services.policy_clone(policy=policy, user=staff(request))
            self.log_addition(request, draft, f"Cloned from policy {policy.pk}")
            self.message_user(
                request,
                gettext("Draft “%(name)s” created; edit it, then publish.") % {"name": draft.name},
            )
            return HttpResponseRedirect(self._change_url(draft))
        return self._render(
            request,
            policy,
            "confirm.html",
            title=gettext("Clone “%(name)s” to a draft") % {"name": policy.name},
            action="clone",
            button=gettext("Create draft"),
            explanation=gettext(
                "A new draft gets the same rules and categories. The original stays as it is."
            ),
        )

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = self._policy(request, pk, change=True)
        form = PublishForm(request.POST or None, initial=self._planned(policy))
        if request.method == "POST" and form.is_valid():
            published = self._publish(request, policy, form)
            if published is not None:
                self.message_user(
                    request,
                    gettext("Published “%(name)s”, in force from %(time)s (Asia/Shanghai).")
                    % {"name": published.name, "time": local(published.effective_from)},
                )
                return HttpResponseRedirect(self._change_url(published))
        return self._render(
            request,
            policy,
            "publish.html",
            title=gettext("Publish “%(name)s”") % {"name": policy.name},
            form=form,
            unverified=policy.categories.exclude(verified=Verification.NAME_AND_NUMBER).count(),
            categories=policy.categories.count(),
            kinds=policy.immediate_kinds.count(),
        )

    def _planned(self, policy: Policy) -> dict[str, Any]:
        """The publish form's initial values. The draft's planned date (its form says "the time
        is fixed when you publish") is what the page offers: confirming the page as shown never
        makes a planned policy start now."""
        planned = policy.effective_from
        return (
            {"effective_from": timezone.localtime(planned, LOCAL_TZ)}
            if planned is not None and planned > timezone.now()
            else {}
        )

    def _publish(self, request: HttpRequest, policy: Policy, form: PublishForm) -> Policy | None:
        """Publish the draft at the valid form's time (now when it gives none), logged: the
        published policy, or ``None`` with the refusal on the form."""
        now = timezone.now()
        effective_from = form.cleaned_data["effective_from"] or now
        try:
            published = services.policy_publish(
                policy=policy, effective_from=effective_from, now=now, user=staff(request)
            )
        except DomainError as exc:
            form.add_error(None, refusal(exc))
        except ValidationError as exc:  # full_clean of a draft with broken rules
            for message in exc.messages:
                form.add_error(None, message)
        else:
            self.log_change(
                request, published, f"Published, effective {local(effective_from)} (+08:00)"
            )
            return published
        return None

    def withdraw_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = self._policy(request, pk, change=False)
        if not super().has_change_permission(request, None):
            raise PermissionDenied
        error = None
        if request.method == "POST":
            try:
                services.policy_withdraw(policy=policy, now=timezone.now(), user=staff(request))
            except DomainError as exc:
                error = refusal(exc)
            else:
                self.log_change(request, policy, "Withdrawn before taking effect")
                self.message_user(
                    request,
                    gettext("Withdrew “%(name)s”; it will never be in force.")
                    % {"name": policy.name},
                )
                return HttpResponseRedirect(self._change_url(policy))
        return self._render(
            request,
            policy,
            "confirm.html",
            title=gettext("Withdraw “%(name)s”") % {"name": policy.name},
            action="withdraw",
            button=gettext("Withdraw"),
            error=error,
            explanation=gettext(
                "Only a published policy that has not yet taken effect can be withdrawn. It "
                "stays on record and is never in force."
            ),
        )


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):  # programmes keep no history
    list_display = ("code", "name_zh", "name_en", "currency")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Sales find their policy through the programme's code (DEFAULT_PROGRAMME): renaming
        # it would stop every sale. A new programme gets its code when it is added.
        return ("code",) if obj is not None else ()
