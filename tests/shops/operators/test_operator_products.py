"""Products belong to a catalogue: an operator's own, or the island catalogue every store sells.
A store sells its operator's product where both list a SKU (at the operator's price), never
another operator's; ``import_products --operator`` writes that operator's catalogue alone; in
the admin an operator's people see their own products and the island's, and change only their
own."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from quotas.rules import UNKNOWN_SKU
from shops.models import Operator, Product, Sale
from shops.operators.services import set_operator
from shops.pos import checkout
from tests import support
from tests.support.legacy import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db

CDFG_STORE, HNDF_STORE = "SYA-HTB", "HAK-T1"  # shops/data/stores.json


@pytest.fixture
def catalogues(db: None) -> dict[str, Product]:
    """LIP in the island catalogue at 320 and in CDFG's own at 300; ONLY-CDFG in CDFG's alone;
    GONE island at 100, withdrawn (inactive) from CDFG's; ONLY-HNDF in HNDF's alone."""
    made = {
        "island-lip": support.product("LIP", "cosmetics", "320.00"),
        "cdfg-lip": support.product("LIP", "cosmetics", "300.00", operator="CDFG"),
        "cdfg-only": support.product("ONLY-CDFG", "cosmetics", "50.00", operator="CDFG"),
        "island-gone": support.product("GONE", "cosmetics", "100.00"),
        "cdfg-gone": support.product("GONE", "cosmetics", "90.00", operator="CDFG"),
        "hndf-only": support.product("ONLY-HNDF", "cosmetics", "60.00", operator="HNDF"),
    }
    Product.objects.filter(pk=made["cdfg-gone"].pk).update(active=False)
    return made


def till(store: str) -> dict[str, str]:
    _terminal, key = support.terminal(store)
    return {"authorization": f"Bearer {key}"}


# --- One SKU per catalogue --------------------------------------------------------------------
def test_a_sku_is_unique_within_a_catalogue_the_island_one_included(
    catalogues: dict[str, Product],
) -> None:
    for operator in ("CDFG", None):
        with pytest.raises(IntegrityError), transaction.atomic():
            support.product("LIP", "cosmetics", "1.00", operator=operator)
    support.product("LIP", "cosmetics", "310.00", operator="HNDF")  # another catalogue: fine
    assert Product.objects.filter(sku="LIP").count() == 3


# --- What a store sells -----------------------------------------------------------------------
def test_a_store_sells_its_operators_product_at_its_price_and_others_the_islands(
    catalogues: dict[str, Product],
) -> None:
    cdfg, _ = support.terminal(CDFG_STORE)
    hndf, _ = support.terminal(HNDF_STORE)
    at_cdfg = Sale.objects.get(pk=support.sell(cdfg, ("LIP", 2), number=1).sale_id)
    at_hndf = Sale.objects.get(pk=support.sell(hndf, ("LIP", 2), number=2).sale_id)
    assert at_cdfg.total == Decimal("600.00")
    assert at_cdfg.lines.get().product_id == catalogues["cdfg-lip"].pk
    assert at_hndf.total == Decimal("640.00")
    assert at_hndf.lines.get().product_id == catalogues["island-lip"].pk


@pytest.mark.parametrize(
    ("store", "sku"),
    [
        (HNDF_STORE, "ONLY-CDFG"),  # another operator's product
        (CDFG_STORE, "ONLY-HNDF"),
        ("WNG-WFJ", "ONLY-CDFG"),  # a third operator's store, too
        (CDFG_STORE, "GONE"),  # withdrawn from the operator's own: not the island's instead
    ],
)
def test_a_store_never_sells_another_operators_product_nor_one_its_operator_withdrew(
    catalogues: dict[str, Product], store: str, sku: str
) -> None:
    terminal, _ = support.terminal(store)
    quote = checkout.sale_quote(
        basket=support.basket((sku, 1)), at=timezone.now(), store=terminal.store
    )
    assert [v.code for v in quote.verdict.violations] == [UNKNOWN_SKU]
    with pytest.raises(checkout.PurchaseNotAllowed):
        support.sell(terminal, (sku, 1))
    assert not Sale.objects.exists()


def test_the_island_sells_what_an_operator_withdrew_at_another_operators_store(
    catalogues: dict[str, Product],
) -> None:
    hndf, _ = support.terminal(HNDF_STORE)
    sale = Sale.objects.get(pk=support.sell(hndf, ("GONE", 1)).sale_id)
    assert sale.lines.get().product_id == catalogues["island-gone"].pk


def test_the_tills_catalogue_is_the_stores(catalogues: dict[str, Product], client: Client) -> None:
    def found(store: str, **query: str) -> list[tuple[str, str]]:
        answer = client.get("/api/v1/products", query, headers=till(store))
        assert answer.status_code == 200
        return sorted((p["sku"], p["retail_price"]) for p in answer.json()["results"])

    everything = {"sku": "LIP,ONLY-CDFG,ONLY-HNDF,GONE"}
    assert found(CDFG_STORE, **everything) == [("LIP", "300.00"), ("ONLY-CDFG", "50.00")]
    assert found(HNDF_STORE, **everything) == [
        ("GONE", "100.00"),
        ("LIP", "320.00"),
        ("ONLY-HNDF", "60.00"),
    ]
    assert found(CDFG_STORE, q="only") == [("ONLY-CDFG", "50.00")]
    assert found(HNDF_STORE, q="only") == [("ONLY-HNDF", "60.00")]


def test_the_quote_over_the_api_prices_the_stores_catalogue(
    catalogues: dict[str, Product], client: Client
) -> None:
    body = json.dumps(support.json_basket(support.basket(("LIP", 1))))
    totals = {
        store: client.post(
            "/api/v1/quotes", body, content_type="application/json", headers=till(store)
        ).json()["total"]
        for store in (CDFG_STORE, HNDF_STORE)
    }
    assert totals == {CDFG_STORE: "300.00", HNDF_STORE: "320.00"}


# --- import_products --operator ---------------------------------------------------------------
HEADER = "sku,name_zh,name_en,brand,category_code,retail_price,volume_ml,pieces\n"


def products_file(tmp_path: Path, *rows: str) -> str:
    path = tmp_path / "products.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return str(path)


def test_an_operators_import_writes_its_own_catalogue_and_nothing_else(
    catalogues: dict[str, Product], tmp_path: Path
) -> None:
    before = {
        name: (p.retail_price, p.name_en)
        for name, p in catalogues.items()
        if name in {"island-lip", "hndf-only"}
    }
    out = io.StringIO()
    call_command(
        "import_products",
        products_file(
            tmp_path,
            "LIP,口红,Lipstick,Test,cosmetics,280.00,,1",  # CDFG's own LIP: updated
            "ONLY-HNDF,纸尿裤,Nappies,Test,cosmetics,10.00,,1",  # HNDF's SKU: CDFG's new own
            "NEW-ONE,香水,Perfume,Test,cosmetics,500.00,,1",
        ),
        "--operator",
        "CDFG",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "2 created, 1 updated" in out.getvalue()
    cdfg = dict(Product.objects.filter(operator__code="CDFG").values_list("sku", "retail_price"))
    assert cdfg == {
        "LIP": Decimal("280.00"),
        "ONLY-CDFG": Decimal("50.00"),
        "GONE": Decimal("90.00"),
        "ONLY-HNDF": Decimal("10.00"),
        "NEW-ONE": Decimal("500.00"),
    }
    for name, was in before.items():
        product = Product.objects.get(pk=catalogues[name].pk)
        assert (product.retail_price, product.name_en) == was
    assert not Product.objects.filter(operator=None, sku="NEW-ONE").exists()


def test_an_import_without_an_operator_writes_the_island_catalogue(
    catalogues: dict[str, Product], tmp_path: Path
) -> None:
    call_command(
        "import_products",
        products_file(tmp_path, "LIP,口红,Lipstick,Test,cosmetics,330.00,,1"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert Product.objects.get(pk=catalogues["island-lip"].pk).retail_price == Decimal("330.00")
    assert Product.objects.get(pk=catalogues["cdfg-lip"].pk).retail_price == Decimal("300.00")


def test_an_import_for_an_unknown_operator_is_refused_and_writes_nothing(
    catalogues: dict[str, Product], tmp_path: Path
) -> None:
    path = products_file(tmp_path, "NEW-ONE,香水,Perfume,Test,cosmetics,500.00,,1")
    with pytest.raises(CommandError, match="No operator 'NOPE'"):
        call_command("import_products", path, "--operator", "NOPE", stdout=io.StringIO())
    assert not Product.objects.filter(sku="NEW-ONE").exists()


def test_imported_sales_take_each_stores_catalogue(
    catalogues: dict[str, Product], tmp_path: Path
) -> None:
    rows = legacy_csv(
        legacy_row("HTB-1", "LIP", 1, "300.00", store_code=CDFG_STORE),
        legacy_row("T1-1", "LIP", 1, "320.00", store_code=HNDF_STORE),
        legacy_row("HTB-2", "ONLY-CDFG", 1, "50.00", store_code=CDFG_STORE),
    )
    path = tmp_path / "legacy.csv"
    path.write_text(rows.getvalue(), encoding="utf-8")
    call_command("import_sales", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    product_of = {
        sale.receipt_no: sale.lines.get().product_id
        for sale in Sale.objects.prefetch_related("lines")
    }
    assert product_of == {
        "HTB-1": catalogues["cdfg-lip"].pk,
        "T1-1": catalogues["island-lip"].pk,
        "HTB-2": catalogues["cdfg-only"].pk,
    }


# --- The admin --------------------------------------------------------------------------------
def person(role: str, operator: str | None) -> AbstractUser:
    user = get_user_model().objects.create_user(
        f"{role}-{operator}".replace(" ", "-"), password="pw-tests", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    if operator is not None:
        set_operator(user, Operator.objects.get(code=operator))
    return user


PAGE = "/admin/shops/product/"
TAKEN = "该商品目录中已有此 SKU 的商品。"  # the admin speaks Chinese unless asked otherwise


def product_form(sku: str, price: str = "10.00", **extra: str) -> dict[str, str]:
    return {
        "sku": sku,
        "name_zh": "口红",
        "name_en": "Lipstick",
        "brand": "Test",
        "barcode": "",
        "category_code": "cosmetics",
        "immediate_kind": "",
        "retail_price": price,
        "volume_ml": "",
        "pieces": "1",
        "active": "on",
        **extra,
    }


def test_an_operators_people_list_their_own_and_the_islands_products_never_anothers(
    catalogues: dict[str, Product], client: Client
) -> None:
    client.force_login(person("store manager", "CDFG"))
    shown = {p.pk for p in client.get(PAGE).context["cl"].result_list}
    assert shown == {
        catalogues[name].pk
        for name in ("island-lip", "cdfg-lip", "cdfg-only", "island-gone", "cdfg-gone")
    }
    assert client.get(f"{PAGE}{catalogues['hndf-only'].pk}/change/").status_code == 404
    assert client.get(f"{PAGE}{catalogues['cdfg-only'].pk}/change/").status_code == 200


def test_an_operators_people_change_their_own_products_and_only_read_the_islands(
    catalogues: dict[str, Product], client: Client
) -> None:
    client.force_login(person("store manager", "CDFG"))
    own, island = catalogues["cdfg-only"], catalogues["island-lip"]
    page = client.get(f"{PAGE}{island.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    posted = client.post(f"{PAGE}{island.pk}/change/", product_form("LIP", "1.00"))
    assert posted.status_code == 403
    assert Product.objects.get(pk=island.pk).retail_price == Decimal("320.00")
    # Their own: changed, and posting another catalogue does not move it there.
    hndf = Operator.objects.get(code="HNDF")
    posted = client.post(
        f"{PAGE}{own.pk}/change/", product_form("ONLY-CDFG", "55.00", operator=str(hndf.pk))
    )
    assert posted.status_code == 302
    own.refresh_from_db()
    assert (own.retail_price, own.operator.code) == (Decimal("55.00"), "CDFG")


def test_an_operators_new_product_is_in_its_catalogue_one_sku_each(
    catalogues: dict[str, Product], client: Client
) -> None:
    client.force_login(person("store manager", "HNDF"))
    assert client.post(f"{PAGE}add/", product_form("LIP", "299.00")).status_code == 302
    assert Product.objects.get(sku="LIP", operator__code="HNDF").retail_price == Decimal("299.00")
    again = client.post(f"{PAGE}add/", product_form("LIP", "298.00"))
    assert again.status_code == 200
    assert TAKEN in str(again.context["errors"])
    assert Product.objects.filter(sku="LIP").count() == 3  # island, CDFG's, HNDF's


def test_an_operators_bulk_delete_with_an_island_product_in_it_is_refused(
    catalogues: dict[str, Product], client: Client
) -> None:
    manager = person("store manager", "CDFG")  # no role deletes products: granted apart
    manager.user_permissions.add(Permission.objects.get(codename="delete_product"))
    client.force_login(manager)
    chosen = [catalogues["cdfg-only"].pk, catalogues["island-gone"].pk]
    asked = {"action": "delete_selected", "_selected_action": chosen}
    confirming = client.post(PAGE, asked)
    assert confirming.status_code == 200
    assert confirming.context["perms_lacking"]
    assert client.post(PAGE, {**asked, "post": "yes"}).status_code == 403
    assert Product.objects.filter(pk__in=chosen).count() == 2
    # Their own alone: deleted.
    own = {"action": "delete_selected", "_selected_action": chosen[:1], "post": "yes"}
    assert client.post(PAGE, own).status_code == 302
    assert not Product.objects.filter(pk=chosen[0]).exists()


def test_the_platform_sees_every_catalogue_and_files_a_product_in_one(
    catalogues: dict[str, Product], client: Client
) -> None:
    client.force_login(person("store manager", None))
    assert {p.pk for p in client.get(PAGE).context["cl"].result_list} == {
        p.pk for p in catalogues.values()
    }
    wfj = Operator.objects.get(code="WFJ")
    assert client.post(f"{PAGE}add/", product_form("LIP", operator=str(wfj.pk))).status_code == 302
    assert Product.objects.get(sku="LIP", operator=wfj).retail_price == Decimal("10.00")
    twice = client.post(f"{PAGE}add/", product_form("LIP", operator=str(wfj.pk)))
    assert twice.status_code == 200
    assert TAKEN in str(twice.context["errors"])
