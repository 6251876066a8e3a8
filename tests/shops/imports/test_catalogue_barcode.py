"""Products carry the barcode a till scans (GET /api/v1/products?barcode=): imported from an
optional ``barcode`` column of ``import_products``."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shops.imports.products import import_products
from shops.models import Product

pytestmark = pytest.mark.django_db

HEADER = "sku,name_zh,name_en,brand,category_code,retail_price,volume_ml,pieces"


def csv(header: str, *rows: str) -> bytes:
    return "\n".join([header, *rows, ""]).encode()


def test_the_barcode_column_is_imported_and_a_file_without_it_keeps_them() -> None:
    report = import_products(
        csv(f"{HEADER},barcode", "LIP-1,口红,Lipstick,Dior,cosmetics,320.00,,,3348901250153"),
        now=timezone.now(),
    )
    assert (report.created, report.errors) == (1, [])
    assert Product.objects.get().barcode == "3348901250153"

    report = import_products(
        csv(HEADER, "LIP-1,口红,Lipstick,Dior,cosmetics,330.00,,"), now=timezone.now()
    )
    assert report.updated == 1
    product = Product.objects.get()
    assert (product.retail_price, product.barcode) == (330, "3348901250153")

    import_products(
        csv(f"{HEADER},barcode", "LIP-1,口红,Lipstick,Dior,cosmetics,330.00,,,"),
        now=timezone.now(),
    )
    assert Product.objects.get().barcode == ""  # an empty cell clears it


def test_a_bad_barcode_is_reported_by_line() -> None:
    report = import_products(
        csv(f"{HEADER},barcode", "LIP-1,口红,Lipstick,Dior,cosmetics,320.00,,,33 48"),
        now=timezone.now(),
    )
    assert report.errors == ["line 2: barcode must be 1–64 letters, digits or dashes"]
    assert not Product.objects.exists()
