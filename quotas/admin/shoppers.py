"""Shoppers, read only: created by sales, known by ****last4 and HMACs. The search takes the
last four characters or the full document number, which is posted, hashed and never shown; a
shopper's page lists their bans."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .. import identity, selectors
from ..models import Ban, Shopper
from .bans import ban_state_text
from .shared import local

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class BanInline(admin.TabularInline):
    model = Ban
    fk_name = "shopper"
    extra = 0
    can_delete = False
    fields = ("reason", "source_receipt_no", "starts_at", "ends_at", "state", "lift_reason")
    readonly_fields = fields
    show_change_link = True

    @admin.display(description=_("state"))
    def state(self, ban: Ban) -> StrPromise | str:
        return ban_state_text(ban)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShopperSearchForm(forms.Form):
    q = forms.CharField(max_length=64, strip=True)


@admin.register(Shopper)
class ShopperAdmin(admin.ModelAdmin):
    """Read only: shoppers are created by sales; they are known by ****last4 and HMACs.

    The search takes the last four characters or the full document number. A full number is
    posted (never in a URL, so in no access log or browser history), hashed with the identity
    key for each document type and issuing country on file, and the match shown by its id: the
    number is stored nowhere and the page never shows it.
    """

    list_display = ("__str__", "document_country", "birth_year", "hainan_resident", "ban")
    list_filter = ("document_type", "hainan_resident")
    search_fields = ("document_last4",)  # what the search box offers; see get_search_results
    search_help_text = _(
        "The full document number, or its last four characters. The number is not kept."
    )
    fields = (
        "document_type",
        "document_country",
        "document_last4",
        "birth_year",
        "hainan_resident",
        "banned_from",
        "banned_until",
        "created_at",
    )
    readonly_fields = fields
    inlines = [BanInline]

    @admin.display(description=_("ban"))
    def ban(self, shopper: Shopper) -> str:
        now = timezone.now()
        if shopper.banned_at(now):
            return gettext("in force until %(end)s") % {"end": local(shopper.banned_until)}
        if shopper.banned_from is not None and shopper.banned_from > now:
            return gettext("from %(start)s until %(end)s") % {
                "start": local(shopper.banned_from),
                "end": local(shopper.banned_until),
            }
        return "—"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Shopper], search_term: str
    ) -> tuple[QuerySet[Shopper], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            number = identity.normalise_document_number(term)
        except identity.InvalidDocument:
            return queryset.none(), False
        if len(number) == 4:
            return queryset.filter(document_last4=number), False
        matches = selectors.shoppers_with_document(number=number)
        return queryset.filter(pk__in=matches.values("pk")), False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        term = request.GET.get("q", "")
        if _is_full_number(term):  # typed into a URL: answer by id, never echo the number
            return self._found(request, term)
        return super().changelist_view(request, extra_context)

    def search_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ShopperSearchForm(request.POST)
        term = form.cleaned_data["q"] if form.is_valid() else ""
        if _is_full_number(term):
            return self._found(request, term)
        changelist = reverse("admin:quotas_shopper_changelist")
        if term:
            changelist += "?" + urlencode({"q": term})
        return HttpResponseRedirect(changelist)

    def _found(self, request: HttpRequest, term: str) -> HttpResponse:
        results, _distinct = self.get_search_results(request, self.get_queryset(request), term)
        ids = sorted(results.values_list("pk", flat=True))
        masked = "****" + identity.last_four(term)
        changelist = reverse("admin:quotas_shopper_changelist")
        if not ids:
            self.message_user(
                request,
                gettext("No shopper has the document number %(masked)s.") % {"masked": masked},
                messages.WARNING,
            )
            return HttpResponseRedirect(changelist)
        self.message_user(
            request,
            ngettext(
                "%(count)d shopper has the document number %(masked)s.",
                "%(count)d shoppers have the document number %(masked)s.",
                len(ids),
            )
            % {"count": len(ids), "masked": masked},
        )
        return HttpResponseRedirect(
            f"{changelist}?{urlencode({'id__in': ','.join(map(str, ids))})}"
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "search/",
                self.admin_site.admin_view(require_POST(self.search_view)),
                name="quotas_shopper_search",
            ),
            *super().get_urls(),
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _is_full_number(term: str) -> bool:
    """More than the last four characters of a document number."""
    try:
        return len(identity.normalise_document_number(term)) > 4
    except identity.InvalidDocument:
        return False
