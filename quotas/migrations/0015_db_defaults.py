"""The database's own default for a quota account's ``used`` (0.00: a new account has used
nothing), so a COPY or bulk loader that leaves the column out still writes a valid account
(``default=`` is Django's and never reaches the table)."""

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("quotas", "0014_shipped_notes_corrected")]

    operations = [
        migrations.AlterField(
            model_name="quotaaccount",
            name="used",
            field=models.DecimalField(
                db_default=Decimal("0.00"), decimal_places=2, default=Decimal("0.00"), max_digits=14
            ),
        ),
    ]
