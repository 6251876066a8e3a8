"""The 12 licensed offshore duty-free stores (frozen copy of ../shared/policy/stores.json)."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "stores.json"


def load(apps, schema_editor):
    Store = apps.get_model("shops", "Store")
    for item in json.loads(DATA.read_text(encoding="utf-8"))["stores"]:
        Store.objects.get_or_create(
            code=item["code"],
            defaults={
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
                "operator": item.get("operator", ""),
                "city": item["city"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("shops", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
