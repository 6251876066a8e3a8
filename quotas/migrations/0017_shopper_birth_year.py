"""A shopper row keeps the year of birth, not the date: with the last four characters a birth
date gave back 12 of a resident identity number's 18 characters, check character included.
Nothing read the stored date back (the rules judge the date presented with each basket), so the
date is dropped, not sealed. Shopper has no history table (simple-history tracks policies only).

Going back cannot bring the dates back: a reversal writes 1 January of each year."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("quotas", "0016_facts_confirmed")]

    operations = [
        migrations.AddField(
            model_name="shopper",
            name="birth_year",
            field=models.PositiveSmallIntegerField(null=True, verbose_name="year of birth"),
        ),
        # Nullable on the way out, so that a reversal can add the column back before it fills it.
        migrations.AlterField(
            model_name="shopper",
            name="birth_date",
            field=models.DateField(null=True, verbose_name="birth date"),
        ),
        migrations.RunSQL(
            "UPDATE quotas_shopper SET birth_year = EXTRACT(YEAR FROM birth_date)",
            reverse_sql="UPDATE quotas_shopper SET birth_date = make_date(birth_year, 1, 1)",
        ),
        migrations.AlterField(
            model_name="shopper",
            name="birth_year",
            field=models.PositiveSmallIntegerField(verbose_name="year of birth"),
        ),
        migrations.RemoveField(model_name="shopper", name="birth_date"),
    ]
