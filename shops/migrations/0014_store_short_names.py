"""Short store names for charts and tables, where the full names cut to fit read alike ("cdf
Sanya International Duty Fr…", "CNSC Sanya International Duty…"); the licensed twelve get
theirs here. A store keeps any short name already given it.

The names are written here rather than in ``shops/data/stores.json``, which stays a frozen copy
of the team's list (``shared/policy/stores.json``).
"""

from django.db import migrations, models

# code → (Chinese short name, English short name): each distinct in its language.
SHORT_NAMES = {
    "SYA-HTB": ("三亚国际免税城", "cdf Sanya Intl."),
    "SYA-AIR": ("三亚凤凰机场免税店", "cdf Sanya Airport"),
    "SYA-HTDF": ("三亚海旅免税城", "Hainan Tourism Sanya"),
    "SYA-CNSC": ("中服三亚免税购物公园", "CNSC Sanya"),
    "HAK-IDFC": ("海口国际免税城", "cdf Haikou Intl."),
    "HAK-T1": ("美兰机场T1免税店", "Meilan Airport T1"),
    "HAK-T2": ("美兰机场T2免税店", "Meilan Airport T2"),
    "HAK-RIYUE": ("海口日月广场免税店", "Haikou Riyue"),
    "HAK-GDF": ("海控全球精品免税城", "GDF Plaza Haikou"),
    "HAK-MH": ("深免观澜湖免税城", "SZDF Mission Hills"),
    "QHI-BOAO": ("博鳌免税店", "Qionghai Boao"),
    "WNG-WFJ": ("王府井国际免税港", "Wangfujing Wanning"),
}


def fill(apps, schema_editor):
    Store = apps.get_model("shops", "Store")
    for code, (short_zh, short_en) in SHORT_NAMES.items():
        Store.objects.filter(code=code, short_name_zh="").update(short_name_zh=short_zh)
        Store.objects.filter(code=code, short_name_en="").update(short_name_en=short_en)


class Migration(migrations.Migration):
    dependencies = [("shops", "0013_idempotency_answers")]

    operations = [
        migrations.AddField(
            model_name="store",
            name="short_name_zh",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                max_length=32,
                verbose_name="Chinese short name",
            ),
        ),
        migrations.AddField(
            model_name="store",
            name="short_name_en",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                max_length=32,
                verbose_name="English short name",
            ),
        ),
        migrations.AddConstraint(
            model_name="store",
            constraint=models.UniqueConstraint(
                condition=~models.Q(short_name_zh=""),
                fields=("short_name_zh",),
                name="store_short_name_zh_unique",
                violation_error_message="Another store has this short name.",
            ),
        ),
        migrations.AddConstraint(
            model_name="store",
            constraint=models.UniqueConstraint(
                condition=~models.Q(short_name_en=""),
                fields=("short_name_en",),
                name="store_short_name_en_unique",
                violation_error_message="Another store has this short name.",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
