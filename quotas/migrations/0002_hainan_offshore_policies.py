"""Ship the two published Hainan offshore policy versions (2023-04-01: 45 categories, age 16;
2025-11-01: 47 categories, age 18, outbound travellers) from quotas/data/hainan-offshore.json.

The file is a frozen copy of ../shared/policy/hainan-offshore.json: corrections are made by
administrators as new policy versions, never by editing the file.
"""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.db import migrations
from django.utils import timezone

REASON = "shipped as data (migration quotas.0002)"


def record_history(model, objects):
    """The history tables start with the shipped rows, so the admin's history is complete."""
    now = timezone.now()
    model.objects.bulk_create(
        model(
            history_date=now,
            history_type="+",
            history_change_reason=REASON,
            **{f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields},
        )
        for obj in objects
    )


DATA = Path(__file__).resolve().parent.parent / "data" / "hainan-offshore.json"


def load(apps, schema_editor):
    Programme = apps.get_model("quotas", "Programme")
    Policy = apps.get_model("quotas", "Policy")
    Category = apps.get_model("quotas", "Category")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    programme, _ = Programme.objects.get_or_create(
        code=data["programme"],
        defaults={
            "name_zh": "海南离岛免税",
            "name_en": "Hainan offshore duty-free",
            "currency": "CNY",
        },
    )
    for item in data["policies"]:
        effective_from = datetime.fromisoformat(item["effective_from"])
        if Policy.objects.filter(programme=programme, effective_from=effective_from).exists():
            continue
        kinds = list(item["traveller_kinds"])
        if item.get("resident_outbound_record_immediate_pickup"):
            kinds.append("resident_outbound_record")
        policy = Policy.objects.create(
            programme=programme,
            name=item["name"],
            status="published",
            effective_from=effective_from,
            published_at=effective_from,
            annual_limit=Decimal(item["annual_limit"]),
            min_age=item["min_age"],
            traveller_kinds=kinds,
            pickup_modes=list(item["pickup_modes"]),
            immediate_pickup_max_unit_price=Decimal(
                item["immediate_pickup_max_unit_price_exclusive"]
            ),
            guarantee_pickup_min_unit_price=Decimal(item["guarantee_pickup_min_unit_price"]),
            departure_deadline_days=item["departure_deadline_days_for_immediate_and_guarantee"],
            ban_years=item["ban_years"],
            return_pickup_within_months=item["return_to_island_pickup_within_months"],
            notes=item.get("notes", ""),
        )
        record_history(apps.get_model("quotas", "HistoricalPolicy"), [policy])
        categories = Category.objects.bulk_create(
            Category(
                policy=policy,
                number=c["number"],
                code=c["code"],
                name_zh=c["name_zh"],
                name_en=c["name_en"],
                per_trip_limit_unit=(c["per_trip_limit"] or {}).get("unit", ""),
                per_trip_limit_value=(c["per_trip_limit"] or {}).get("value"),
                immediate_pickup=c["immediate_pickup"],
                verified=c["verified"],
                added=c.get("added", ""),
                note=c.get("note", ""),
            )
            for c in item["categories"]
        )
        if categories and categories[0].pk is None:  # a backend without RETURNING
            categories = list(Category.objects.filter(policy=policy))
        record_history(apps.get_model("quotas", "HistoricalCategory"), categories)


class Migration(migrations.Migration):
    dependencies = [("quotas", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
