"""Room for HOT updates on quota accounts (PostgreSQL).

Every sale, return and void updates its shopper's account row. With the default fillfactor
(100) a new row version rarely fits on its page, so each update adds index entries and a busy
account's lookups walk ever more dead versions. Half-empty pages keep the updates HOT.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE quotas_quotaaccount SET (fillfactor = 50)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE quotas_quotaaccount RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("quotas", "0003_shoppers_accounts_trips")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
