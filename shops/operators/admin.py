"""What every admin page of an operator's rows shares: their rows only, another's a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext

from shops.operators.scope import scoped


class OperatorScoped(admin.ModelAdmin):
    """An admin whose rows belong to stores: an operator's people list and open only their own
    stores' rows; another operator's row answers 404, as a row that does not exist (never 403,
    never a redirect that would tell it apart). ``store_lookup`` leads from the row to its
    store (``"pk"`` for the stores themselves)."""

    store_lookup = "store"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(super().get_queryset(request), request.user, self.store_lookup)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404(gettext("No such object."))
        return found
