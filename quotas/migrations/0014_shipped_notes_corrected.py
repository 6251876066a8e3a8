"""Correct the shipped reference data: the notes of perfume and cosmetics in both shipped
policy versions said the immediate-pickup cap was unknown ("1–5 range") while the same
policies' immediate-pickup lists (quotas.0010) state it: perfume 1 bottle, cosmetics 5 pieces
and 1 of any single variety (announcement 2023 No. 25). The corrected notes are those of
quotas/data/hainan-offshore.json (a copy of ../shared/policy/hainan-offshore.json).

Only a note that still reads as shipped is changed, so an administrator's own wording (on a
draft) is kept. Each corrected category gets a history row saying why, as quotas.0010 wrote
one for the list. Administrators cannot change a published policy; like quotas.0002 and
quotas.0010, this migration is a writer that bypasses the guard (historical models have no
guard), and it changes nothing but the notes.
"""

import json
from datetime import datetime
from pathlib import Path

from django.db import migrations
from django.utils import timezone

DATA = Path(__file__).resolve().parent.parent / "data" / "hainan-offshore.json"
# A history reason holds 100 characters: what changed, and where the correct figure is from.
# quotas.change_reasons.NOTE_CORRECTED, as stored (a migration keeps its own copy of the data).
REASON = '{"code":"note_corrected","migration":"quotas.0014"}'
# The notes as quotas.0002 shipped them, by category code: only these are corrected.
SHIPPED = {
    "perfume": "On 即购即提 list (H). A separate 即购即提 per-trip cap (1-5 pcs range) exists; value "
    "unknown.",
    "cosmetics": "Sets counted by the actual number of items inside the package. 即购即提 cap "
    "unknown (1-5 range).",
}


def _notes(data):
    """effective_from → {category code: the note the data file now gives}."""
    return {
        datetime.fromisoformat(policy["effective_from"]): {
            category["code"]: category["note"]
            for category in policy["categories"]
            if category["code"] in SHIPPED
        }
        for policy in data["policies"]
    }


def correct(apps, schema_editor):
    Programme = apps.get_model("quotas", "Programme")
    Policy = apps.get_model("quotas", "Policy")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    programme = Programme.objects.filter(code=data["programme"]).first()
    if programme is None:
        return
    notes = _notes(data)
    now = timezone.now()
    for policy in Policy.objects.filter(
        programme=programme, effective_from__in=list(notes), status="published"
    ):
        _correct(apps, policy, notes[policy.effective_from], now=now)
    # A draft is a copy of the rules in force: it gets the newest shipped notes, as quotas.0010
    # gave drafts the newest list.
    for policy in Policy.objects.filter(programme=programme, status="draft"):
        _correct(apps, policy, notes[max(notes)], now=now)


def _correct(apps, policy, notes, *, now):
    Category = apps.get_model("quotas", "Category")
    HistoricalCategory = apps.get_model("quotas", "HistoricalCategory")
    for category in Category.objects.filter(policy=policy, code__in=SHIPPED):
        if category.note != SHIPPED[category.code]:
            continue
        category.note = notes[category.code]
        category.save(update_fields=["note"])
        HistoricalCategory.objects.create(
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
            **{f.attname: getattr(category, f.attname) for f in category._meta.concrete_fields},
        )


def restore(apps, schema_editor):
    Category = apps.get_model("quotas", "Category")
    HistoricalCategory = apps.get_model("quotas", "HistoricalCategory")
    for history in HistoricalCategory.objects.filter(history_change_reason=REASON):
        Category.objects.filter(pk=history.id, note=history.note).update(note=SHIPPED[history.code])
    HistoricalCategory.objects.filter(history_change_reason=REASON).delete()


class Migration(migrations.Migration):
    dependencies = [("quotas", "0013_history_reasons_as_data")]

    operations = [migrations.RunPython(correct, restore)]
