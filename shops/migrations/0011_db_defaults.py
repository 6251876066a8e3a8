"""The database's own defaults for the columns of a sale and its lines that hold what a new
row holds before anything happens to it (no immediate-pickup kind, nothing returned).

``default=`` is Django's: a COPY or a bulk loader that leaves such a column out (the statistics
benchmark's COPY of sale lines leaves ``immediate_kind`` out) hit the NOT NULL constraint.
With ``db_default`` the table itself fills them in. Columns that describe the goods (pieces,
volume), the sale's status or whether it was imported keep no database default: a
loader must state them.
"""

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shops", "0010_field_names_translated")]

    operations = [
        migrations.AlterField(
            model_name="sale",
            name="returned_amount",
            field=models.DecimalField(
                db_default=Decimal("0.00"),
                decimal_places=2,
                default=Decimal("0.00"),
                max_digits=14,
                verbose_name="returned amount",
            ),
        ),
        migrations.AlterField(
            model_name="saleline",
            name="immediate_kind",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                max_length=64,
                verbose_name="immediate-pickup kind",
            ),
        ),
        migrations.AlterField(
            model_name="saleline",
            name="returned_quantity",
            field=models.PositiveIntegerField(
                db_default=0, default=0, verbose_name="returned quantity"
            ),
        ),
    ]
