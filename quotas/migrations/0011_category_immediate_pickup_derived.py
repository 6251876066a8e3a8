"""A category's ``immediate_pickup`` is derived from its policy's immediate-pickup kinds (a
category is on the list when one of its kinds is): the stored flag goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("quotas", "0010_immediate_pickup_kinds_shipped")]

    operations = [
        migrations.RemoveField(model_name="category", name="immediate_pickup"),
        migrations.RemoveField(model_name="historicalcategory", name="immediate_pickup"),
    ]
