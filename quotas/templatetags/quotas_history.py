"""What the admin's history pages show of a record, in the page's language."""

from __future__ import annotations

from typing import Any

from django import template

from dutyfree.language import in_language

from ..change_reasons import change_reason_text

register = template.Library()


@register.filter
def change_reason(stored: str | None) -> str:
    """A record's stored reason (quotas.change_reasons) as a sentence in the page's language."""
    return change_reason_text(stored)


@register.filter
def named(record: Any) -> str:
    """A record's name (a historical policy, category or kind has both) in the page's language."""
    return in_language(zh=record.name_zh, en=record.name_en)
