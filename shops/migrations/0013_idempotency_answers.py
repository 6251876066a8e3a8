"""Every write a till may retry keeps its first answer as the bytes sent (shops.pos.idempotency).

A record's answer moves from jsonb (which reorders keys, so a replay was not the first answer's
bytes) to text; a return recorded before carries its jsonb's rendering, which is what its
replays sent until now (its first bytes were never kept). A sale used to be its own record: each
sale made at a till gets a record of its first answer, rendered from the columns that never change
after the commit by a copy of the renderer of that time, so a retry of a key used before this
migration gets the same bytes as the first answer.
"""

from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.db import migrations, models


SHANGHAI = ZoneInfo("Asia/Shanghai")


def answers_as_text(apps, schema_editor):
    from shops.pos.idempotency import render

    records = apps.get_model("shops", "IdempotencyRecord")
    for record in records.objects.all().iterator():
        record.content = render(record.body).decode()
        record.save(update_fields=["content"])


def _first_answer(sale, lines, categories, annual_limit):
    """A sale's 201 body exactly as the code before this migration rendered it (its own copy:
    the answer's shape may change later, the bytes a till was sent then may not)."""
    local = sale.sold_at.astimezone(SHANGHAI)

    def money(value):
        return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"

    def category(code):
        found = categories.get(code)
        if found is None:
            return {"code": code, "name": code, "name_en": code}
        return {"code": code, "name": found[0], "name_en": found[1]}

    body = {
        "id": sale.pk,
        "receipt_no": sale.receipt_no,
        "store": sale.store.code,
        "terminal": sale.terminal.name,
        "sold_at": local.isoformat(),
        "status": "completed",
        "pickup": sale.pickup,
        "total": money(sale.total),
        "lines": [
            {
                "id": line.pk,
                "sku": line.sku,
                "category": category(line.category_code),
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "amount": money(line.amount),
            }
            for line in lines
        ],
        "quota": {
            "year": local.year,
            "limit": money(annual_limit),
            "used": money(sale.quota_used_after),
            "remaining": money(annual_limit - sale.quota_used_after),
        },
    }
    if sale.immediate_limits is not None:
        keys = ("kind", "unit", "limit", "used", "requested", "remaining_after")
        body["immediate_limits"] = [
            {key: row[key] for key in keys} for row in sale.immediate_limits
        ]
    return body


def sales_recorded(apps, schema_editor):
    from shops.pos.idempotency import render

    records = apps.get_model("shops", "IdempotencyRecord")
    sales = apps.get_model("shops", "Sale")
    lines = apps.get_model("shops", "SaleLine")
    policies = apps.get_model("quotas", "Policy")
    categories = apps.get_model("quotas", "Category")
    made_at_a_till = (
        sales.objects.filter(imported=False, terminal__isnull=False)
        .exclude(idempotency_key="")
        .select_related("store", "terminal")
        .order_by("pk")
    )
    judged_by = {}
    for sale in made_at_a_till.iterator(chunk_size=500):
        if records.objects.filter(terminal_id=sale.terminal_id, key=sale.idempotency_key).exists():
            continue
        if sale.policy_id not in judged_by:
            judged_by[sale.policy_id] = (
                {
                    code: (name_zh, name_en)
                    for code, name_zh, name_en in categories.objects.filter(
                        policy_id=sale.policy_id
                    ).values_list("code", "name_zh", "name_en")
                },
                policies.objects.get(pk=sale.policy_id).annual_limit,
            )
        names, annual_limit = judged_by[sale.policy_id]
        body = _first_answer(
            sale, lines.objects.filter(sale_id=sale.pk).order_by("line_no"), names, annual_limit
        )
        records.objects.create(
            terminal_id=sale.terminal_id,
            key=sale.idempotency_key,
            fingerprint=sale.request_fingerprint,
            status_code=201,
            content=render(body).decode(),
            location=f"/api/v1/sales/{sale.pk}",
            created_at=sale.sold_at,
        )


class Migration(migrations.Migration):
    dependencies = [("shops", "0011_db_defaults"), ("quotas", "0015_db_defaults")]

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
        # The names a person reads in the admin.
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="content",
            field=models.TextField(
                help_text="The answer's JSON, exactly as first sent.", verbose_name="answer"
            ),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="created_at",
            field=models.DateTimeField(verbose_name="created at"),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="fingerprint",
            field=models.CharField(
                help_text="SHA-256 of method, path and body.",
                max_length=64,
                verbose_name="fingerprint",
            ),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="key",
            field=models.CharField(max_length=255, verbose_name="idempotency key"),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="location",
            field=models.CharField(blank=True, max_length=200, verbose_name="location"),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="status_code",
            field=models.PositiveSmallIntegerField(verbose_name="status code"),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="terminal",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="shops.terminal",
                verbose_name="terminal",
            ),
        ),
    ]
