"""POST data of admin pages as a browser would send them, for tests that submit a page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse

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
