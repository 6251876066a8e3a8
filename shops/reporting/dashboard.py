"""The staff sales dashboard ``/dashboard/`` and its CSV export ``/dashboard/export.csv``.

The page is a shell: it reads its state (``?start=&end=&align=``) from the query string, so
every view has a URL, and the browser loads the figures from ``/api/v1/stats/sales`` (session
auth) and draws them with the vendored Apache ECharts. The export answers the same figures as
CSV, one row per group after the totals, for Excel (UTF-8 with a BOM).

Staff only: an anonymous visitor is sent to the admin login (with ``next``), a logged-in
non-staff user gets 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dutyfree.csv import csv_text
from dutyfree.errors import PROBLEM_CONTENT_TYPE, problem
from dutyfree.language import in_language
from quotas.choices import TravellerKind
from quotas.selectors import NoPolicyInForce, policy_in_force_cached
from shops.operators.scope import operator_of, visible_store_ids
from shops.reporting import stats

ALIGN_CHOICES = [
    ("calendar", _("Same calendar dates")),
    ("weekday", _("Same weekdays (364 days back)")),
    ("spring_festival", _("Spring Festival")),
]
# The page's names of a sale's traveller kinds (quotas.choices.SALE_TRAVELLER_KINDS).
TRAVELLER_KINDS = {
    TravellerKind.DOMESTIC: _("Domestic departure"),
    TravellerKind.OUTBOUND: _("Outbound departure"),
    TravellerKind.RESIDENT: _("Hainan residents"),
}
# The figures of a block, in the order the CSV lists them (人次 first, as customs publishes).
FIGURES = ("amount", "shopper_trips", "shoppers", "average_spend", "items", "sales")
CSV_COLUMNS = [
    "key",
    "name",  # a store's short name, as the charts show it
    "previous_key",
    *(
        column
        for figure in FIGURES
        for column in (figure, f"previous_{figure}", f"{figure}_yoy_pct")
    ),
]
# The CSV's header row, in the request's language (a person opens it in Excel; programs read
# the stats API). The key column names what the rows are.
CSV_KEY_HEADERS = {
    None: _("Row"),
    "day": _("Date"),
    "month": _("Month"),
    "store": _("Store code"),
    "category": _("Category code"),
    "traveller_kind": _("Traveller kind code"),
}
CSV_FIGURE_HEADERS = {
    "amount": _("Sales amount"),
    "shopper_trips": _("Shopper-trips (人次)"),
    "shoppers": _("Shoppers"),
    "average_spend": _("Spend per shopper-trip"),
    "items": _("Items"),
    "sales": _("Receipts"),
}
MONEY_FIGURES = frozenset({"amount", "average_spend"})


def csv_columns(group_by: str | None) -> list[str]:
    """CSV_COLUMNS, and by store the store's full name beside its short one."""
    if group_by == "store":
        return [*CSV_COLUMNS[:2], "full_name", *CSV_COLUMNS[2:]]
    return CSV_COLUMNS


def csv_header(group_by: str | None) -> list[str]:
    """The header row for :func:`csv_columns`, translated: "Sales amount (CNY)", "Sales amount
    last year (CNY)", "Sales amount YoY (%)" …"""
    header = [
        str(CSV_KEY_HEADERS[group_by]),
        gettext("Short name") if group_by == "store" else gettext("Name"),
        *([gettext("Full name")] if group_by == "store" else []),
        gettext("Compared with (last year)"),
    ]
    for figure in FIGURES:
        values = {"figure": str(CSV_FIGURE_HEADERS[figure])}
        if figure in MONEY_FIGURES:
            header += [
                gettext("%(figure)s (CNY)") % values,
                gettext("%(figure)s last year (CNY)") % values,
            ]
        else:
            header += [values["figure"], gettext("%(figure)s last year") % values]
        header.append(gettext("%(figure)s YoY (%%)") % values)
    return header


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → the login page with ``next``; logged in but not active staff → 403."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


# --- The page's state ---------------------------------------------------------------------------
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RangeForm(forms.Form):
    # <input type="date"> takes and sends ISO dates, whatever the language.
    start = forms.DateField(label=_("From"), input_formats=["%Y-%m-%d"], widget=DATE_INPUT)
    end = forms.DateField(label=_("To"), input_formats=["%Y-%m-%d"], widget=DATE_INPUT)
    align = forms.ChoiceField(
        label=_("Compare with last year by"), choices=ALIGN_CHOICES, initial="calendar"
    )

    def clean(self) -> dict[str, Any]:
        data = cast("dict[str, Any]", super().clean())  # Django returns cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end:
            try:
                stats.check_period(start, end)
            except stats.StatsError as exc:
                # The page says it for a person; the API's "end is before start." is terse.
                if exc.code == "end_before_start":
                    self.add_error("end", _("The end date is before the start date."))
                else:
                    self.add_error(exc.field, str(exc))
        return data


@dataclass(frozen=True)
class Preset:
    slug: str
    label: str
    start: date
    end: date
    align: str  # the comparison the period implies; a preset always sets it


def dashboard_presets(*, today: date) -> list[Preset]:
    """This month (to date) and year to date against the same calendar dates; the last 7 days
    against the same weekdays (so the chart compares Monday with Monday); the Spring Festival
    holiday (this year's once it has begun, else last year's) against last year's holiday.

    Each preset sets its own alignment, whatever the page showed before: a preset link is
    always the same view (year to date after the Spring Festival preset is not compared by
    the holiday)."""
    holiday = stats.spring_festival_holiday(today.year)
    if holiday.start > today:
        holiday = stats.spring_festival_holiday(today.year - 1)
    return [
        Preset("month", gettext("This month"), today.replace(day=1), today, "calendar"),
        Preset("week", gettext("Last 7 days"), today - timedelta(days=6), today, "weekday"),
        Preset(
            "spring_festival",
            gettext("Spring Festival %(year)s") % {"year": holiday.start.year},
            holiday.start,
            holiday.end,
            "spring_festival",
        ),
        Preset("year", gettext("Year to date"), today.replace(month=1, day=1), today, "calendar"),
    ]


# --- The headline --------------------------------------------------------------------------------
def headline_period(*, start: date, end: date, today: date) -> stats.Period | None:
    """The days the headline cards compare: the whole days of [start, end]. Today is not over
    (against a whole day a year earlier it would always fall), so the period ends yesterday at
    the latest; ``None`` when it holds no whole day yet (this month on its first day)."""
    last = min(end, today - timedelta(days=1))
    return stats.Period(start, last) if start <= last else None


# What the headline compares, by alignment: the whole period, or its whole days to yesterday.
HEADLINE_NOTES = {
    ("calendar", False): _("The whole period, compared with the same dates a year earlier."),
    ("calendar", True): _(
        "Whole days to yesterday (%(start)s – %(end)s), compared with the same dates a year "
        "earlier."
    ),
    ("weekday", False): _(
        "The whole period, compared with the same weekdays a year earlier (364 days back)."
    ),
    ("weekday", True): _(
        "Whole days to yesterday (%(start)s – %(end)s), compared with the same weekdays a year "
        "earlier (364 days back)."
    ),
    ("spring_festival", False): _(
        "The whole period, compared with the same days counted from last year's Spring Festival."
    ),
    ("spring_festival", True): _(
        "Whole days to yesterday (%(start)s – %(end)s), compared with the same days counted "
        "from last year's Spring Festival."
    ),
}


def headline_note(*, end: date, headline: stats.Period | None, align: str) -> str:
    """Beside the headline: which days it compares, and with what."""
    if headline is None:
        return gettext(
            "Today is not over: the headline compares whole days only, and this period has "
            "none yet."
        )
    cut = headline.end < end
    return str(HEADLINE_NOTES[align, cut]) % (headline.as_dict() if cut else {})


def _query(start: date, end: date, align: str, **extra: str) -> str:
    return urlencode({"start": start.isoformat(), "end": end.isoformat(), "align": align, **extra})


# --- Names for keys -----------------------------------------------------------------------------
def category_names(*, language: str, at: datetime) -> dict[str, str]:
    """Category code → name in the language, from the policy in force at ``at``."""
    try:
        rules = policy_in_force_cached(at=at).rules
    except NoPolicyInForce:
        return {}
    english = language.startswith("en")
    return {
        code: (category.name_en if english else category.name_zh)
        for code, category in rules.categories.items()
    }


def store_short_names(*, language: str) -> dict[str, str]:
    """Store code → the name charts, tables and exports show: its short name in the language."""
    return {code: short for code, (_, short) in stats.store_names(language=language).items()}


def group_names(group_by: str | None, *, language: str, at: datetime) -> dict[str, str]:
    if group_by == "store":
        return store_short_names(language=language)
    if group_by == "category":
        return category_names(language=language, at=at)
    if group_by == "traveller_kind":
        return {kind.value: str(label) for kind, label in TRAVELLER_KINDS.items()}
    return {}


# --- The page -----------------------------------------------------------------------------------
def _labels() -> dict[str, str]:
    """Every string the script shows, in the request's language."""
    return {
        "amount": gettext("Sales amount"),
        "shopper_trips": gettext("Shopper-trips (人次)"),
        "shoppers": gettext("Shoppers"),
        "items": gettext("Items"),
        "average_spend": gettext("Average spend per shopper-trip"),
        "previous": gettext("Last year"),
        "this_period": gettext("This period"),
        "yoy": gettext("YoY"),
        "share_of_amount": gettext("%(share)s of the sales amount"),
        "no_data": gettext("No sales in this period."),
        "load_failed": gettext("The figures could not be loaded (%(status)s). Try again later."),
        "as_of": gettext("Data as of %(time)s"),
        "never_refreshed": gettext("The figures have not been computed yet."),
        "compared": gettext("Compared with %(start)s – %(end)s"),
    }


@never_cache
@require_GET
@staff_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now)
    presets = dashboard_presets(today=today)
    month = presets[0]
    form = RangeForm(
        {"start": month.start, "end": month.end, "align": "calendar", **request.GET.dict()}
    )
    if not form.is_valid():
        return render(
            request,
            "shops/dashboard.html",
            {"form": form, "presets": _preset_links(presets, None)},
            status=400,
        )
    start, end, align = (form.cleaned_data[k] for k in ("start", "end", "align"))
    headline = headline_period(start=start, end=end, today=today)
    language = translation.get_language() or "zh-hans"
    # The charts' figures come from the stats API, which cuts them to the user's stores too.
    visible = visible_store_ids(request.user)
    stores = stats.store_names(language=language, stores=visible)
    operator = operator_of(request.user)
    exports = {
        group: reverse("dashboard-export") + "?" + _query(start, end, align, group_by=group)
        for group in ("day", "store", "category", "traveller_kind")
    }
    exports["totals"] = reverse("dashboard-export") + "?" + _query(start, end, align)
    config = {
        "api": reverse("api:stats-sales"),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "align": align,
        # The cards' period: null when it has no whole day yet.
        "headline": headline.as_dict() if headline else None,
        "language": language,
        "names": {
            "store": {code: short for code, (_, short) in stores.items()},
            "category": category_names(language=language, at=now),
            "traveller_kind": {kind.value: str(label) for kind, label in TRAVELLER_KINDS.items()},
        },
        # A tooltip names the store in full.
        "full_names": {"store": {code: name for code, (name, _) in stores.items()}},
        "labels": _labels(),
    }
    return render(
        request,
        "shops/dashboard.html",
        {
            "form": form,
            "presets": _preset_links(presets, (start, end, align)),
            "config": config,
            "headline_note": headline_note(end=end, headline=headline, align=align),
            "exports": exports,
            "operator": in_language(zh=operator.name_zh, en=operator.name_en) if operator else "",
            "operator_stores": len(visible or ()),
        },
    )


def _preset_links(
    presets: Iterable[Preset], current: tuple[date, date, str] | None
) -> list[dict[str, Any]]:
    """Links to the presets; the one the page shows (dates and alignment) is marked."""
    return [
        {
            "slug": preset.slug,
            "label": preset.label,
            "start": preset.start,
            "end": preset.end,
            "url": "?" + _query(preset.start, preset.end, preset.align),
            "active": current == (preset.start, preset.end, preset.align),
        }
        for preset in presets
    ]


# --- The export ---------------------------------------------------------------------------------
def sales_csv(
    answer: dict[str, Any], *, names: dict[str, str], full_names: dict[str, str] | None = None
) -> str:
    """The stats answer as CSV text: a header in the request's language, the totals, one row
    per group (by store: the short name, then the full name)."""
    group_by = answer.get("group_by")
    columns = csv_columns(group_by)
    full_names = full_names or {}
    previous = answer["previous"]
    totals = {
        "key": "total",
        "name": gettext("Total"),
        "previous_key": f"{previous['start']}/{previous['end']}",
        **answer["totals"],
    }
    rows = [totals]
    for group in answer.get("groups", []):
        key = str(group["key"])
        names_of = {
            "name": names.get(key, key) if names else "",
            "full_name": full_names.get(key, key),
        }
        rows.append({**group, **names_of})
    return csv_text(csv_header(group_by), ([row.get(column) for column in columns] for row in rows))


class ExportQuery(RangeForm):
    group_by = forms.ChoiceField(choices=[(g, g) for g in stats.GROUPS], required=False)
    align = forms.ChoiceField(choices=ALIGN_CHOICES, required=False)


def _bad_request(errors: dict[str, list[str]]) -> JsonResponse:
    """RFC 9457, like the API's malformed-input answers."""
    return JsonResponse(
        problem(
            status=400,
            code="invalid_input",
            title="Invalid input",
            detail=gettext("The export's parameters are not valid."),
            errors=errors,
        ),
        status=400,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


@never_cache
@require_GET
@staff_required
def dashboard_export(request: HttpRequest) -> HttpResponse:
    query = ExportQuery(request.GET)
    if not query.is_valid():
        errors = {field: list(messages) for field, messages in query.errors.items()}
        return _bad_request(errors)  # type: ignore[arg-type]  # an ErrorList yields str messages
    data = query.cleaned_data
    group_by, align = data["group_by"] or None, data["align"] or "calendar"
    stores = visible_store_ids(request.user)
    try:
        answer = stats.sales_stats(
            start=data["start"], end=data["end"], group_by=group_by, align=align, stores=stores
        )
    except stats.StatsError as exc:
        return _bad_request({"__all__": [str(exc)]})
    language = translation.get_language() or "zh-hans"
    names = group_names(group_by, language=language, at=timezone.now())
    full_names = (
        {
            code: name
            for code, (name, _) in stats.store_names(language=language, stores=stores).items()
        }
        if group_by == "store"
        else None
    )
    response = HttpResponse(
        "\ufeff" + sales_csv(answer, names=names, full_names=full_names),
        content_type="text/csv; charset=utf-8",
    )
    suffix = "" if align == "calendar" else f"-{align.replace('_', '-')}"
    filename = (
        f"dutyfree-sales-{data['start']:%Y-%m-%d}-{data['end']:%Y-%m-%d}-"
        f"{group_by or 'totals'}{suffix}.csv".replace("_", "-")
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
