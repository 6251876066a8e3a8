"""Policy previews in the admin: asked for from a policy's page ("Preview against recorded
sales": a window, the last 30 days by default), then followed on the preview's page — its
progress while it runs, then its tables in the admin's language and a CSV export — beside the
version's earlier previews.

The platform's people with the model's permissions (never an operator's: see
shops/operators/backends.py) ask for (``add``) and read (``view``)
previews; an operator's never (a preview counts every operator's sales). Previews are never
changed; a new one is asked for instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dutyfree.csv import csv_text
from dutyfree.language import in_language
from quotas import rules
from quotas.models import Policy
from quotas.selectors import (
    category_names,
    policies_newest_first,
    policy_rules,
    policy_with_parts,
)
from shops.models import PolicyPreview, PreviewStatus, Store
from shops.operators.scope import is_platform
from shops.previews.services import (
    PreviewError,
    check_window,
    default_window,
    preview_of,
    preview_request,
    previews_of,
    rules_digest,
)

# What each violation code means, as the tables name it.
CODE_NAMES = {
    rules.UNDERAGE: _("Under the age floor"),
    rules.BANNED: _("Shopper banned"),
    rules.TRAVELLER_NOT_ELIGIBLE: _("Traveller not eligible"),
    rules.TRIP_REQUIRED: _("No departure given"),
    rules.TRIP_DEPARTED: _("Departure already left"),
    rules.INVALID_QUANTITY: _("Quantity or volume not countable"),
    rules.UNKNOWN_SKU: _("Unknown product"),
    rules.NOT_DUTY_FREE_CATEGORY: _("Category not on the list"),
    rules.PICKUP_NOT_ALLOWED: _("Pickup not allowed"),
    rules.PER_TRIP_LIMIT_EXCEEDED: _("Per-trip limit exceeded"),
    rules.IMMEDIATE_PICKUP_LIMIT_EXCEEDED: _("Immediate-pickup cap exceeded"),
    rules.ANNUAL_QUOTA_EXCEEDED: _("Annual quota exceeded"),
}


class PolicyChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _policy_name(obj)


class AskForm(forms.Form):
    policy = PolicyChoice(
        label=capfirst(_("policy")), queryset=policies_newest_first(), empty_label=None
    )
    start = forms.DateField(label=capfirst(_("from")), widget=AdminDateWidget)
    end = forms.DateField(label=capfirst(_("to")), widget=AdminDateWidget)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if isinstance(start, date) and isinstance(end, date):
            try:
                check_window(start, end)
            except PreviewError as exc:
                self.add_error(exc.field, str(exc))
        return cleaned


def _localized(names: dict[str, tuple[str, str]], code: str) -> str:
    zh, en = names.get(code, (code, code))
    return in_language(zh=zh, en=en or zh)


def _rows(tallies: dict[str, dict[str, Any]], name: Any = None) -> list[dict[str, Any]]:
    """A result's tally by code, largest amount first, each with its name."""
    rows = [
        {
            "code": code,
            "name": name(code) if name else code,
            **tally,
            "shown": yuan(tally["amount"]),
        }
        for code, tally in tallies.items()
    ]
    return sorted(rows, key=lambda row: (-float(row["amount"]), row["code"]))


@admin.register(PolicyPreview)
class PolicyPreviewAdmin(admin.ModelAdmin):
    list_display = ("window", "policy", "status", "refused", "created_at")
    list_filter = ("status",)
    list_select_related = ("policy",)
    date_hierarchy = "created_at"

    # --- who: the model's permissions, which only the platform's people hold (the operators'
    # backend); asked for and deleted, never changed.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform(request.user) and super().has_add_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_platform(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Deleted with their draft, or on their own by whoever holds the permission.
        return is_platform(request.user) and super().has_delete_permission(request, obj)

    @admin.display(description=_("window"), ordering="start")
    def window(self, preview: PolicyPreview) -> str:
        return f"{preview.start:%Y-%m-%d} – {preview.end:%Y-%m-%d}"

    @admin.display(description=_("refused sales"))
    def refused(self, preview: PolicyPreview) -> str:
        if preview.result is None:
            return "—"
        refused = preview.result["refused"]
        return f"{refused['sales']} / {preview.result['sales']}"

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:preview_id>/export.csv",
                self.admin_site.admin_view(self.export_view),
                name="shops_policypreview_export",
            ),
        ]
        return own + super().get_urls()

    # --- asking for one -----------------------------------------------------------------------
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise Http404
        now = timezone.now()
        if request.method == "POST":
            form = AskForm(request.POST)
            if form.is_valid():
                try:
                    preview, _created = preview_request(
                        policy_id=form.cleaned_data["policy"].pk,
                        start=form.cleaned_data["start"],
                        end=form.cleaned_data["end"],
                        now=now,
                        user=request.user,
                    )
                except PreviewError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, str(exc))
                else:
                    return HttpResponseRedirect(
                        reverse("admin:shops_policypreview_change", args=[preview.pk])
                    )
        else:
            start, end = default_window(now)
            initial: dict[str, Any] = {"start": start, "end": end}
            if (asked := request.GET.get("policy", "")).isdigit():
                initial["policy"] = int(asked)
            form = AskForm(initial=initial)
        chosen = str(form["policy"].value() or "")
        earlier = _earlier(int(chosen)) if chosen.isdigit() else []
        return TemplateResponse(
            request,
            "admin/shops/policypreview/ask.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Preview against recorded sales"),
                "form": form,
                "earlier": earlier,
                "opts": self.model._meta,
                "media": self.media + form.media,
            },
        )

    # --- its page: progress, then the result ----------------------------------------------------
    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        preview = self._preview(request, object_id)
        policy = policy_with_parts(preview.policy_id)
        digest = rules_digest(policy_rules(policy=policy))
        result = preview.result
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": gettext("Preview of %(policy)s") % {"policy": _policy_name(policy)},
            "preview": preview,
            "policy": policy,
            "policy_name": _policy_name(policy),
            "percent": round(preview.progress * 100),
            "unfinished": preview.status in (PreviewStatus.QUEUED, PreviewStatus.RUNNING),
            "stale": preview.rules_digest != digest,
            "earlier": _earlier(policy.pk, digest=digest, but=preview.pk),
            "opts": self.model._meta,
        }
        if result is not None:
            context |= self._tables(result, policy)
        return TemplateResponse(request, "admin/shops/policypreview/detail.html", context)

    def _preview(self, request: HttpRequest, object_id: str) -> PolicyPreview:
        if not self.has_view_permission(request) or not str(object_id).isdigit():
            raise Http404
        preview = preview_of(int(object_id))
        if preview is None:
            raise Http404
        return preview

    def _tables(self, result: dict[str, Any], policy: Policy) -> dict[str, Any]:
        categories = _category_names(policy)
        stores = {
            code: (zh, en or zh)
            for code, zh, en in Store.objects.values_list("code", "name_zh", "name_en")
        }
        refused = result["refused"]
        return {
            "result": result,
            "by_code": _rows(refused["by_code"], lambda code: CODE_NAMES.get(code, code)),
            "by_category": _rows(refused["by_category"], lambda code: _localized(categories, code)),
            "by_store": _rows(refused["by_store"], lambda code: _localized(stores, code)),
            "examples": [
                {
                    **example,
                    "names": [CODE_NAMES.get(code, code) for code in example["codes"]],
                    "shown": yuan(example["amount"]),
                    "sold_at_local": example["sold_at"][:16].replace("T", " "),
                }
                for example in refused["examples"]
            ],
            "refused_share": _share(refused["amount"], result["amount"]),
            "amount_shown": yuan(result["amount"]),
            "refused_shown": yuan(refused["amount"]),
            "limit_shown": yuan(result["quota"]["annual_limit"]),
        }

    # --- the CSV --------------------------------------------------------------------------------
    def export_view(self, request: HttpRequest, preview_id: int) -> HttpResponse:
        preview = self._preview(request, str(preview_id))
        if preview.result is None:
            raise Http404
        policy = policy_with_parts(preview.policy_id)
        # The project's one writer for people's CSV (a cell like a formula is quoted), with a
        # BOM so that a spreadsheet opens UTF-8 (Chinese names) as such.
        header, *rows = _csv_rows(preview.result, policy)
        response = HttpResponse(
            "\ufeff" + csv_text(header, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="policy-preview-{preview.pk}-{preview.start}-{preview.end}.csv"'
        )
        return response


def _earlier(
    policy_id: int, *, but: int | None = None, digest: str | None = None
) -> list[dict[str, Any]]:
    """The version's previews but ``but``, newest first, as the list beside a preview shows
    them; ``digest``: the version's rules now (read when there are previews and it is not
    given)."""
    previews = [p for p in previews_of(policy_id) if p.pk != but]
    if previews and digest is None:
        digest = rules_digest(policy_rules(policy=policy_with_parts(policy_id)))
    return [
        {
            "preview": p,
            "stale": p.rules_digest != digest,
            "refused": (
                f"{p.result['refused']['sales']} / {p.result['sales']}" if p.result else "—"
            ),
            "amount": yuan(p.result["refused"]["amount"]) if p.result else "—",
        }
        for p in previews
    ]


def _policy_name(policy: Policy) -> str:
    name = in_language(zh=policy.name_zh, en=policy.name_en)
    return f"#{policy.pk} {name} ({policy.get_status_display()})"


def _category_names(policy: Policy) -> dict[str, tuple[str, str]]:
    """Category names by code: the previewed version's, else any version's (a category the
    draft removed is still named)."""
    names = category_names()
    names.update({c.code: (c.name_zh, c.name_en) for c in policy.categories.all()})
    return names


def yuan(amount: str) -> str:
    """An amount as a person reads it: 1,493,580.00."""
    return f"{Decimal(amount):,.2f}"


def _share(part: str, whole: str) -> str:
    total = float(whole)
    return f"{float(part) / total:.1%}" if total else "—"


def _csv_rows(result: dict[str, Any], policy: Policy) -> Iterator[list[Any]]:
    """The result as CSV rows: one per tally (what, code, name, sales, lines, amount), in the
    admin's language, then the examples."""
    categories = _category_names(policy)
    yield [
        gettext("table"), gettext("code"), gettext("name"),
        gettext("sales"), gettext("lines"), gettext("amount"),
    ]  # fmt: skip
    yield [gettext("judged"), "", "", result["sales"], result["lines"], result["amount"]]
    refused = result["refused"]
    yield [gettext("refused"), "", "", refused["sales"], refused["lines"], refused["amount"]]
    for row in _rows(refused["by_code"], lambda code: CODE_NAMES.get(code, code)):
        yield [gettext("by reason"), row["code"], str(row["name"]), row["sales"], row["lines"],
               row["amount"]]  # fmt: skip
    for row in _rows(refused["by_category"], lambda code: _localized(categories, code)):
        yield [gettext("by category"), row["code"], row["name"], row["sales"], row["lines"],
               row["amount"]]  # fmt: skip
    for row in _rows(refused["by_store"]):
        yield [gettext("by store"), row["code"], row["code"], row["sales"], row["lines"],
               row["amount"]]  # fmt: skip
    yield []
    yield [gettext("receipt number"), gettext("sold at"), gettext("store"), gettext("amount"),
           gettext("imported"), gettext("reasons")]  # fmt: skip
    for example in refused["examples"]:
        yield [
            example["receipt_no"], example["sold_at"], example["store"], example["amount"],
            gettext("imported") if example["imported"] else "",
            " ".join(example["codes"]),
        ]  # fmt: skip
