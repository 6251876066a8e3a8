"""Amend the shipped reference data: both shipped policy versions get the immediate-pickup
list of announcement 2023 No. 25 (海关总署 财政部 税务总局公告2023年第25号, annex
"允许'即购即提'方式提货的离岛免税商品清单"), in force since 2023-04-01, from
quotas/data/hainan-offshore.json (``immediate_pickup_kinds``, a copy of
../shared/policy/hainan-offshore.json).

The policies stay published and unchanged in every rule they stated; the list is what they
lacked. Each policy's history records why, and so does each kind's first history row. Drafts
get the list of the newest shipped version, so that a draft is a copy of the rules in force.
Administrators still cannot change a published policy: this migration is the one writer that
bypasses the guard, as quotas.0002 did when it shipped the data.
"""

import json
from datetime import datetime
from pathlib import Path

from django.db import migrations
from django.utils import timezone

DATA = Path(__file__).resolve().parent.parent / "data" / "hainan-offshore.json"
# A history reason holds 100 characters: the announcement, and where the list came from.
REASON = "quotas.0010: 即购即提清单 of 海关总署 财政部 税务总局公告2023年第25号, in force since 2023-04-01"
DRAFT_REASON = "quotas.0010: a draft gets the newest shipped 即购即提清单 (公告2023年第25号)"
# The annex gives the Chinese unit word; the English one, and whether a set counts the
# pieces inside (cosmetics do, as for the 30-piece limit; every other kind counts units).
UNIT_EN = {
    "件": "piece",
    "瓶": "bottle",
    "副": "pair",
    "包": "pack",
    "罐（包）": "tin or pack",
    "个": "item",
    "件（套）": "item or set",
}
COUNTS_PIECES = {"cosmetics"}


def kind_rows(items):
    return [
        {
            "number": item["number"],
            "code": item["code"],
            "name_zh": item["name_zh"],
            "name_en": item["name_en"],
            "category_code": item["category"] or "",
            "unit_zh": item["unit_zh"],
            "unit_en": UNIT_EN[item["unit_zh"]],
            "counts_pieces": item["code"] in COUNTS_PIECES,
            "per_trip": item["per_trip"],
            "per_variety": item["per_variety"],
            "note": item.get("note", ""),
        }
        for item in items
    ]


def history(model, obj, *, kind, reason, now):
    model.objects.create(
        history_date=now,
        history_type=kind,
        history_change_reason=reason,
        **{f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields},
    )


def amend(apps, schema_editor):
    Programme = apps.get_model("quotas", "Programme")
    Policy = apps.get_model("quotas", "Policy")
    Kind = apps.get_model("quotas", "ImmediatePickupKind")
    HistoricalPolicy = apps.get_model("quotas", "HistoricalPolicy")
    HistoricalKind = apps.get_model("quotas", "HistoricalImmediatePickupKind")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    programme = Programme.objects.filter(code=data["programme"]).first()
    if programme is None:
        return
    now = timezone.now()
    newest = None
    for item in data["policies"]:
        effective_from = datetime.fromisoformat(item["effective_from"])
        rows = kind_rows(item["immediate_pickup_kinds"])
        newest = rows
        for policy in Policy.objects.filter(
            programme=programme, effective_from=effective_from, status="published"
        ):
            _give(policy, rows, Kind, HistoricalPolicy, HistoricalKind, reason=REASON, now=now)
    for policy in Policy.objects.filter(programme=programme, status="draft"):
        _give(policy, newest, Kind, HistoricalPolicy, HistoricalKind, reason=DRAFT_REASON, now=now)


def _give(policy, rows, Kind, HistoricalPolicy, HistoricalKind, *, reason, now):
    if Kind.objects.filter(policy=policy).exists():
        return
    for row in rows:
        kind = Kind.objects.create(policy=policy, **row)
        history(HistoricalKind, kind, kind="+", reason=reason, now=now)
    history(HistoricalPolicy, policy, kind="~", reason=reason, now=now)


def remove(apps, schema_editor):
    apps.get_model("quotas", "ImmediatePickupKind").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("quotas", "0009_immediate_pickup_kinds")]

    operations = [migrations.RunPython(amend, remove)]
