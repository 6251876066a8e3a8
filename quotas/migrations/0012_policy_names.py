"""A policy has a name in both languages: the name it had is its English name (``name_en``), and
``name_zh`` is new. The two shipped versions get their Chinese names; a draft cloned from one
gets the draft's name of it; any other policy starts with its English name in both (an
administrator gives it a Chinese one on its page)."""

import django.core.validators
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
        # The labels of choices and a validator's message become English source strings,
        # read in the page's language (no change to any column).
        migrations.AlterField(
            model_name="ban",
            name="reason",
            field=models.CharField(
                choices=[
                    ("departure_deadline", "no departure within the deadline"),
                    ("customs_decision", "customs decision"),
                    ("resale", "resale of duty-free goods"),
                ],
                max_length=32,
                verbose_name="reason",
            ),
        ),
        migrations.AlterField(
            model_name="category",
            name="code",
            field=models.CharField(
                help_text="Stable identifier kept across policy versions (dashboards line years up).",
                max_length=64,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z][a-z0-9_]{0,63}$",
                        "lowercase letters, digits and underscores, starting with a letter.",
                    )
                ],
                verbose_name="code",
            ),
        ),
        migrations.AlterField(
            model_name="category",
            name="per_trip_limit_unit",
            field=models.CharField(
                blank=True,
                choices=[("piece", "pieces"), ("ml", "ml")],
                help_text="Blank: no per-trip limit.",
                max_length=8,
                verbose_name="per-trip limit: unit",
            ),
        ),
        migrations.AlterField(
            model_name="category",
            name="verified",
            field=models.CharField(
                choices=[
                    ("name_and_number", "name and number verified"),
                    ("name", "name verified, number not"),
                    ("no", "not verified"),
                ],
                default="no",
                help_text="What has been checked against the official annex.",
                max_length=16,
                verbose_name="verified",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcategory",
            name="code",
            field=models.CharField(
                help_text="Stable identifier kept across policy versions (dashboards line years up).",
                max_length=64,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z][a-z0-9_]{0,63}$",
                        "lowercase letters, digits and underscores, starting with a letter.",
                    )
                ],
                verbose_name="code",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcategory",
            name="per_trip_limit_unit",
            field=models.CharField(
                blank=True,
                choices=[("piece", "pieces"), ("ml", "ml")],
                help_text="Blank: no per-trip limit.",
                max_length=8,
                verbose_name="per-trip limit: unit",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcategory",
            name="verified",
            field=models.CharField(
                choices=[
                    ("name_and_number", "name and number verified"),
                    ("name", "name verified, number not"),
                    ("no", "not verified"),
                ],
                default="no",
                help_text="What has been checked against the official annex.",
                max_length=16,
                verbose_name="verified",
            ),
        ),
        migrations.AlterField(
            model_name="historicalimmediatepickupkind",
            name="category_code",
            field=models.CharField(
                blank=True,
                help_text="The code of the category that holds this kind; blank where the annex does not say.",
                max_length=64,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z][a-z0-9_]{0,63}$",
                        "lowercase letters, digits and underscores, starting with a letter.",
                    )
                ],
                verbose_name="category",
            ),
        ),
        migrations.AlterField(
            model_name="historicalimmediatepickupkind",
            name="code",
            field=models.CharField(
                help_text="Stable identifier kept across policy versions; products carry it.",
                max_length=64,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z][a-z0-9_]{0,63}$",
                        "lowercase letters, digits and underscores, starting with a letter.",
                    )
                ],
                verbose_name="code",
            ),
        ),
        migrations.AlterField(
            model_name="historicalpolicy",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "draft"),
                    ("published", "published"),
                    ("withdrawn", "withdrawn"),
                ],
                default="draft",
                editable=False,
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="immediatepickupkind",
            name="category_code",
            field=models.CharField(
                blank=True,
                help_text="The code of the category that holds this kind; blank where the annex does not say.",
                max_length=64,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z][a-z0-9_]{0,63}$",
                        "lowercase letters, digits and underscores, starting with a letter.",
                    )
                ],
                verbose_name="category",
            ),
        ),
        migrations.AlterField(
            model_name="immediatepickupkind",
            name="code",
            field=models.CharField(
                help_text="Stable identifier kept across policy versions; products carry it.",
                max_length=64,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z][a-z0-9_]{0,63}$",
                        "lowercase letters, digits and underscores, starting with a letter.",
                    )
                ],
                verbose_name="code",
            ),
        ),
        migrations.AlterField(
            model_name="policy",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "draft"),
                    ("published", "published"),
                    ("withdrawn", "withdrawn"),
                ],
                default="draft",
                editable=False,
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="programme",
            name="code",
            field=models.SlugField(
                max_length=64,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z][a-z0-9_]{0,63}$",
                        "lowercase letters, digits and underscores, starting with a letter.",
                    )
                ],
                verbose_name="code",
            ),
        ),
        migrations.AlterField(
            model_name="quotaentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("sale", "sale"),
                    ("return", "return"),
                    ("void", "void"),
                    ("import", "import"),
                ],
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="shopper",
            name="document_type",
            field=models.CharField(
                choices=[
                    ("resident_id", "resident identity card"),
                    ("passport", "passport"),
                    ("hkmo_permit", "Home Return Permit"),
                    ("tw_permit", "Taiwan Compatriot Permit"),
                    ("foreigner_id", "foreigner's permanent residence ID"),
                ],
                max_length=16,
                verbose_name="document type",
            ),
        ),
        migrations.AlterField(
            model_name="trip",
            name="kind",
            field=models.CharField(
                choices=[("domestic", "domestic"), ("outbound", "outbound")], max_length=8
            ),
        ),
        migrations.AlterField(
            model_name="trip",
            name="mode",
            field=models.CharField(
                choices=[("air", "air"), ("rail", "rail"), ("sea", "sea")], max_length=4
            ),
        ),
    ]
