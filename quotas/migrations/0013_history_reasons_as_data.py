"""History reasons become data (quotas.change_reasons): the English sentences written so far —
by the shipped data (quotas.0002, quotas.0010) and by clone, publish, withdraw and CSV import —
become a code and its values, which the history pages render in the reader's language. A
reason that is none of these stays as it was written (and is shown so)."""

import importlib
import json
import re
from datetime import datetime

from django.db import migrations

# The sentences the shipped data wrote, from the migrations that wrote them.
SHIPPED = importlib.import_module("quotas.migrations.0002_hainan_offshore_policies").REASON
_KINDS = importlib.import_module("quotas.migrations.0010_immediate_pickup_kinds_shipped")
KINDS_SHIPPED, DRAFT_KINDS_SHIPPED = _KINDS.REASON, _KINDS.DRAFT_REASON
FIXED = {
    SHIPPED: {"code": "shipped", "migration": "quotas.0002"},
    KINDS_SHIPPED: {"code": "kinds_shipped", "migration": "quotas.0010"},
    DRAFT_KINDS_SHIPPED: {"code": "draft_kinds_shipped", "migration": "quotas.0010"},
    "withdrawn before taking effect": {"code": "withdrawn"},
    "CSV import": {"code": "csv_import"},
}
CLONED = re.compile(r"^cloned from policy (\d+)$")
PUBLISHED = re.compile(r"^published, effective (\S+)$")
HISTORIES = ("HistoricalPolicy", "HistoricalCategory", "HistoricalImmediatePickupKind")


def stored(data):
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def as_data(sentence):
    if sentence in FIXED:
        return stored(FIXED[sentence])
    if match := CLONED.match(sentence):
        return stored({"code": "cloned", "policy": int(match[1])})
    if match := PUBLISHED.match(sentence):
        try:
            datetime.fromisoformat(match[1])
        except ValueError:
            return None
        return stored({"code": "published", "effective_from": match[1]})
    return None


def as_sentence(reason):
    try:
        data = json.loads(reason)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for sentence, fixed in FIXED.items():
        if data == fixed:
            return sentence
    if data.get("code") == "cloned":
        return f"cloned from policy {data['policy']}"
    if data.get("code") == "published":
        return f"published, effective {data['effective_from']}"
    return None


def convert(apps, change):
    for name in HISTORIES:
        model = apps.get_model("quotas", name)
        reasons = (
            model.objects.exclude(history_change_reason__isnull=True)
            .values_list("history_change_reason", flat=True)
            .distinct()
        )
        for reason in list(reasons):
            new = change(reason)
            if new is not None and new != reason:
                model.objects.filter(history_change_reason=reason).update(
                    history_change_reason=new
                )


def forwards(apps, schema_editor):
    convert(apps, as_data)


def backwards(apps, schema_editor):
    convert(apps, as_sentence)


class Migration(migrations.Migration):
    dependencies = [("quotas", "0012_policy_names")]

    operations = [migrations.RunPython(forwards, backwards)]
