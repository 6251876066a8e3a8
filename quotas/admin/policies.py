"""Administrators edit category lists as dated policy versions.

Life cycle: clone a published policy to a draft → edit (inline or by CSV) → publish with an
effective time (now or later). Published policies are read-only here, and the model layer
refuses changes anyway (quotas.models). Every change is kept by django-simple-history and
shown on the History pages, with who and when; a policy's page lists its categories' changes
too.

Every string a person reads here is translated (zh-hans in locale/); dates and times show in
Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from dutyfree.errors import DomainError

from .. import category_csv, kind_csv, services
from ..choices import (
    POLICY_TRAVELLER_KINDS,
    PickupMode,
    PolicyStatus,
    TravellerKind,
    Verification,
    choices_of,
)
from ..models import (
    Category,
    ImmediatePickupKind,
    Policy,
    PolicyQuerySet,
    Programme,
)
from ..rules import LOCAL_TZ
from .history import PolicyHistory, VersionsAdmin
from .shared import local, refusal, staff

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

_VERIFICATION_BADGES: dict[str, tuple[str, StrPromise | str]] = {
    Verification.NAME_AND_NUMBER: ("df-verified", _("✓ verified")),
    Verification.NAME: ("df-partly", _("◐ number unverified")),
    Verification.NO: ("df-unverified", _("⚠ UNVERIFIED")),
}


def verification_badge(category: Category) -> str:
    css, text = _VERIFICATION_BADGES.get(category.verified, ("df-unverified", category.verified))
    return format_html('<span class="df-badge {}" title="{}">{}</span>', css, category.note, text)


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


class PolicyPartInline(admin.TabularInline):
    """Rows of a policy (its categories, its kinds) on its page, by number: editable on a
    draft, read only once the policy is published or withdrawn."""

    extra = 0
    ordering = ("number",)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name == "note":  # column widths: admin.css
            field.widget = forms.Textarea(attrs={"rows": 2})
        return field

    def _editable(self, obj: Policy | None) -> bool:
        return obj is None or not obj.is_locked

    def has_add_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class CategoryInline(PolicyPartInline):
    """A policy's categories. One verification column: the choice on a draft (its row
    coloured by admin.css), the badge on a published policy."""

    model = Category
    readonly_fields = ("code_wrapped", "verification", "per_trip_limit", "immediate_pickup")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        # The derived flag reads the policy's kinds: once for all rows, not once per row.
        return super().get_queryset(request).prefetch_related("policy__immediate_kinds")

    @admin.display(description=_("immediate pickup"), boolean=True)
    def immediate_pickup(self, category: Category) -> bool:
        return category.immediate_pickup

    @admin.display(description=_("verified"))
    def verification(self, category: Category) -> str:
        return verification_badge(category) if category.pk else "—"

    @admin.display(description=_("per-trip limit"))
    def per_trip_limit(self, category: Category) -> str:
        return per_trip_limit_text(category)

    @admin.display(description=_("code"))
    def code_wrapped(self, category: Category) -> str:
        return code_wrapping(category.code)

    def get_fields(self, request: HttpRequest, obj: Policy | None = None) -> Any:
        if self._editable(obj):
            # What a CSV row sets, but "added" (a column of the file, not of the category).
            return tuple(column for column in category_csv.COLUMNS if column != "added")
        return (
            "number",
            "code_wrapped",
            "name_zh",
            "name_en",
            "per_trip_limit",
            "immediate_pickup",
            "verification",
            "note",
        )


class ImmediatePickupKindInline(PolicyPartInline):
    """A policy's immediate-pickup list (即购即提)."""

    model = ImmediatePickupKind
    fields = kind_csv.COLUMNS


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


def code_wrapping(code: str) -> str:
    """A code that may wrap after its underscores in a narrow column
    (``electronic_consumer_products``), never inside a word."""
    return format_html_join(mark_safe("_<wbr>"), "{}", ((part,) for part in code.split("_")))


def per_trip_limit_text(category: Category) -> str:
    if not category.per_trip_limit_unit:
        return "—"
    return f"{category.per_trip_limit_value} {category.get_per_trip_limit_unit_display()}"


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


class CategoryImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "UTF-8, header: %(columns)s. Replaces this draft's categories."
        ) % {"columns": ",".join(category_csv.COLUMNS)}


class KindImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "UTF-8, header: %(columns)s. Replaces this draft's immediate-pickup kinds."
        ) % {"columns": ",".join(kind_csv.COLUMNS)}


@admin.register(Policy)
class PolicyAdmin(PolicyHistory):
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
            parts = {
                name: inline(self.model, self.admin_site)
                for name, inline in (
                    ("categories", CategoryInline),
                    ("kinds", ImmediatePickupKindInline),
                )
            }
            context |= {
                "can_clone": self._may_clone(request),
                # Publish: a draft this user may change; import: and its list too.
                "can_edit": self.has_change_permission(request, obj),
                **{
                    f"can_export_{name}": part.has_view_permission(request, obj)
                    for name, part in parts.items()
                },
                **{
                    f"can_import_{name}": part.has_change_permission(request, obj)
                    for name, part in parts.items()
                },
                "can_withdraw": obj.is_scheduled_at(timezone.now())
                and self.has_change_permission(request),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

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

    # --- clone, publish, withdraw, CSV ------------------------------------------------------
    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/clone/", wrap(self.clone_view), name="quotas_policy_clone"),
            path("<int:pk>/publish/", wrap(self.publish_view), name="quotas_policy_publish"),
            path("<int:pk>/withdraw/", wrap(self.withdraw_view), name="quotas_policy_withdraw"),
            path("<int:pk>/categories.csv", wrap(self.export_view), name="quotas_policy_export"),
            path(
                "<int:pk>/import-categories/", wrap(self.import_view), name="quotas_policy_import"
            ),
            path(
                "<int:pk>/immediate-kinds.csv",
                wrap(self.kinds_export_view),
                name="quotas_policy_kinds_export",
            ),
            path(
                "<int:pk>/import-immediate-kinds/",
                wrap(self.kinds_import_view),
                name="quotas_policy_kinds_import",
            ),
            *super().get_urls(),
        ]

    def _policy(
        self,
        request: HttpRequest,
        pk: int,
        *,
        change: bool,
        part: type[PolicyPartInline] | None = None,
    ) -> Policy:
        """The policy of a page that changes it (else reads it) and, with ``part``, its
        categories or kinds: refused (403) unless the user may, as on the policy's own page,
        where each list shows only to whoever may see it and is editable only by whoever may
        change it."""
        policy = get_object_or_404(Policy, pk=pk)
        inline = part(self.model, self.admin_site) if part is not None else None
        if change:  # False for published/withdrawn
            allowed = self.has_change_permission(request, policy) and (
                inline is None or inline.has_change_permission(request, policy)
            )
        else:
            allowed = self.has_view_permission(request, policy) and (
                inline is None or inline.has_view_permission(request, policy)
            )
        if not allowed:
            raise PermissionDenied
        return policy

    def _may_clone(self, request: HttpRequest) -> bool:
        """A clone adds a policy with its categories and kinds."""
        parts = (
            part(self.model, self.admin_site)
            for part in (CategoryInline, ImmediatePickupKindInline)
        )
        return self.has_add_permission(request) and all(
            part.has_add_permission(request, None) for part in parts
        )

    def _change_url(self, policy: Policy) -> str:
        return reverse("admin:quotas_policy_change", args=[policy.pk])

    def _render(
        self, request: HttpRequest, policy: Policy, template: str, **extra: Any
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": policy,
            "title": extra.pop("title"),
            **extra,
        }
        return TemplateResponse(request, f"admin/quotas/policy/{template}", context)

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
        # The draft's planned date (its form says "the time is fixed when you publish") is what
        # the page offers: confirming the page as shown never makes a planned policy start now.
        planned = policy.effective_from
        initial = (
            {"effective_from": timezone.localtime(planned, LOCAL_TZ)}
            if planned is not None and planned > timezone.now()
            else {}
        )
        form = PublishForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
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

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = self._policy(request, pk, change=False, part=CategoryInline)
        text = category_csv.export_categories(policy.categories.all())
        return self._csv(text, f"policy-{policy.pk}-categories.csv")

    def kinds_export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = self._policy(request, pk, change=False, part=ImmediatePickupKindInline)
        text = kind_csv.export_kinds(policy.immediate_kinds.all())
        return self._csv(text, f"policy-{policy.pk}-immediate-kinds.csv")

    def _csv(self, text: str, filename: str) -> HttpResponse:
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def import_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = self._policy(request, pk, change=True, part=CategoryInline)
        form = CategoryImportForm(request.POST or None, request.FILES or None)
        done, errors = self._import(
            request,
            policy,
            form,
            parse=category_csv.parse_categories,
            replace=services.policy_categories_replace,
            what="categories",
        )
        if done is not None:
            self.message_user(
                request,
                ngettext("Imported %(count)d category.", "Imported %(count)d categories.", done)
                % {"count": done},
            )
            return HttpResponseRedirect(self._change_url(policy))
        return self._render_import(
            request,
            policy,
            form,
            errors,
            title=gettext("Import categories into “%(name)s”") % {"name": policy.name},
            explanation=gettext(
                "Upload a CSV exported from a policy (or written by hand). It replaces this "
                "draft's categories as a whole; if any line is wrong, nothing is changed."
            ),
        )

    def kinds_import_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = self._policy(request, pk, change=True, part=ImmediatePickupKindInline)
        form = KindImportForm(request.POST or None, request.FILES or None)
        done, errors = self._import(
            request,
            policy,
            form,
            parse=kind_csv.parse_kinds,
            replace=services.policy_kinds_replace,
            what="immediate-pickup kinds",
        )
        if done is not None:
            self.message_user(
                request,
                ngettext(
                    "Imported %(count)d immediate-pickup kind.",
                    "Imported %(count)d immediate-pickup kinds.",
                    done,
                )
                % {"count": done},
            )
            return HttpResponseRedirect(self._change_url(policy))
        return self._render_import(
            request,
            policy,
            form,
            errors,
            title=gettext("Import immediate-pickup kinds into “%(name)s”") % {"name": policy.name},
            explanation=gettext(
                "Upload a CSV exported from a policy (or written by hand). It replaces this "
                "draft's immediate-pickup list as a whole; if any line is wrong, nothing is "
                "changed. A kind's category is checked when the draft is published."
            ),
        )

    def _import(
        self,
        request: HttpRequest,
        policy: Policy,
        form: forms.Form,
        *,
        parse: Callable[[bytes], Any],
        replace: Callable[..., int],
        what: str,
    ) -> tuple[int | None, list[str]]:
        """Parse the posted file and replace the draft's list with it: the count written (or
        ``None``: nothing posted, or refused) and every problem, by line."""
        if request.method != "POST" or not form.is_valid():
            return None, []
        parsed = parse(form.cleaned_data["file"].read())
        if parsed.errors:
            return None, list(parsed.errors)
        try:
            count = replace(policy=policy, rows=parsed.rows, user=staff(request))
        except DomainError as exc:
            return None, [refusal(exc)]
        except ValidationError as exc:
            return None, list(exc.messages)
        self.log_change(request, policy, f"Imported {count} {what} from CSV")
        return count, []

    def _render_import(
        self, request: HttpRequest, policy: Policy, form: forms.Form, errors: list[str], **text: str
    ) -> TemplateResponse:
        return self._render(
            request,
            policy,
            "import.html",
            form=form,
            errors=errors[:100],
            more_errors=max(0, len(errors) - 100),
            **text,
        )


class PolicyVersionFilter(admin.RelatedFieldListFilter):
    """The versions by name, status and effective date: a clone carries its source's name."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        versions = Policy.objects.order_by("programme", "-effective_from", "-pk")
        return [(version.pk, version_label(version)) for version in versions]


def version_label(policy: Policy) -> str:
    """``Offshore duty-free 2025-11 (已发布 / published, 2025-11-01)``."""
    when = f", {local(policy.effective_from)[:10]}" if policy.effective_from else ""
    return f"{policy.name} ({policy.get_status_display()}{when})"


@admin.register(Category)
class CategoryAdmin(VersionsAdmin):
    """Every category of every version: find unverified entries, see each one's history."""

    # The records' reasons and names in the page's language, as on the policy's history.
    object_history_list_template = "admin/quotas/category/object_history_list.html"

    list_display = (
        "number",
        "name_zh",
        "name_en",
        "code_wrapped",
        "policy",
        "per_trip_limit",
        "immediate_pickup",
        "verification",
    )
    list_filter = ("verified", ("policy", PolicyVersionFilter))
    search_fields = ("code", "name_zh", "name_en", "note")
    list_select_related = ("policy",)
    ordering = ("policy", "number")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).prefetch_related("policy__immediate_kinds")

    def get_list_display(self, request: HttpRequest) -> Any:
        # Filtered to one version, its name on every row says nothing: the names get the room.
        if "policy__id__exact" in request.GET:
            return tuple(column for column in self.list_display if column != "policy")
        return self.list_display

    @admin.display(description=_("immediate pickup"), boolean=True)
    def immediate_pickup(self, category: Category) -> bool:
        return category.immediate_pickup

    class Media:
        css = {"all": ["quotas/admin.css"]}

    @admin.display(description=_("per-trip limit"))
    def per_trip_limit(self, category: Category) -> str:
        return per_trip_limit_text(category)

    @admin.display(description=_("code"), ordering="code")
    def code_wrapped(self, category: Category) -> str:
        return code_wrapping(category.code)

    @admin.display(description=_("verified"), ordering="verified")
    def verification(self, category: Category) -> str:
        return verification_badge(category)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # categories are added on their policy's page

    def has_change_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        if obj is not None and obj.policy.is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        if obj is not None and obj.policy.is_locked:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk deletes would hit published policies
        return actions


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):  # programmes keep no history
    list_display = ("code", "name_zh", "name_en", "currency")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Sales find their policy through the programme's code (DEFAULT_PROGRAMME): renaming
        # it would stop every sale. A new programme gets its code when it is added.
        return ("code",) if obj is not None else ()
