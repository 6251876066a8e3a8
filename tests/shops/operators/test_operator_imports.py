"""An operator's people import their own sales: ``import_sales --operator CODE`` writes the
receipts of that operator's stores, and a row of another operator's store is an error on its
line (its receipt rejected, the others written)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shops.models import Sale
from tests.support import product
from tests.support.legacy import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def legacy_file(tmp_path: Path) -> Path:
    product("LEG-LIP", "cosmetics", "100.00")
    rows = legacy_csv(
        legacy_row("T1-0001", "LEG-LIP", 1, "100.00", store_code="HAK-T1"),
        legacy_row("HTB-0001", "LEG-LIP", 2, "100.00", store_code="SYA-HTB"),
        legacy_row("T2-0001", "LEG-LIP", 1, "100.00", store_code="HAK-T2"),
    )
    path = tmp_path / "legacy.csv"
    path.write_text(rows.getvalue(), encoding="utf-8")
    return path


def test_an_operators_file_writes_its_stores_and_refuses_anothers_lines(legacy_file: Path) -> None:
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 receipt"):
        call_command(
            "import_sales", str(legacy_file), "--operator", "HNDF", stdout=io.StringIO(), stderr=err
        )
    assert set(Sale.objects.values_list("receipt_no", flat=True)) == {"T1-0001", "T2-0001"}
    assert "line 3" in err.getvalue()
    assert "SYA-HTB" in err.getvalue()
    assert "is not a store of HNDF" in err.getvalue()


def test_the_platform_imports_every_store(legacy_file: Path) -> None:
    call_command("import_sales", str(legacy_file), stdout=io.StringIO(), stderr=io.StringIO())
    assert Sale.objects.count() == 3


def test_an_unknown_operator_is_named_and_nothing_is_read(legacy_file: Path) -> None:
    with pytest.raises(CommandError, match="No operator 'NOPE'"):
        call_command("import_sales", str(legacy_file), "--operator", "NOPE", stdout=io.StringIO())
    assert not Sale.objects.exists()
