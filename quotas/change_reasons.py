"""Why a policy, a category or an immediate-pickup kind changed, as its history records it.

A reason is stored as data — a code and its values, as compact JSON in simple-history's
``history_change_reason`` (100 characters) — and rendered in the reader's language when a
history page shows it, so an English page never shows a Chinese sentence or the reverse.
A stored reason that is not one of these (written by hand, or by a tool that does not know
them) is shown as it was written.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy

from .rules import LOCAL_TZ

CLONED = "cloned"  # {"policy": the id of the policy cloned}
PUBLISHED = "published"  # {"effective_from": ISO 8601 with offset}
WITHDRAWN = "withdrawn"
CSV_IMPORT = "csv_import"
SHIPPED = "shipped"  # {"migration": "quotas.0002"}: the shipped policies and categories
# {"migration": "quotas.0010"}: the shipped immediate-pickup list (announcement 2023 No. 25),
# given to the shipped versions, and to drafts as the newest shipped version has it.
KINDS_SHIPPED = "kinds_shipped"
DRAFT_KINDS_SHIPPED = "draft_kinds_shipped"
# {"migration": "quotas.0014"}: a shipped note corrected (the immediate-pickup cap is stated).
NOTE_CORRECTED = "note_corrected"
# {"migration": "quotas.0016"}: what later-read facts confirm in the shipped data (a serial, a
# note, a policy's notes), as quotas/data/confirmations.json lists it with its sources.
FACT_CONFIRMED = "fact_confirmed"

_TEXTS = {
    CLONED: gettext_lazy("cloned from policy %(policy)s"),
    PUBLISHED: gettext_lazy("published, effective %(effective_from)s (Asia/Shanghai)"),
    WITHDRAWN: gettext_lazy("withdrawn before taking effect"),
    CSV_IMPORT: gettext_lazy("CSV import"),
    SHIPPED: gettext_lazy("shipped as data (migration %(migration)s)"),
    KINDS_SHIPPED: gettext_lazy(
        "the immediate-pickup list of announcement 2023 No. 25, in force since 2023-04-01 "
        "(migration %(migration)s)"
    ),
    NOTE_CORRECTED: gettext_lazy(
        "note corrected: the immediate-pickup cap is stated in announcement 2023 No. 25 "
        "(migration %(migration)s)"
    ),
    FACT_CONFIRMED: gettext_lazy(
        "confirmed by facts read since the data was shipped; the sources are in "
        "quotas/data/confirmations.json (migration %(migration)s)"
    ),
    DRAFT_KINDS_SHIPPED: gettext_lazy(
        "a draft gets the newest shipped immediate-pickup list (announcement 2023 No. 25; "
        "migration %(migration)s)"
    ),
}


def change_reason(code: str, **values: Any) -> str:
    """The stored form of a reason: ``{"code": …, **values}`` as compact JSON."""
    if code not in _TEXTS:
        raise ValueError(f"Unknown change reason {code!r}.")
    stored = json.dumps({"code": code, **values}, ensure_ascii=False, separators=(",", ":"))
    if len(stored) > 100:  # simple-history's column
        raise ValueError(f"A change reason holds 100 characters: {stored!r}.")
    return stored


def published(effective_from: datetime) -> str:
    return change_reason(PUBLISHED, effective_from=effective_from.astimezone(LOCAL_TZ).isoformat())


def change_reason_text(stored: str | None) -> str:
    """A stored reason in the active language (the page's)."""
    if not stored:
        return ""
    try:
        data = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(data, dict) or data.get("code") not in _TEXTS:
        return stored
    code = data["code"]
    values = {name: value for name, value in data.items() if name != "code"}
    try:
        if code == PUBLISHED:
            at = datetime.fromisoformat(str(values["effective_from"]))
            values["effective_from"] = f"{at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"
        return str(_TEXTS[code]) % values
    except (KeyError, TypeError, ValueError):  # values missing or malformed: as written
        return stored
