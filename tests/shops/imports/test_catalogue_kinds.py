"""Products carry their kind of the immediate-pickup list (即购即提, announcement 2023 No. 25)
and their barcode, which a till scans:

- ``import_products`` reads both from optional columns: a file without a column leaves what
  the products hold, an empty cell clears it; a kind no published policy lists, or of another
  category than the one the kind belongs to, is an error on its line and the row is skipped.
- The admin edits the kind from a list of the known kinds, with the import's checks, and the
  barcode; the list shows and filters by kind; the store admin shows and edits the channel.
- ``GET /api/v1/products`` shows the kind (null when none) and the barcode.
- The demo catalogue tags its products with realistic kinds and valid EAN-13 barcodes, and the
  demo's immediate-pickup history keeps every kind's caps and the price ceiling.
"""

from __future__ import annotations

import csv as csv_module
import io
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from quotas.rules import LOCAL_TZ
from quotas.selectors import immediate_kinds_known, policy_in_force_cached
from shops.demo.seed import (
    demo_history,
    demo_products,
    load_demo_history,
    load_demo_products,
)
from shops.imports.products import import_products
from shops.models import Product, Sale, Store, StoreChannel
from shops.reporting import audit as books
from tests.support import terminal

pytestmark = pytest.mark.django_db

HEADER = "sku,name_zh,name_en,brand,category_code,retail_price,volume_ml,pieces"
KINDS = f"{HEADER},immediate_kind,barcode"
LIPSTICK = "LIP-1,口红,Lipstick,Dior,cosmetics,320.00,"  # then pieces
SHADES = "RB-3025,雷朋太阳镜,Ray-Ban Aviator,Ray-Ban,eyewear,1290.00,"


def csv(header: str, *rows: str) -> bytes:
    return "\n".join([header, *rows, ""]).encode()


def load(data: bytes):
    return import_products(data, now=timezone.now())


def kinds() -> dict[str, tuple[str, str]]:
    return {p.sku: (p.immediate_kind, p.barcode) for p in Product.objects.all()}


def ean13_valid(code: str) -> bool:
    if len(code) != 13 or not code.isdigit():
        return False
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


# --- import_products -------------------------------------------------------------------------
class TestImport:
    def test_the_columns_are_imported(self) -> None:
        report = load(
            csv(KINDS, f"{LIPSTICK},1,cosmetics,3348901250153", f"{SHADES},1,sunglasses,")
        )

        assert (report.created, report.errors) == (2, [])
        assert kinds() == {"LIP-1": ("cosmetics", "3348901250153"), "RB-3025": ("sunglasses", "")}

    def test_the_columns_may_come_in_any_order(self) -> None:
        report = load(
            csv(f"{HEADER},barcode,immediate_kind", f"{LIPSTICK},1,3348901250153,cosmetics")
        )

        assert report.errors == []
        assert kinds() == {"LIP-1": ("cosmetics", "3348901250153")}

    def test_an_old_file_still_imports_and_keeps_the_kinds_and_barcodes(self) -> None:
        load(csv(KINDS, f"{LIPSTICK},1,cosmetics,3348901250153"))

        report = load(csv(HEADER, "LIP-1,口红,Lipstick,Dior,cosmetics,330.00,,1"))

        assert (report.updated, report.errors) == (1, [])
        product = Product.objects.get()
        assert (product.retail_price, product.immediate_kind, product.barcode) == (
            Decimal("330.00"),
            "cosmetics",
            "3348901250153",
        )

    def test_an_old_file_creates_products_without_a_kind(self) -> None:
        report = load(csv(HEADER, f"{LIPSTICK},1"))

        assert (report.created, report.errors) == (1, [])
        assert kinds() == {"LIP-1": ("", "")}

    def test_an_empty_cell_clears_the_kind_and_only_that_column_when_the_other_is_absent(
        self,
    ) -> None:
        load(csv(KINDS, f"{LIPSTICK},1,cosmetics,3348901250153"))

        report = load(csv(f"{HEADER},immediate_kind", f"{LIPSTICK},1,"))

        assert (report.updated, report.errors) == (1, [])
        assert kinds() == {"LIP-1": ("", "3348901250153")}  # the barcode column was absent

    def test_an_unknown_kind_is_an_error_on_its_line_and_the_row_is_skipped(self) -> None:
        report = load(
            csv(
                KINDS,
                f"{LIPSTICK},1,cosmetics,",
                "LIP-2,唇膏,Lip balm,Dior,cosmetics,220.00,,1,lipsticks,",
                f"{SHADES},1,,",
            )
        )

        assert report.errors == [
            "line 3: unknown immediate_kind 'lipsticks': no published policy lists it"
        ]
        assert (report.created, report.rejected) == (2, 1)
        assert set(kinds()) == {"LIP-1", "RB-3025"}

    def test_an_unknown_kind_leaves_the_product_as_it_was(self) -> None:
        load(csv(KINDS, f"{LIPSTICK},1,cosmetics,3348901250153"))

        report = load(csv(KINDS, "LIP-1,口红,Lipstick,Dior,cosmetics,999.00,,1,Cosmetics,"))

        assert report.errors == [
            "line 2: unknown immediate_kind 'Cosmetics': no published policy lists it"
        ]
        product = Product.objects.get()
        assert (product.retail_price, product.immediate_kind, product.barcode) == (
            Decimal("320.00"),
            "cosmetics",
            "3348901250153",
        )

    def test_a_kind_of_another_category_is_an_error_on_its_line(self) -> None:
        report = load(
            csv(
                KINDS,
                "RING-1,戒指,Ring,Bulgari,jewellery,16900.00,,1,sunglasses,",
                "DRYER-1,吹风机,Hair dryer,Dyson,beauty_health_appliances,2990.00,,1,razors,",
            )
        )

        assert report.errors == [
            "line 2: immediate_kind sunglasses belongs to eyewear, not jewellery"
        ]
        assert set(kinds()) == {"DRYER-1"}  # razors are held by beauty and health appliances

    def test_a_kind_whose_category_the_list_does_not_name_goes_with_any(self) -> None:
        assert immediate_kinds_known(at=timezone.now())["travel_adapters"].category_code is None

        report = load(
            csv(
                KINDS,
                "PLUG-1,转换插头,Travel adapter,Skross,electronic_consumer_products,199.00,,1,"
                "travel_adapters,",
            )
        )

        assert report.errors == []
        assert kinds() == {"PLUG-1": ("travel_adapters", "")}

    def test_an_old_file_cannot_move_a_product_out_of_its_kinds_category(self) -> None:
        load(csv(KINDS, f"{SHADES},1,sunglasses,"))

        report = load(
            csv(HEADER, "RB-3025,雷朋太阳镜,Ray-Ban Aviator,Ray-Ban,jewellery,1290.00,,1")
        )

        assert report.errors == [
            "line 2: the product's immediate_kind sunglasses belongs to eyewear, not jewellery; "
            "give its immediate_kind in the file"
        ]
        assert Product.objects.get().category_code == "eyewear"
        # With the column, the move and the kind go together.
        report = load(
            csv(KINDS, "RB-3025,雷朋太阳镜,Ray-Ban Aviator,Ray-Ban,jewellery,1290.00,,1,,")
        )
        assert report.errors == []
        assert (Product.objects.get().category_code, Product.objects.get().immediate_kind) == (
            "jewellery",
            "",
        )

    def test_a_kind_only_a_draft_lists_is_unknown(self) -> None:
        from quotas.models import ImmediatePickupKind, Policy

        published = Policy.objects.filter(status="published").latest("effective_from")
        draft = Policy.objects.create(
            programme=published.programme,
            name_zh="含新种类的草稿",
            name_en="Draft with a new kind",
            annual_limit=published.annual_limit,
            min_age=published.min_age,
            immediate_pickup_max_unit_price=published.immediate_pickup_max_unit_price,
            guarantee_pickup_min_unit_price=published.guarantee_pickup_min_unit_price,
            departure_deadline_days=published.departure_deadline_days,
            ban_years=published.ban_years,
            return_pickup_within_months=published.return_pickup_within_months,
        )
        ImmediatePickupKind.objects.create(
            policy=draft, number=16, code="tea", name_zh="茶叶", name_en="Tea", unit_zh="盒",
            unit_en="box", category_code="tea", per_trip=2,
        )  # fmt: skip

        report = load(csv(KINDS, "TEA-1,红茶,Black tea,TWG Tea,tea,298.00,,1,tea,"))

        assert report.errors == [
            "line 2: unknown immediate_kind 'tea': no published policy lists it"
        ]
        assert not Product.objects.exists()

    def test_the_command_reports_a_bad_kind_by_line(self, tmp_path) -> None:
        from django.core.management import call_command
        from django.core.management.base import CommandError

        path = tmp_path / "products.csv"
        path.write_bytes(csv(KINDS, f"{LIPSTICK},1,perfumes,"))
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command("import_products", str(path), stdout=io.StringIO(), stderr=err)
        assert "line 2: unknown immediate_kind 'perfumes'" in err.getvalue()
        assert not Product.objects.exists()


# --- Admin -----------------------------------------------------------------------------------
@pytest.fixture
def web(client: Client) -> Client:
    admin = get_user_model().objects.create_superuser("root", password=None)
    client.force_login(admin)
    return client


def product_form(product: Product, **changes: str) -> dict[str, str]:
    form = {
        "sku": product.sku,
        "name_zh": product.name_zh,
        "name_en": product.name_en,
        "brand": product.brand,
        "barcode": product.barcode,
        "category_code": product.category_code,
        "immediate_kind": product.immediate_kind,
        "retail_price": str(product.retail_price),
        "volume_ml": "" if product.volume_ml is None else str(product.volume_ml),
        "pieces": str(product.pieces),
        "active": "on" if product.active else "",
    }
    return {**form, **changes}


class TestAdmin:
    def test_a_kind_and_a_barcode_are_chosen_and_saved(self, web: Client) -> None:
        load(csv(KINDS, f"{SHADES},1,,"))
        product = Product.objects.get()
        url = f"/admin/shops/product/{product.pk}/change/"

        page = web.get(url).content.decode()
        assert 'value="sunglasses"' in page
        assert 'value="travel_adapters"' in page
        response = web.post(
            url, product_form(product, immediate_kind="sunglasses", barcode="8056597138959")
        )

        assert response.status_code == 302, response.content.decode()
        product.refresh_from_db()
        assert (product.immediate_kind, product.barcode) == ("sunglasses", "8056597138959")

    def test_a_kind_of_another_category_is_refused(self, web: Client) -> None:
        load(csv(KINDS, f"{SHADES},1,sunglasses,"))
        product = Product.objects.get()

        response = web.post(
            f"/admin/shops/product/{product.pk}/change/",
            product_form(product, category_code="jewellery"),
        )

        assert response.status_code == 200  # the form again, with the error
        assert "sunglasses belongs to eyewear, not jewellery" in response.content.decode()
        product.refresh_from_db()
        assert product.category_code == "eyewear"

    def test_a_kind_no_policy_lists_is_not_a_choice(self, web: Client) -> None:
        load(csv(KINDS, f"{LIPSTICK},1,,"))
        product = Product.objects.get()

        response = web.post(
            f"/admin/shops/product/{product.pk}/change/",
            product_form(product, immediate_kind="lipsticks"),
        )

        assert response.status_code == 200
        assert Product.objects.get().immediate_kind == ""

    def test_the_kind_is_cleared_and_the_list_filters_by_it(self, web: Client) -> None:
        load(csv(KINDS, f"{LIPSTICK},1,cosmetics,", f"{SHADES},1,sunglasses,"))
        product = Product.objects.get(sku="LIP-1")

        response = web.post(
            f"/admin/shops/product/{product.pk}/change/", product_form(product, immediate_kind="")
        )
        assert response.status_code == 302
        assert Product.objects.get(sku="LIP-1").immediate_kind == ""

        listed = web.get("/admin/shops/product/", {"immediate_kind": "sunglasses"})
        assert listed.status_code == 200
        assert [p.sku for p in listed.context["cl"].result_list] == ["RB-3025"]
        assert "sunglasses" in listed.content.decode()  # a column of the list

    def test_the_store_admin_shows_and_edits_the_channel(self, web: Client) -> None:
        store = Store.objects.get(code="SYA-HTB")
        listed = web.get("/admin/shops/store/", {"channel": "physical"})
        assert listed.status_code == 200
        assert "SYA-HTB" in listed.content.decode()

        response = web.post(
            f"/admin/shops/store/{store.pk}/change/",
            {
                "code": store.code,
                "name_zh": store.name_zh,
                "name_en": store.name_en,
                "operator": store.operator_id,
                "city": store.city,
                "channel": StoreChannel.ONLINE,
                "active": "on",
            },
        )

        assert response.status_code == 302, response.content.decode()
        assert Store.objects.get(pk=store.pk).channel == StoreChannel.ONLINE


# --- GET /api/v1/products ----------------------------------------------------------------------
def test_the_catalogue_shows_the_kind_and_the_barcode(client: Client) -> None:
    load(csv(KINDS, f"{SHADES},1,sunglasses,8056597138959", f"{LIPSTICK},1,,"))
    _, key = terminal("SYA-HTB")

    response = client.get(
        "/api/v1/products", {"sku": "RB-3025,LIP-1"}, headers={"authorization": f"Bearer {key}"}
    )

    assert response.status_code == 200, response.content
    found = {item["sku"]: item for item in response.json()["results"]}
    assert (found["RB-3025"]["immediate_kind"], found["RB-3025"]["barcode"]) == (
        "sunglasses",
        "8056597138959",
    )
    assert (found["LIP-1"]["immediate_kind"], found["LIP-1"]["barcode"]) == (None, None)


# --- The demo --------------------------------------------------------------------------------
class TestDemoCatalogue:
    def test_the_demo_products_carry_realistic_kinds(self) -> None:
        products = {p.sku: p for p in demo_products()}
        known = immediate_kinds_known(at=timezone.now())

        expected = {
            "COSMETICS-0301": "cosmetics",  # a lipstick
            "COSMETICS-0201": "cosmetics",  # a cream
            "PERFUME-0101": "perfume",
            "EYEWEAR-0101": "sunglasses",
            "EYEWEAR-0201": "",  # an optical frame is not sunglasses
            "BAGS_LUGGAGE-0101": "bags",
            "INFANT_FORMULA-0101": "infant_formula",
            "BEAUTY_HEALTH_APPLIANCES-0201": "razors",  # a shaver
            "BEAUTY_HEALTH_APPLIANCES-0101": "",  # a hair dryer
        }
        assert {sku: products[sku].immediate_kind for sku in expected} == expected
        for product in products.values():
            if product.category_code in {"watches", "jewellery", "mobile_phones", "alcohol"}:
                assert product.immediate_kind == "", product.sku
            if product.immediate_kind:
                kind = known[product.immediate_kind]
                assert kind.category_code in (None, product.category_code), product.sku
        assert len({p.immediate_kind for p in products.values()} - {""}) >= 10

    def test_the_demo_barcodes_are_ean13_with_a_valid_check_digit(self) -> None:
        products = demo_products()

        assert all(ean13_valid(p.barcode) for p in products), [
            p.sku for p in products if not ean13_valid(p.barcode)
        ]
        assert len({p.barcode for p in products}) == len(products)
        assert ean13_valid("4006381333931")
        assert not ean13_valid("4006381333932")

    def test_seeding_the_catalogue_writes_kinds_and_barcodes(self) -> None:
        load_demo_products()

        stored = Product.objects.get(sku="EYEWEAR-0101")
        assert stored.immediate_kind == "sunglasses"
        assert ean13_valid(stored.barcode)


def _immediate_receipts(text: str) -> dict[str, list[dict[str, str]]]:
    receipts: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in csv_module.DictReader(io.StringIO(text)):
        if row["pickup"] == "immediate":
            receipts[row["receipt_no"]].append(row)
    return receipts


class TestDemoHistory:
    def test_immediate_pickups_are_of_listed_kinds_within_the_caps(self) -> None:
        """Each resident's immediate pickups of a day (the rules cap each purchase without a
        trip; the demo keeps the whole day under the caps) stay within each kind's cap per
        departure and per variety, below the price ceiling."""
        products = {p.sku: p for p in demo_products()}
        today = timezone.now().astimezone(LOCAL_TZ).date()
        history = demo_history(
            first=today - timedelta(days=120),
            last=today - timedelta(days=1),
            per_day=12,
            shoppers=200,
        )
        receipts = _immediate_receipts(history.csv)
        assert len(receipts) >= 20
        # A departure is recorded only for a shopper on file (one with a receipt).
        buyers = {row["doc_number"] for row in csv_module.DictReader(io.StringIO(history.csv))}
        assert {departure.number for departure in history.departures} <= buyers

        per_day: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        per_sku: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        seen_kinds = set()
        for lines in receipts.values():
            at = datetime.fromisoformat(lines[0]["sold_at"])
            policy = policy_in_force_cached(at=at).rules
            who = (lines[0]["doc_number"], at.astimezone(LOCAL_TZ).date())
            for line in lines:
                product = products[line["sku"]]
                kind = policy.immediate_kinds.get(product.immediate_kind)
                assert kind is not None, line["sku"]
                assert Decimal(line["unit_price"]) < policy.immediate_max_unit_price
                units = int(line["quantity"]) * (product.pieces if kind.counts_pieces else 1)
                per_day[who][kind.code] += units
                per_sku[who][line["sku"]] += units
                seen_kinds.add(kind.code)
                assert per_day[who][kind.code] <= kind.per_trip, (who, kind.code)
                if kind.per_variety is not None:
                    assert per_sku[who][line["sku"]] <= kind.per_variety, (who, line["sku"])
        assert len(seen_kinds) >= 3

    def test_imported_immediate_sales_snapshot_the_kinds_and_the_books_check_clean(self) -> None:
        load_demo_products()
        now = timezone.now()

        imported, _ = load_demo_history(
            today=now.astimezone(LOCAL_TZ).date(), days=60, per_day=10, shoppers=150, now=now
        )

        assert imported > 300
        immediate = Sale.objects.filter(pickup="immediate").prefetch_related("lines")
        assert immediate.exists()
        for sale in immediate:
            for line in sale.lines.all():
                assert line.immediate_kind, (sale.receipt_no, line.sku)
        report = books.check_books()
        assert (report.differences, report.notes) == ([], [])
