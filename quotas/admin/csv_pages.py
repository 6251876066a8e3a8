"""The CSV pages of a policy's two lists, its categories and its immediate-pickup kinds: the
export (a download) and the import, which replaces a draft's whole list or changes nothing.
Each page takes the permission of the list it reads or writes, as that list's inline on the
policy's page does. The file formats are quotas.category_csv and quotas.kind_csv.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from dutyfree.errors import DomainError

from .. import category_csv, kind_csv, services
from ..models import Policy
from .categories import CategoryInline, ImmediatePickupKindInline
from .shared import PolicyPages, refusal, staff


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


class PolicyCsvPages(PolicyPages):
    """The CSV export and import pages of PolicyAdmin."""

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
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
