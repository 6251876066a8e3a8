"""History pages: every change kept by django-simple-history, with who and when.

- :class:`VersionsAdmin` — the base of every admin with history (policies, categories). A past
  version's page shows it read only and answers GET alone: simple-history's "revert" would save
  any valid POST for whoever may view.
- :class:`ShownChanges` — a record's changes as the admin shows the fields' values.
- :class:`PolicyHistory` — a policy's History page: its own records (status changes included),
  then its categories' and immediate-pickup kinds' records, paginated.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import display_for_field
from django.core.paginator import Paginator
from django.db.models import DateTimeField
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_safe
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import ModelChange, ModelDelta
from simple_history.template_utils import HistoricalRecordContextHelper

from ..choices import PickupMode, TravellerKind
from ..models import Category, ImmediatePickupKind
from ..rules import LOCAL_TZ

# JSON lists of choice values, shown by their labels.
_LIST_LABELS = {"traveller_kinds": TravellerKind.choices, "pickup_modes": PickupMode.choices}


class ShownChanges(HistoricalRecordContextHelper):
    """A history record's changes as the admin shows the fields' values: choices by their
    labels, times in Asia/Shanghai in the active language's format, lists by their labels,
    "—" for none."""

    def prepare_delta_change_value(self, change: Any, value: Any) -> Any:
        field = self.model._meta.get_field(change.field)
        if field.name in _LIST_LABELS and isinstance(value, list):
            labels = dict(_LIST_LABELS[field.name])
            return ", ".join(str(labels.get(item, item)) for item in value) or "—"
        if isinstance(field, DateTimeField) and value is not None:
            return formats.localize(timezone.localtime(value, LOCAL_TZ))
        return display_for_field(value, field, "—")


class VersionsAdmin(SimpleHistoryAdmin):
    """Every change kept by django-simple-history, each past version shown read only.

    simple-history's version page saves any valid POST as a "revert", and lets in whoever may
    view: an auditor could rewrite a draft through it. Reverting is disabled
    (``SIMPLE_HISTORY_REVERT_DISABLED``: no button), the page answers GET only (405 otherwise)
    and shows every field as text. An old version comes back by editing a draft."""

    def get_historical_record_context_helper(
        self, request: HttpRequest, historical_record: Any
    ) -> HistoricalRecordContextHelper:
        return ShownChanges(self.model, historical_record)

    def _viewing_a_version(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        match = request.resolver_match
        return match is not None and match.url_name == (
            f"{opts.app_label}_{opts.model_name}_simple_history"
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_readonly_fields(request, obj)
        if not self._viewing_a_version(request):
            return fields
        editable = [
            field.name
            for field in self.model._meta.get_fields()
            if field.concrete and getattr(field, "editable", False) and not field.auto_created
        ]
        return (*fields, *(name for name in editable if name not in fields))

    @method_decorator(require_safe)
    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().history_form_view(request, object_id, version_id, extra_context)


class PolicyHistory(VersionsAdmin):
    """A policy's History page: the policy's own records, then its categories' and kinds'."""

    # Category changes listed on the policy's history page, per page.
    category_history_per_page = 100

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True
    ) -> None:
        """Each record's changes against the one before it (the page lists newest first):
        the fields an editor sets, and the status, which publishing and withdrawing change
        and no form edits."""
        newer = None
        for older in historical_records:
            if newer is not None:
                delta = newer.diff_against(older, foreign_keys_are_objs=foreign_keys_are_objs)
                if newer.status != older.status:  # diff_against compares editable fields only
                    status = ModelChange("status", older.status, newer.status)
                    delta = ModelDelta(
                        [status, *delta.changes], ["status", *delta.changed_fields], older, newer
                    )
                helper = self.get_historical_record_context_helper(request, newer)
                newer.history_delta_changes = helper.context_for_delta_changes(delta)
            newer = older

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "category_changes": self._part_changes(
                Category, object_id, request.GET.get("categories_page")
            ),
            "kind_changes": self._part_changes(
                ImmediatePickupKind, object_id, request.GET.get("kinds_page")
            ),
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, extra_context=context)

    def _part_changes(
        self, model: type[Category] | type[ImmediatePickupKind], policy_id: str, page: str | None
    ) -> Any:
        """The history records of a policy's categories or kinds, newest first, each with
        what changed against the record before it of the same row."""
        records = list(
            model.history.filter(policy_id=policy_id)
            .select_related("history_user")
            .order_by("id", "history_date", "history_id")
        )
        previous: dict[int, Any] = {}
        for record in records:
            before = previous.get(record.id)
            if before is not None and record.history_type == "~":
                helper = ShownChanges(model, record)
                record.history_delta_changes = helper.context_for_delta_changes(
                    record.diff_against(before)
                )
            previous[record.id] = record
        records.sort(key=lambda r: (r.history_date, r.history_id), reverse=True)
        return Paginator(records, self.category_history_per_page).get_page(page)
