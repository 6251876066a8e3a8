"""Every write a till may retry keeps its first answer as the bytes sent (shops.idempotency).

A record's answer moves from jsonb (which reorders keys, so a replay was not the first answer's
bytes) to text; the records written before carry their jsonb's rendering, which is what their
replays sent until now. A sale used to be its own record: each sale made at a till gets a record
of its first answer, rebuilt from the columns that never change after the commit, so a retry of a
key used before this migration still gets its sale.
"""

from django.db import migrations, models


def answers_as_text(apps, schema_editor):
    from shops.idempotency import render

    records = apps.get_model("shops", "IdempotencyRecord")
    for record in records.objects.all().iterator():
        record.content = render(record.body).decode()
        record.save(update_fields=["content"])


def sales_recorded(apps, schema_editor):
    from shops.checkout import first_answer
    from shops.idempotency import render

    records = apps.get_model("shops", "IdempotencyRecord")
    sales = apps.get_model("shops", "Sale")
    made_at_a_till = (
        sales.objects.filter(imported=False, terminal__isnull=False)
        .exclude(idempotency_key="")
        .select_related("store", "terminal")
        .order_by("pk")
    )
    for sale in made_at_a_till.iterator(chunk_size=500):
        if records.objects.filter(terminal_id=sale.terminal_id, key=sale.idempotency_key).exists():
            continue
        records.objects.create(
            terminal_id=sale.terminal_id,
            key=sale.idempotency_key,
            fingerprint=sale.request_fingerprint,
            status_code=201,
            content=render(first_answer(sale)).decode(),
            location=f"/api/v1/sales/{sale.pk}",
            created_at=sale.sold_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("shops", "0009_immediate_pickup"),
        ("quotas", "0011_category_immediate_pickup_derived"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="content",
            field=models.TextField(
                default="", help_text="The answer's JSON, exactly as first sent."
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="location",
            field=models.CharField(blank=True, default="", max_length=200),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="created_at",
            field=models.DateTimeField(),
        ),
        migrations.RunPython(answers_as_text, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="idempotencyrecord", name="body"),
        migrations.RunPython(sales_recorded, migrations.RunPython.noop, elidable=True),
    ]
