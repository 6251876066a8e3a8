"""Note in the shipped reference data what later-read facts confirm: serials 22, 24, 25 and 26
follow from the 2015 annex's order (``verified`` name → name_and_number), notes that called a
fact possible or assumed say what is now read (diapers are on the immediate-pickup list; the
2018 per-trip limit on household medical devices is gone; 46 and 47 were appended in that
order, their serials still unseen), and the policies' notes gain the outbound travellers' and
residents' terms.

The entries are those of quotas/data/confirmations.json that name this migration: each gives
a field's value as shipped (``from``) and as confirmed (``to``) for the versions it lists, and
its source. quotas/data/hainan-offshore.json is not edited: it stays identical to the team's
file (../shared/policy/), which this project only copies.

A value changes only where it still reads as shipped, so an administrator's own wording (on a
draft) is kept; a draft, a copy of the rules in force, takes every entry whose ``from`` it still
holds. Each changed row gets one history row saying why, as quotas.0014 wrote one for its
notes. Like quotas.0002, quotas.0010 and quotas.0014, this migration is a writer that bypasses
the guard on published policies (historical models have no guard), and it changes nothing but
``verified``, ``note`` and the policy's ``notes``.
"""

import json
from datetime import datetime
from pathlib import Path

from django.db import migrations
from django.utils import timezone

CONFIRMATIONS = Path(__file__).resolve().parent.parent / "data" / "confirmations.json"
MIGRATION = "quotas.0016"
# quotas.change_reasons.FACT_CONFIRMED, as stored (a migration keeps its own copy of the data).
REASON = '{"code":"fact_confirmed","migration":"quotas.0016"}'
FIELDS = {"category": ("verified", "note"), "policy": ("notes",)}


def entries():
    """This migration's entries, each checked for what it may change."""
    data = json.loads(CONFIRMATIONS.read_text(encoding="utf-8"))
    found = [entry for entry in data["confirmations"] if entry["migration"] == MIGRATION]
    for entry in found:
        allowed = FIELDS["policy" if entry["category"] is None else "category"]
        if not entry["change"] or set(entry["change"]) - set(allowed):
            raise ValueError(f"{MIGRATION} changes only {allowed}: {entry}")
    return data["programme"], found


def _history(model, obj, *, now):
    model.objects.create(
        history_date=now,
        history_type="~",
        history_change_reason=REASON,
        **{f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields},
    )


def _apply(obj, changes):
    """Set each field that still reads as shipped; the names of the fields set."""
    changed = []
    for field, change in changes:
        if getattr(obj, field) == change["from"]:
            setattr(obj, field, change["to"])
            changed.append(field)
    return changed


def confirm(apps, schema_editor):
    Programme = apps.get_model("quotas", "Programme")
    Policy = apps.get_model("quotas", "Policy")
    programme_code, found = entries()
    programme = Programme.objects.filter(code=programme_code).first()
    if programme is None:
        return
    now = timezone.now()
    for policy in Policy.objects.filter(programme=programme, status="published"):
        mine = [
            entry
            for entry in found
            if policy.effective_from in {datetime.fromisoformat(at) for at in entry["policies"]}
        ]
        if mine:
            _confirm(apps, policy, mine, now=now)
    for policy in Policy.objects.filter(programme=programme, status="draft"):
        _confirm(apps, policy, found, now=now)


def _confirm(apps, policy, found, *, now):
    Category = apps.get_model("quotas", "Category")
    changes = [
        (field, change)
        for entry in found
        if entry["category"] is None
        for field, change in entry["change"].items()
    ]
    if changed := _apply(policy, changes):
        policy.save(update_fields=changed)
        _history(apps.get_model("quotas", "HistoricalPolicy"), policy, now=now)
    by_code = {}
    for entry in found:
        if entry["category"] is not None:
            by_code.setdefault(entry["category"], []).extend(entry["change"].items())
    for category in Category.objects.filter(policy=policy, code__in=by_code).order_by("number"):
        if changed := _apply(category, by_code[category.code]):
            category.save(update_fields=changed)
            _history(apps.get_model("quotas", "HistoricalCategory"), category, now=now)


def restore(apps, schema_editor):
    """Put back the shipped values this migration confirmed: a field whose row before it held
    the shipped value and that still holds the confirmed one (nothing an administrator changed
    since), then remove its history rows."""
    _, found = entries()
    for model, history_model, target in (
        ("Policy", "HistoricalPolicy", lambda row: None),
        ("Category", "HistoricalCategory", lambda row: row.code),
    ):
        Model = apps.get_model("quotas", model)
        History = apps.get_model("quotas", history_model)
        for row in History.objects.filter(history_change_reason=REASON):
            obj = Model.objects.filter(pk=row.id).first()
            before = (
                History.objects.filter(id=row.id, history_id__lt=row.history_id)
                .order_by("-history_id")
                .first()
            )
            if obj is None:
                continue
            put_back = []
            for entry in found:
                if entry["category"] != target(row):
                    continue
                for field, change in entry["change"].items():
                    was = change["from"] if before is None else getattr(before, field)
                    if was == change["from"] and getattr(obj, field) == change["to"]:
                        setattr(obj, field, change["from"])
                        put_back.append(field)
            if put_back:
                obj.save(update_fields=put_back)
        History.objects.filter(history_change_reason=REASON).delete()


class Migration(migrations.Migration):
    dependencies = [("quotas", "0015_db_defaults")]

    operations = [migrations.RunPython(confirm, restore)]
