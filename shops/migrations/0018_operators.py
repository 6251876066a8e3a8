"""Operators as data: the seven companies that run the licensed stores, each store linked to
its operator (the text it carried before becomes the link), and the staff users who work for
one (shops.models.OperatorStaff)."""

import re

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

# The operators of the licensed stores (shops/data/stores.json names them by the text below).
OPERATORS = [
    # code, Chinese name, English name, the text a store carried
    ("CDFG", "中国中免", "China Duty Free Group", "CDFG"),
    ("HNDF", "海南免税", "Hainan Duty Free", "Hainan Duty Free"),
    ("HTI", "海南旅投", "Hainan Tourism Investment", "Hainan Tourism Investment"),
    ("CNSC", "中服免税", "China National Service", "China National Service"),
    ("HDH", "海南控股", "Hainan Development Holdings", "Hainan Development Holdings"),
    ("SZDF", "深圳免税", "Shenzhen Duty Free", "Shenzhen Duty Free"),
    ("WFJ", "王府井", "Wangfujing Group", "Wangfujing Group"),
]


def _code_for(text: str, taken: set[str]) -> str:
    """A code for an operator known only by a store's text: its upper-case letters and digits,
    made unique with a number."""
    base = (re.sub(r"[^A-Z0-9]", "", text.upper()) or "OP")[:12]
    base = base if base[0].isalpha() else f"OP{base}"[:12]
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def link_stores(apps, schema_editor):
    Operator = apps.get_model("shops", "Operator")
    Store = apps.get_model("shops", "Store")
    by_text = {}
    for code, name_zh, name_en, text in OPERATORS:
        by_text[text.casefold()], _ = Operator.objects.get_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en}
        )
    taken = set(Operator.objects.values_list("code", flat=True))
    for store in Store.objects.exclude(operator_name=""):
        key = store.operator_name.strip().casefold()
        if key not in by_text:  # a store added with an operator of its own
            code = _code_for(store.operator_name, taken)
            taken.add(code)
            name = store.operator_name.strip()[:200]
            by_text[key] = Operator.objects.create(code=code, name_zh=name, name_en=name)
        store.operator = by_text[key]
        store.save(update_fields=["operator"])


def unlink_stores(apps, schema_editor):
    Store = apps.get_model("shops", "Store")
    for store in Store.objects.select_related("operator").exclude(operator=None):
        texts = {code: text for code, _, _, text in OPERATORS}
        store.operator_name = texts.get(store.operator.code, store.operator.name_en)
        store.save(update_fields=["operator_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("shops", "0017_sale_path_fewer_indexes_checks_and_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="Operator",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        help_text="Upper-case letters, digits and hyphens, e.g. CDFG.",
                        max_length=16,
                        unique=True,
                        validators=[
                            django.core.validators.RegexValidator("^[A-Z][A-Z0-9\\-]{1,15}$")
                        ],
                        verbose_name="code",
                    ),
                ),
                ("name_zh", models.CharField(max_length=200, verbose_name="Chinese name")),
                ("name_en", models.CharField(max_length=200, verbose_name="English name")),
            ],
            options={
                "verbose_name": "operator",
                "verbose_name_plural": "operators",
                "ordering": ("code",),
            },
        ),
        migrations.RenameField(model_name="store", old_name="operator", new_name="operator_name"),
        migrations.AddField(
            model_name="store",
            name="operator",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stores",
                to="shops.operator",
                verbose_name="operator",
            ),
        ),
        migrations.RunPython(link_stores, unlink_stores),
    ]
