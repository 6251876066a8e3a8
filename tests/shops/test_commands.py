"""Management commands: create_terminal, create_store, import_products, seed_demo.

Each test runs the command as an operator would (``call_command``) and checks what it wrote to
the database and what it printed.
"""

from __future__ import annotations

import io
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from quotas.models import Policy
from shops.models import Product, Sale, Store, Terminal

pytestmark = pytest.mark.django_db

HEADER = "sku,name_zh,name_en,brand,category_code,retail_price,volume_ml,pieces"
KEY_RE = re.compile(r"^df_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}$")


def run(*args: str) -> tuple[str, str]:
    """Run a command that must succeed: (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fail(*args: str) -> tuple[str, str, str]:
    """Run a command that must fail: (CommandError message, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=out, stderr=err)
    return str(excinfo.value), out.getvalue(), err.getvalue()


def quote_status(client: Client, key: str) -> int:
    response = client.post(
        "/api/v1/quotes",
        data={},
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )
    return response.status_code


def csv_file(tmp_path: Path, *rows: str, name: str = "products.csv", header: str = HEADER) -> str:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def products() -> dict[str, tuple]:
    return {
        p.sku: (
            p.name_zh,
            p.name_en,
            p.brand,
            p.category_code,
            p.retail_price,
            p.volume_ml,
            p.pieces,
        )
        for p in Product.objects.all()
    }


# --- create_terminal -------------------------------------------------------------------------


def test_create_terminal_prints_key_alone_on_last_line_and_stores_only_its_hash() -> None:
    out, err = run("create_terminal", "--store", "SYA-HTB", "--name", "t1")

    key = out.splitlines()[-1]
    assert KEY_RE.match(key), out
    assert out.endswith(key + "\n")
    terminal = Terminal.objects.get()
    assert (terminal.store.code, terminal.name) == ("SYA-HTB", "t1")
    assert terminal.revoked_at is None
    _, prefix, secret = key.split("_", 2)
    assert terminal.key_prefix == prefix
    assert terminal.key_hash == Terminal.hash_secret(secret)
    for field in Terminal._meta.concrete_fields:
        value = str(getattr(terminal, field.attname))
        assert key not in value, field.name
        assert secret not in value, field.name
    assert key not in err
    assert "SYA-HTB/t1" in err


def test_create_terminal_key_authenticates(client: Client) -> None:
    out, _ = run("create_terminal", "--store", "sya-htb", "--name", "till 2")
    key = out.splitlines()[-1]

    assert quote_status(client, key) != 401
    assert quote_status(client, key) == 400  # authenticated; the empty basket is refused
    prefix = key.split("_", 2)[1]
    assert quote_status(client, f"df_{prefix}_wrong-secret") == 401
    assert Terminal.objects.get().name == "till 2"


def test_create_terminal_training_makes_a_training_terminal() -> None:
    out, err = run("create_terminal", "--store", "SYA-HTB", "--name", "practice", "--training")

    assert KEY_RE.match(out.splitlines()[-1]), out
    assert Terminal.objects.get().training is True
    assert "Training terminal" in err
    run("create_terminal", "--store", "SYA-HTB", "--name", "till")
    assert Terminal.objects.get(name="till").training is False


@pytest.mark.parametrize(
    ("store", "name", "message"),
    [
        ("NOPE-1", "t2", "No store 'NOPE-1'"),
        ("SYA-HTB", "", "1 to 100 characters"),
        ("SYA-HTB", "   ", "1 to 100 characters"),
        ("SYA-HTB", "x" * 101, "1 to 100 characters"),
        ("SYA-HTB", "t1", "already has a terminal named 't1'"),
        ("SYA-HTB", " t1 ", "already has a terminal named 't1'"),
    ],
)
def test_create_terminal_refuses_bad_input(store: str, name: str, message: str) -> None:
    run("create_terminal", "--store", "SYA-HTB", "--name", "t1")
    before = list(Terminal.objects.values_list("pk", "key_hash"))

    error, out, _ = fail("create_terminal", "--store", store, "--name", name)

    assert message in error
    assert not KEY_RE.search(out)
    assert list(Terminal.objects.values_list("pk", "key_hash")) == before


def test_create_terminal_unknown_store_lists_the_stores() -> None:
    error, _, _ = fail("create_terminal", "--store", "NO-SUCH", "--name", "t1")
    assert "SYA-HTB" in error
    assert not Terminal.objects.exists()


# --- create_store ----------------------------------------------------------------------------


def test_create_store_creates_it() -> None:
    count = Store.objects.count()

    out, _ = run("create_store", "HAK-NEW", "--name", "新店", "--city", "Haikou")

    store = Store.objects.get(code="HAK-NEW")
    assert (store.name_zh, store.name_en, store.city, store.active) == (
        "新店",
        "HAK-NEW",
        "Haikou",
        True,
    )
    assert Store.objects.count() == count + 1
    assert "HAK-NEW" in out


def test_create_store_then_a_terminal_in_it() -> None:
    run("create_store", "hak-new", "--name", "新店", "--city", "Haikou", "--name-en", "New")
    assert Store.objects.get(code="HAK-NEW").name_en == "New"

    out, _ = run("create_terminal", "--store", "HAK-NEW", "--name", "t1")

    assert Terminal.objects.get().store.code == "HAK-NEW"
    assert KEY_RE.match(out.splitlines()[-1])


def test_create_store_with_short_names() -> None:
    run(
        "create_store", "HAK-NEW", "--name", "海口新免税城", "--name-en", "Haikou New Duty Free",
        "--city", "Haikou", "--short-name-zh", "海口新城", "--short-name-en", "Haikou New",
    )  # fmt: skip

    store = Store.objects.get(code="HAK-NEW")
    assert (store.short_name_zh, store.short_name_en) == ("海口新城", "Haikou New")
    assert store.names("en") == ("Haikou New Duty Free", "Haikou New")
    assert store.names("zh-hans") == ("海口新免税城", "海口新城")


def test_create_store_without_short_names_shows_the_full_names() -> None:
    run("create_store", "HAK-NEW", "--name", "新店", "--name-en", "New", "--city", "Haikou")

    store = Store.objects.get(code="HAK-NEW")
    assert (store.short_name_zh, store.short_name_en) == ("", "")
    assert store.names("en") == ("New", "New")
    assert store.names("zh-hans") == ("新店", "新店")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("HAK-NEW", "--name", "重复", "--city", "Haikou"), "code:"),
        (
            ("HAK-TWO", "--name", "店", "--city", "Haikou", "--short-name-en", "cdf Sanya Intl."),
            "已有门店使用此简称。",  # the command speaks the default language
        ),
        (
            ("HAK-TWO", "--name", "店", "--city", "Haikou", "--short-name-zh", "三亚国际免税城"),
            "已有门店使用此简称。",  # the command speaks the default language
        ),
        (
            ("HAK-TWO", "--name", "店", "--city", "Haikou", "--short-name-en", "x" * 33),
            "short_name_en:",
        ),
        (("hak-new", "--name", "重复", "--city", "Haikou"), "code:"),
        (("SYA-HTB", "--name", "重复", "--city", "Sanya"), "code:"),
        (("bad code!", "--name", "坏", "--city", "Haikou"), "code:"),
        (("HAK-EMPTY", "--name", "", "--city", "Haikou"), "name_zh:"),
        (("HAK-NOCITY", "--name", "店", "--city", ""), "city:"),
    ],
)
def test_create_store_refuses_bad_input(args: tuple[str, ...], message: str) -> None:
    run("create_store", "HAK-NEW", "--name", "新店", "--city", "Haikou")
    before = list(Store.objects.order_by("pk").values_list("pk", "code", "name_zh", "city"))

    error, _, _ = fail("create_store", *args)

    assert message in error
    assert list(Store.objects.order_by("pk").values_list("pk", "code", "name_zh", "city")) == (
        before
    )


# --- import_products -------------------------------------------------------------------------

GOOD = [
    "LIP-1,口红,Lipstick,Dior,cosmetics,320.00,,",
    "WINE-1,葡萄酒,Wine 750 ml,Penfolds,alcohol,1200,750,1",
    "SET-5,护肤套装,Skincare set,SK-II,cosmetics,1600.5,,5",
]


def test_import_products_creates_good_rows(tmp_path: Path) -> None:
    out, _ = run("import_products", csv_file(tmp_path, *GOOD))

    assert "3 created, 0 updated, 0 rows rejected" in out
    assert products() == {
        "LIP-1": ("口红", "Lipstick", "Dior", "cosmetics", Decimal("320.00"), None, 1),
        "WINE-1": ("葡萄酒", "Wine 750 ml", "Penfolds", "alcohol", Decimal("1200.00"), 750, 1),
        "SET-5": ("护肤套装", "Skincare set", "SK-II", "cosmetics", Decimal("1600.50"), None, 5),
    }


def test_import_products_second_import_upserts_by_sku(tmp_path: Path) -> None:
    run("import_products", csv_file(tmp_path, *GOOD, name="a.csv"))
    ids = dict(Product.objects.values_list("sku", "pk"))

    out, _ = run(
        "import_products",
        csv_file(
            tmp_path,
            "LIP-1,口红,Lipstick,Dior,cosmetics,330.00,,",  # price changed
            GOOD[1],  # unchanged
            "SET-5,护肤套装,Skincare set,SK-II,cosmetics,1600.50,,5",  # same price, other spelling
            "PEN-1,钢笔,Fountain pen,Montblanc,pens,4500,,",  # new
            name="b.csv",
        ),
    )

    assert "1 created, 1 updated, 0 rows rejected" in out
    assert Product.objects.count() == 4
    assert Product.objects.get(sku="LIP-1").retail_price == Decimal("330.00")
    assert Product.objects.get(sku="WINE-1").retail_price == Decimal("1200.00")
    assert Product.objects.get(sku="PEN-1").category_code == "pens"
    for sku, pk in ids.items():
        assert Product.objects.get(sku=sku).pk == pk  # updated in place, not re-created


def test_import_products_updates_every_column(tmp_path: Path) -> None:
    run("import_products", csv_file(tmp_path, GOOD[1], name="a.csv"))

    out, _ = run(
        "import_products",
        csv_file(tmp_path, "WINE-1,白酒,Baijiu,Moutai,alcohol,2999.99,500,2", name="b.csv"),
    )

    assert "0 created, 1 updated" in out
    assert products() == {
        "WINE-1": ("白酒", "Baijiu", "Moutai", "alcohol", Decimal("2999.99"), 500, 2)
    }


BAD_ROWS = {
    "unknown category": ("BAD-1,坏,Bad,X,no_such_category,100,,", "unknown category_code"),
    "price abc": ("BAD-1,坏,Bad,X,cosmetics,abc,,", "retail_price must be a positive amount"),
    "price negative": ("BAD-1,坏,Bad,X,cosmetics,-1,,", "retail_price must be a positive amount"),
    "price zero": ("BAD-1,坏,Bad,X,cosmetics,0,,", "retail_price must be a positive amount"),
    "price three places": (
        "BAD-1,坏,Bad,X,cosmetics,1.005,,",
        "retail_price must be a positive amount",
    ),
    "price empty": ("BAD-1,坏,Bad,X,cosmetics,,,", "retail_price is required"),
    "price nan": ("BAD-1,坏,Bad,X,cosmetics,NaN,,", "retail_price must be a positive amount"),
    "volume zero": ("BAD-1,坏,Bad,X,alcohol,100,0,", "volume_ml must be a whole number"),
    "volume decimal": ("BAD-1,坏,Bad,X,alcohol,100,7.5,", "volume_ml must be a whole number"),
    "pieces x": ("BAD-1,坏,Bad,X,cosmetics,100,,x", "pieces must be a whole number"),
    "pieces zero": ("BAD-1,坏,Bad,X,cosmetics,100,,0", "pieces must be a whole number"),
    "pieces too many": ("BAD-1,坏,Bad,X,cosmetics,100,,1001", "pieces must be a whole number"),
    "sku too long": ("S" * 65 + ",坏,Bad,X,cosmetics,100,,", "sku is longer than 64 characters"),
    "sku with spaces": ("BAD 1,坏,Bad,X,cosmetics,100,,", "sku must be letters, digits"),
    "sku empty": (",坏,Bad,X,cosmetics,100,,", "sku is required"),
    "name empty": ("BAD-1,,Bad,X,cosmetics,100,,", "name_zh is required"),
    "too many values": ("BAD-1,坏,Bad,X,cosmetics,100,,1,extra", "more values than columns"),
    "repeated sku": ("GOOD-A,重复,Again,X,cosmetics,999,,", "sku GOOD-A repeats line 2"),
}


@pytest.mark.parametrize(("row", "message"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_import_products_reports_bad_rows_by_line_and_imports_the_good(
    tmp_path: Path, row: str, message: str
) -> None:
    path = csv_file(
        tmp_path,
        "GOOD-A,好,Good A,Dior,cosmetics,100.00,,",
        row,
        "GOOD-B,好,Good B,Dior,watches,20000,,",
    )

    error, out, err = fail("import_products", path)

    assert f"line 3: {message}" in err
    assert set(re.findall(r"^line (\d+):", err, re.MULTILINE)) == {"3"}
    assert "1 rows were rejected" in error
    assert "2 created, 0 updated, 1 rows rejected" in out
    assert products() == {
        "GOOD-A": ("好", "Good A", "Dior", "cosmetics", Decimal("100.00"), None, 1),
        "GOOD-B": ("好", "Good B", "Dior", "watches", Decimal("20000.00"), None, 1),
    }


def test_import_products_reports_every_bad_row(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "BAD-1,坏,Bad,X,cosmetics,abc,,",
        GOOD[0],
        "BAD-2,坏,Bad,X,cosmetics,100,,x",
        "BAD-3,坏,Bad,X,nope,100,,",
    )

    error, _, err = fail("import_products", path)

    assert "3 rows were rejected" in error
    assert re.findall(r"^line (\d+):", err, re.MULTILINE) == ["2", "4", "5"]
    assert set(products()) == {"LIP-1"}


def test_import_products_counts_a_row_with_several_errors_once(tmp_path: Path) -> None:
    path = csv_file(tmp_path, GOOD[0], "BAD 1,,Bad,X,nope,-1,0,x")

    error, out, err = fail("import_products", path)

    assert re.findall(r"^line (\d+):", err, re.MULTILINE) == ["3"] * 6
    assert "1 rows were rejected" in error
    assert "1 created, 0 updated, 1 rows rejected" in out
    assert set(products()) == {"LIP-1"}


def test_import_products_missing_required_column_refuses_the_whole_file(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "LIP-1,口红,Lipstick,Dior,cosmetics,,",
        header="sku,name_zh,name_en,brand,category_code,volume_ml,pieces",
    )

    error, out, err = fail("import_products", path)

    assert "line 1: missing columns: retail_price" in err
    assert "0 created, 0 updated, 0 rows rejected" in out
    assert "file was refused" in error
    assert not Product.objects.exists()


def test_import_products_optional_columns_may_be_absent(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "LIP-1,口红,Lipstick,cosmetics,320",
        header="sku,name_zh,name_en,category_code,retail_price",
    )

    run("import_products", path)

    assert products() == {
        "LIP-1": ("口红", "Lipstick", "", "cosmetics", Decimal("320.00"), None, 1)
    }


def test_import_products_accepts_a_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\n".join([HEADER, *GOOD]).encode("utf-8-sig") + b"\n")

    out, _ = run("import_products", str(path))

    assert "3 created" in out
    assert Product.objects.get(sku="LIP-1").name_zh == "口红"


def test_import_products_accepts_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes("\r\n".join([HEADER, *GOOD]).encode() + b"\r\n")

    out, _ = run("import_products", str(path))

    assert "3 created" in out
    assert Product.objects.get(sku="SET-5").pieces == 5


def test_import_products_refuses_a_gbk_file_with_the_line_number(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        "\n".join([HEADER, "PEN-1,pen,Pen,Parker,pens,100,,", *GOOD]).encode("gbk") + b"\n"
    )

    error, out, err = fail("import_products", str(path))

    assert "line 3: the file is not UTF-8" in err
    assert "file was refused" in error
    assert "0 created" in out
    assert not Product.objects.exists()


def test_import_products_dry_run_writes_nothing_but_counts(tmp_path: Path) -> None:
    run("import_products", csv_file(tmp_path, GOOD[0], name="a.csv"))
    before = products()

    out, _ = run(
        "import_products",
        "--dry-run",
        csv_file(tmp_path, "LIP-1,口红,Lipstick,Dior,cosmetics,999.00,,", *GOOD[1:], name="b.csv"),
    )

    assert "2 created, 1 updated" in out
    assert "0 rows rejected" in out
    assert "dry run" in out.lower()
    assert products() == before


def test_import_products_dry_run_still_reports_bad_rows(tmp_path: Path) -> None:
    path = csv_file(tmp_path, GOOD[0], "BAD-1,坏,Bad,X,cosmetics,-1,,")

    error, out, err = fail("import_products", "--dry-run", path)

    assert "line 3: retail_price" in err
    assert "1 rows were rejected" in error
    assert "1 created" in out
    assert not Product.objects.exists()


def test_import_products_missing_file(tmp_path: Path) -> None:
    error, _, _ = fail("import_products", str(tmp_path / "nope.csv"))

    assert "Cannot read" in error
    assert "nope.csv" in error
    assert not Product.objects.exists()


def test_import_products_5000_rows_quickly(tmp_path: Path) -> None:
    codes = ["cosmetics", "watches", "alcohol", "pens", "mobile_phones"]
    rows = [
        f"SKU-{n:05d},商品{n},Item {n},Brand{n % 7},{codes[n % 5]},{n + 1}.{n % 100:02d},"
        f"{750 if n % 5 == 2 else ''},{n % 3 + 1}"
        for n in range(5000)
    ]
    path = csv_file(tmp_path, *rows)

    started = time.monotonic()
    out, _ = run("import_products", path)
    elapsed = time.monotonic() - started

    assert "5000 created, 0 updated, 0 rows rejected" in out
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert Product.objects.count() == 5000
    last = Product.objects.get(sku="SKU-04999")
    assert (last.retail_price, last.category_code, last.pieces) == (
        Decimal("5000.99"),
        "mobile_phones",
        2,
    )
    assert Product.objects.filter(category_code="alcohol", volume_ml=750).count() == 1000


# --- seed_demo -------------------------------------------------------------------------------


def _demo_key(out: str) -> str:
    match = re.search(r"Authorization: Bearer (\S+)", out)
    assert match, out
    return match.group(1)


def test_seed_demo_builds_a_catalogue_over_every_verified_category(settings, monkeypatch) -> None:
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)

    out, _ = run("seed_demo", "--days", "0")

    count = Product.objects.count()
    assert count >= 100
    assert f"{count} demo products added" in out
    policy = Policy.objects.get(effective_from__year=2025)
    codes = set(policy.categories.exclude(verified="no").values_list("code", flat=True))
    assert len(codes) == 38  # of 47: not the placeholders (34–38) nor the unverified (27–29, 31)
    assert set(Product.objects.values_list("category_code", flat=True)) == codes
    for product in Product.objects.all():
        assert product.retail_price > 0, product
        assert product.retail_price.as_tuple().exponent == -2, product
        assert product.pieces >= 1
        if product.category_code == "alcohol":
            assert product.volume_ml, product
    assert Product.objects.filter(category_code="alcohol").count() > 0
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password("admin")


def test_seed_demo_is_idempotent(settings, monkeypatch) -> None:
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    run("seed_demo", "--days", "0")

    def state() -> tuple:
        return (
            sorted(Product.objects.values_list("sku", "retail_price")),
            sorted(Terminal.objects.values_list("key_prefix", "key_hash")),
            sorted(get_user_model().objects.values_list("username", "password")),
        )

    first = state()
    out, _ = run("seed_demo", "--days", "0")

    assert state() == first
    assert "0 demo products added" in out
    assert "already exists" in out


def test_seed_demo_terminal_key_authenticates(settings, monkeypatch, client: Client) -> None:
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)

    out, _ = run("seed_demo", "--days", "0")

    key = _demo_key(out)
    terminal = Terminal.objects.get(key_prefix="demo0001")
    assert (terminal.store.code, terminal.name) == ("SYA-HTB", "demo-1")
    # The demo shopper to try /quota/ with: three purchases in two stores, made once.
    assert "Demo shopper (3 new sales)" in out
    assert Sale.objects.count() == 3
    assert len({sale.store_id for sale in Sale.objects.all()}) == 2
    assert quote_status(client, key) == 400  # authenticated; the empty basket is refused
    assert quote_status(client, key + "x") == 401
    out, _ = run("seed_demo", "--days", "0")
    assert _demo_key(out) == key
    assert quote_status(client, key) == 400
    assert "Demo shopper (0 new sales)" in out
    assert Sale.objects.count() == 3


def test_seed_demo_adds_a_training_terminal_with_a_known_key(
    settings, monkeypatch, client: Client
) -> None:
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)

    out, _ = run("seed_demo", "--days", "0")

    found = re.search(r"Training terminal .*Authorization: Bearer (\S+)", out)
    assert found, out
    key = found.group(1)
    assert key == "df_train0001_dutyfree-training-terminal-not-for-production"
    terminal = Terminal.objects.get(key_prefix="train0001")
    assert (terminal.store.code, terminal.training) == ("SYA-HTB", True)
    assert not Terminal.objects.get(key_prefix="demo0001").training
    assert not Sale.objects.filter(training=True).exists()  # the demo's sales are real ones
    assert quote_status(client, key) == 400  # authenticated; the empty basket is refused
    run("seed_demo", "--days", "0")
    assert Terminal.objects.filter(training=True).count() == 1


def test_seed_demo_refuses_a_known_password_without_debug(settings, monkeypatch) -> None:
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)

    error, out, _ = fail("seed_demo")

    assert "--admin-password" in error
    assert "Bearer" not in out
    assert not get_user_model().objects.exists()
    assert not Product.objects.exists()
    assert not Terminal.objects.exists()


def test_seed_demo_without_debug_uses_the_given_password(settings, monkeypatch) -> None:
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)

    out, _ = run("seed_demo", "--days", "0", "--admin-password", "s3cret-Pass")

    assert get_user_model().objects.get(username="admin").check_password("s3cret-Pass")
    assert Product.objects.count() >= 100
    assert "Bearer" not in out  # no demo terminal with a published key outside DEBUG
    assert not Terminal.objects.exists()


def test_seed_demo_history_shows_year_on_year_with_holiday_peaks(settings, monkeypatch) -> None:
    """Two years and more of history up to yesterday: the dashboards compare with last year on
    the first run, Spring Festival and National Day stand out, sales grow after 2025-12-18."""
    from datetime import timedelta

    from django.utils import timezone

    from shops.models import DailyStoreSales
    from shops.reporting.stats import sales_stats, spring_festival_holiday

    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    out, _ = run("seed_demo", "--days", "800", "--per-day", "3", "--shoppers", "400")
    assert "History: " in out
    assert DailyStoreSales.objects.exists()  # the rollups are up to date
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    month = sales_stats(start=yesterday - timedelta(days=29), end=yesterday)["totals"]
    assert Decimal(month["amount"]) > 0
    assert Decimal(month["previous_amount"]) > 0
    assert month["amount_yoy_pct"] is not None
    holiday = spring_festival_holiday(today.year if today.month > 3 else today.year - 1)
    festival = sales_stats(start=holiday.start, end=holiday.end)["totals"]
    ordinary_start = holiday.end + timedelta(days=30)
    ordinary = sales_stats(
        start=ordinary_start, end=ordinary_start + timedelta(days=holiday.days - 1)
    )["totals"]
    assert festival["sales"] > 1.5 * ordinary["sales"]
    again, _ = run("seed_demo", "--days", "800", "--per-day", "3", "--shoppers", "400")
    assert "0 receipts imported" in again
