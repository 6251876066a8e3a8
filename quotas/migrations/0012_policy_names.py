"""A policy has a name in both languages: the name it had is its English name (``name_en``), and
``name_zh`` is new. The two shipped versions get their Chinese names; a draft cloned from one
gets the draft's name of it; any other policy starts with its English name in both (an
administrator gives it a Chinese one on its page)."""

from django.db import migrations, models

SHIPPED_ZH = {
    "Offshore duty-free 2023-04 (45 categories)": "离岛免税政策 2023年4月版（45类商品）",
    "Offshore duty-free 2025-11 (47 categories)": "离岛免税政策 2025年11月版（47类商品）",
}
DRAFT_EN, DRAFT_ZH = " (draft)", "（草稿）"


def chinese_name(english):
    if english in SHIPPED_ZH:
        return SHIPPED_ZH[english]
    if english.endswith(DRAFT_EN) and english[: -len(DRAFT_EN)] in SHIPPED_ZH:
        return SHIPPED_ZH[english[: -len(DRAFT_EN)]] + DRAFT_ZH
    return english


def name_in_chinese(apps, schema_editor):
    """Every row, the history's too (its records show the name a version had)."""
    for model_name in ("Policy", "HistoricalPolicy"):
        model = apps.get_model("quotas", model_name)
        for english in model.objects.values_list("name_en", flat=True).distinct():
            # A queryset update: the model layer's guard on published policies is not in the
            # historical model this migration sees, and this is the one writer that may.
            model.objects.filter(name_en=english).update(name_zh=chinese_name(english))


class Migration(migrations.Migration):
    dependencies = [("quotas", "0011_category_immediate_pickup_derived")]

    operations = [
        migrations.RenameField(model_name="policy", old_name="name", new_name="name_en"),
        migrations.RenameField(model_name="historicalpolicy", old_name="name", new_name="name_en"),
        migrations.AlterField(
            model_name="policy",
            name="name_en",
            field=models.CharField(max_length=200, verbose_name="English name"),
        ),
        migrations.AlterField(
            model_name="historicalpolicy",
            name="name_en",
            field=models.CharField(max_length=200, verbose_name="English name"),
        ),
        migrations.AddField(
            model_name="policy",
            name="name_zh",
            field=models.CharField(default="", max_length=200, verbose_name="Chinese name"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalpolicy",
            name="name_zh",
            field=models.CharField(default="", max_length=200, verbose_name="Chinese name"),
            preserve_default=False,
        ),
        migrations.RunPython(name_in_chinese, migrations.RunPython.noop),
    ]
