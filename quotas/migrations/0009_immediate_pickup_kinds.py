"""Each policy version carries its immediate-pickup list (即购即提, announcement 2023 No. 25):
the kinds of goods and their caps per departure. Filled by 0010, the category flag dropped
by 0011 (it is derived from the list)."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("quotas", "0008_model_names_translated"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalImmediatePickupKind",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "number",
                    models.PositiveSmallIntegerField(
                        help_text="Serial number in the annex (1–15).",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(999),
                        ],
                        verbose_name="number",
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        help_text="Stable identifier kept across policy versions; products carry it.",
                        max_length=64,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z][a-z0-9_]{0,63}$",
                                "小写字母开头，仅含小写字母、数字和下划线 / lowercase letters, digits and underscores, starting with a letter.",
                            )
                        ],
                        verbose_name="code",
                    ),
                ),
                ("name_zh", models.CharField(max_length=200, verbose_name="Chinese name")),
                ("name_en", models.CharField(max_length=300, verbose_name="English name")),
                (
                    "category_code",
                    models.CharField(
                        blank=True,
                        help_text="The code of the category that holds this kind; blank where the annex does not say.",
                        max_length=64,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z][a-z0-9_]{0,63}$",
                                "小写字母开头，仅含小写字母、数字和下划线 / lowercase letters, digits and underscores, starting with a letter.",
                            )
                        ],
                        verbose_name="category",
                    ),
                ),
                (
                    "unit_zh",
                    models.CharField(
                        help_text="件, 瓶, 副 …", max_length=16, verbose_name="Chinese unit"
                    ),
                ),
                (
                    "unit_en",
                    models.CharField(
                        help_text="piece, bottle, pair …",
                        max_length=32,
                        verbose_name="English unit",
                    ),
                ),
                (
                    "counts_pieces",
                    models.BooleanField(
                        default=False,
                        help_text="Count the pieces inside a set (as cosmetics do), not the units sold.",
                        verbose_name="counts pieces",
                    ),
                ),
                (
                    "per_trip",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(999),
                        ],
                        verbose_name="cap per departure",
                    ),
                ),
                (
                    "per_variety",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="At most this many of any single product (单一品种); blank: no such cap.",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(999),
                        ],
                        verbose_name="cap per variety",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "policy",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="quotas.policy",
                        verbose_name="policy",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical immediate-pickup kind",
                "verbose_name_plural": "historical immediate-pickup kinds",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="ImmediatePickupKind",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "number",
                    models.PositiveSmallIntegerField(
                        help_text="Serial number in the annex (1–15).",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(999),
                        ],
                        verbose_name="number",
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        help_text="Stable identifier kept across policy versions; products carry it.",
                        max_length=64,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z][a-z0-9_]{0,63}$",
                                "小写字母开头，仅含小写字母、数字和下划线 / lowercase letters, digits and underscores, starting with a letter.",
                            )
                        ],
                        verbose_name="code",
                    ),
                ),
                ("name_zh", models.CharField(max_length=200, verbose_name="Chinese name")),
                ("name_en", models.CharField(max_length=300, verbose_name="English name")),
                (
                    "category_code",
                    models.CharField(
                        blank=True,
                        help_text="The code of the category that holds this kind; blank where the annex does not say.",
                        max_length=64,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z][a-z0-9_]{0,63}$",
                                "小写字母开头，仅含小写字母、数字和下划线 / lowercase letters, digits and underscores, starting with a letter.",
                            )
                        ],
                        verbose_name="category",
                    ),
                ),
                (
                    "unit_zh",
                    models.CharField(
                        help_text="件, 瓶, 副 …", max_length=16, verbose_name="Chinese unit"
                    ),
                ),
                (
                    "unit_en",
                    models.CharField(
                        help_text="piece, bottle, pair …",
                        max_length=32,
                        verbose_name="English unit",
                    ),
                ),
                (
                    "counts_pieces",
                    models.BooleanField(
                        default=False,
                        help_text="Count the pieces inside a set (as cosmetics do), not the units sold.",
                        verbose_name="counts pieces",
                    ),
                ),
                (
                    "per_trip",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(999),
                        ],
                        verbose_name="cap per departure",
                    ),
                ),
                (
                    "per_variety",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="At most this many of any single product (单一品种); blank: no such cap.",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(999),
                        ],
                        verbose_name="cap per variety",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "policy",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="immediate_kinds",
                        to="quotas.policy",
                        verbose_name="policy",
                    ),
                ),
            ],
            options={
                "verbose_name": "immediate-pickup kind",
                "verbose_name_plural": "immediate-pickup kinds",
                "ordering": ["number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("policy", "code"),
                        name="immediate_kind_code_unique_in_policy",
                        violation_error_message="This kind is already listed in this policy.",
                    ),
                    models.UniqueConstraint(
                        fields=("policy", "number"),
                        name="immediate_kind_number_unique_in_policy",
                        violation_error_message="This number is already used in this policy.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("per_trip__gte", 1),
                            models.Q(
                                ("per_variety__isnull", True),
                                models.Q(
                                    ("per_variety__gte", 1),
                                    ("per_variety__lte", models.F("per_trip")),
                                ),
                                _connector="OR",
                            ),
                        ),
                        name="immediate_kind_caps",
                        violation_error_message="Caps are positive; a per-variety cap is at most the cap per departure.",
                    ),
                ],
            },
        ),
    ]
