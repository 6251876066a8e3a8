"""Operators, second step: the store's old text goes (its own migration: PostgreSQL will not
alter a table whose rows the same transaction changed with foreign-key checks pending), and
staff users may belong to an operator (shops.models.OperatorStaff)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shops", "0018_operators"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(model_name="store", name="operator_name"),
        migrations.CreateModel(
            name="OperatorStaff",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "operator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="staff",
                        to="shops.operator",
                        verbose_name="operator",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="operator_staff",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "operator's staff member",
                "verbose_name_plural": "operator's staff",
            },
        ),
    ]
