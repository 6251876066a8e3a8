"""POST data of admin pages as a browser would send them, for tests that submit a page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

Data = dict[str, Any]


def form_data(form: forms.BaseForm) -> Data:
    """POST data that submits an unbound (rendered) form with its initial values."""
    data: Data = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        if isinstance(field.widget, forms.MultiWidget):  # AdminSplitDateTime: key_0, key_1
            parts = field.widget.decompress(value)
            for suffix, part in zip(field.widget.widgets_names, parts, strict=True):
                data[key + suffix] = "" if part is None else str(part)
        elif isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            data[key] = [str(item) for item in value or []]
        elif isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
        else:
            data[key] = "" if value is None else str(value)
    return data


def page_form_data(page: HttpResponse) -> Data:
    """A rendered change (or add) page's form and its inlines, as the browser would post them."""
    context = page.context  # type: ignore[attr-defined]  # the test client's response
    data = form_data(context["adminform"].form)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        data |= form_data(formset.management_form)
        for form in formset.forms:
            data |= form_data(form)
    return data


def url(name: str, obj: Model | None = None) -> str:
    """The admin URL ``admin:<name>``, of ``obj`` if given (a change or delete page)."""
    return reverse(f"admin:{name}", args=[] if obj is None else [obj.pk])


def change_form_data(client: Client, policy: Model) -> Data:
    """The change page's policy form and its category inline, as the browser would post it."""
    response = client.get(url("quotas_policy_change", policy))
    assert response.status_code == 200
    return page_form_data(response)


def row(data: Data, code: str) -> str:
    """The inline prefix (``categories-N-``) of the row holding ``code``."""
    for key, value in data.items():
        if key.startswith("categories-") and key.endswith("-code") and value == code:
            return key.removesuffix("code")
    raise KeyError(code)
