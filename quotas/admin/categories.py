"""A policy's categories and immediate-pickup kinds (即购即提): the rows on its page
(inlines, editable on a draft, read only once it is published or withdrawn), how a category's
columns read (code, per-trip limit, verification badge), and the Category admin, which lists
every category of every version. Their CSV pages are in csv_pages.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .. import category_csv, kind_csv
from ..choices import Verification
from ..models import Category, ImmediatePickupKind, Policy
from .history import VersionsAdmin
from .shared import local

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


def code_wrapping(code: str) -> str:
    """A code that may wrap after its underscores in a narrow column
    (``electronic_consumer_products``), never inside a word."""
    return format_html_join(mark_safe("_<wbr>"), "{}", ((part,) for part in code.split("_")))


def per_trip_limit_text(category: Category) -> str:
    if not category.per_trip_limit_unit:
        return "—"
    return f"{category.per_trip_limit_value} {category.get_per_trip_limit_unit_display()}"


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
