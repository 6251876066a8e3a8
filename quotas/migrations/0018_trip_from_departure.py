"""Mark the trips that a departure recorded on its own (it matched no trip of the shopper's):
recorded again, such a departure decides again that it closed nothing, as it did the first
time and as it does for a document no shopper holds.

Earlier departures are marked by their shape: a trip a sale opened was scheduled after the
sale (a departed trip cannot be sold for), so it leaves after it was created; a departure's
own trip is scheduled at the departure, which had happened by the time it was recorded
(5 minutes of clock skew allowed), and departed then. (An imported legacy trip closed by a
departure at exactly its scheduled time has that shape too; a repeat of that departure then
answers that it closed nothing.)
"""

from django.db import migrations, models

MARK = """
UPDATE quotas_trip SET from_departure = TRUE
WHERE departed_at = departs_at AND departs_at <= created_at + interval '5 minutes'
"""


class Migration(migrations.Migration):
    dependencies = [("quotas", "0017_shopper_birth_year")]

    operations = [
        migrations.AddField(
            model_name="trip",
            name="from_departure",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.RunSQL(MARK, reverse_sql=migrations.RunSQL.noop),
    ]
