"""``import_sales``: historical receipts from a legacy CSV — written once, by receipt, with
their quota, ledger and dirty marks; malformed or over-limit receipts rejected whole and
reported by line; nothing personal kept in clear."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone

from quotas import bulk as quota_bulk
from quotas.models import Policy, QuotaAccount, QuotaEntry, Shopper, Trip
from quotas.selectors import policy_cache_clear, policy_in_force
from quotas.services import policy_clone
from shops.api.auth import terminal_by_prefix
from shops.imports.batching import import_sales
from shops.imports.reading import COLUMNS, RECEIPT_FIELDS, TERMINAL_NAME
from shops.management.commands.import_sales import Command
from shops.models import DirtyDay, Sale, SaleLine
from shops.pos import checkout
from tests.conftest import local
from tests.support import basket, resident_id, shopper, terminal, trip, written

pytestmark = pytest.mark.django_db

NUMBER = "460100199001011230"
OTHER = "460100198505050021"
NAME = "张三Import"
HEADER = ",".join(COLUMNS)


def row(receipt: str, **cells: Any) -> dict[str, str]:
    """One CSV row: a domestic traveller buying one cosmetics item at 100.00, overridable."""
    values = {
        "receipt_no": receipt,
        "store_code": "SYA-HTB",
        "sold_at": "2026-03-01T10:00:00+08:00",
        "doc_type": "resident_id",
        "doc_number": NUMBER,
        "name": NAME,
        "birth_date": "1990-01-01",
        "hainan_resident": "false",
        "trip_kind": "domestic",
        "trip_mode": "air",
        "carrier_ref": "HU7181",
        "departs_at": "2026-03-02T10:30:00+08:00",
        "pickup": "departure",
        "sku": "",
        "category_code": "cosmetics",
        "quantity": "1",
        "unit_price": "100.00",
    }
    values.update({key: str(value) for key, value in cells.items()})
    return values


def no_trip(receipt: str, **cells: Any) -> dict[str, str]:
    return row(
        receipt,
        trip_kind="",
        trip_mode="",
        carrier_ref="",
        departs_at="",
        pickup="immediate",
        hainan_resident="true",
        **cells,
    )


def csv_text(rows: list[dict[str, str]], *, columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write(
    tmp_path: Path, rows: list[dict[str, str]], *, bom: bool = False, name: str = "sales.csv"
) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + csv_text(rows).encode())
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sales", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fail(path: Path, *args: str) -> tuple[str, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_sales", str(path), *args, stdout=out, stderr=err)
    return str(excinfo.value), out.getvalue(), err.getvalue()


def books_balance() -> None:
    """Every account's used equals the sum of its ledger entries."""
    for account in QuotaAccount.objects.all():
        entries = account.entries.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
        assert entries == account.used, account


# --- A good file ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("catalogue")
class TestGoodFile:
    def rows(self) -> list[dict[str, str]]:
        return [
            # +08:00, three lines: a catalogue product, no sku, an sku the catalogue lacks.
            row("R-1", sku="SET5", category_code="perfume", quantity=2, unit_price="1500.00"),
            row("R-1", sku="", category_code="tea", quantity=3, unit_price="33.33"),
            row("R-1", sku="OLD-77", category_code="watches", unit_price="9999.99"),
            # UTC (Z), two lines, an outbound trip.
            row(
                "R-2",
                sold_at="2026-04-01T02:00:00Z",
                trip_kind="outbound",
                carrier_ref="hu7999",
                departs_at="2026-04-01T12:00:00Z",
                sku="WINE750",
                category_code="",
                unit_price="1100.00",
            ),
            row(
                "R-2",
                sold_at="2026-04-01T02:00:00Z",
                trip_kind="outbound",
                carrier_ref="hu7999",
                departs_at="2026-04-01T12:00:00Z",
                sku="LIP",
                category_code="",
                quantity=4,
                unit_price="300.00",
            ),
        ]

    def test_each_receipt_becomes_one_imported_sale_with_its_lines(self, tmp_path) -> None:
        out, err = run(write(tmp_path, self.rows()))

        assert "Receipts: 2 imported, 0 skipped (existing), 0 rejected." in out
        assert "Lines: 5 read, 5 imported" in out
        assert err == ""
        first, second = Sale.objects.get(receipt_no="R-1"), Sale.objects.get(receipt_no="R-2")
        lines = list(first.lines.order_by("line_no"))
        assert [(line.line_no, line.sku, line.category_code) for line in lines] == [
            (1, "SET5", "cosmetics"),  # the catalogue says what it is, not the file
            (2, "", "tea"),
            (3, "OLD-77", "watches"),
        ]
        assert [(line.quantity, line.unit_price, line.amount) for line in lines] == [
            (2, Decimal("1500.00"), Decimal("3000.00")),
            (3, Decimal("33.33"), Decimal("99.99")),
            (1, Decimal("9999.99"), Decimal("9999.99")),
        ]
        assert [(line.product_id is not None, line.pieces, line.volume_ml) for line in lines] == [
            (True, 5, None),
            (False, 1, None),
            (False, 1, None),
        ]
        assert first.total == Decimal("13099.98")
        assert first.sold_at == local(2026, 3, 1, 10, 0)
        assert first.local_date == date(2026, 3, 1)
        assert (first.traveller_kind, first.pickup, first.status) == (
            "domestic",
            "departure",
            "completed",
        )
        assert first.imported is True
        assert first.idempotency_key == "R-1"
        assert re.fullmatch(r"[0-9a-f]{64}", first.request_fingerprint)
        assert first.request_fingerprint != second.request_fingerprint
        assert first.policy_id == policy_in_force(at=first.sold_at).pk
        assert first.returned_amount == Decimal("0.00")
        wine, lip = second.lines.order_by("line_no")
        assert (wine.category_code, wine.volume_ml, lip.quantity) == ("alcohol", 750, 4)
        assert second.total == Decimal("2300.00")
        assert second.traveller_kind == "outbound"
        assert second.trip.carrier_ref == "HU7999"
        assert second.trip.departs_at == local(2026, 4, 1, 20, 0)

    def test_sales_are_made_by_a_revoked_legacy_import_terminal_per_store(self, tmp_path) -> None:
        rows = self.rows()
        rows[3]["store_code"] = rows[4]["store_code"] = "HAK-T1"
        run(write(tmp_path, rows))

        terminals = {sale.receipt_no: sale.terminal for sale in Sale.objects.all()}
        assert {t.name for t in terminals.values()} == {TERMINAL_NAME}
        assert terminals["R-1"].store.code == "SYA-HTB"
        assert terminals["R-2"].store.code == "HAK-T1"
        for legacy in terminals.values():
            assert legacy.revoked_at is not None
            assert terminal_by_prefix(legacy.key_prefix) is None  # can never authenticate

    def test_a_sale_just_after_local_midnight_belongs_to_the_new_day_and_quota_year(
        self, tmp_path
    ) -> None:
        rows = [
            row("NY-1", sold_at="2025-12-31T16:30:00Z"),  # 00:30 on 1 January in Shanghai
            row("NY-2", sold_at="2026-01-01T00:30:00+08:00"),
            row("NY-3", sold_at="2025-12-31T23:59:59+08:00"),
        ]
        run(write(tmp_path, rows))

        sales = {sale.receipt_no: sale for sale in Sale.objects.select_related("account")}
        assert sales["NY-1"].local_date == date(2026, 1, 1)
        assert sales["NY-2"].local_date == date(2026, 1, 1)
        assert sales["NY-3"].local_date == date(2025, 12, 31)
        assert sales["NY-1"].account.year == 2026
        assert sales["NY-1"].account_id == sales["NY-2"].account_id
        assert sales["NY-3"].account.year == 2025
        assert set(DirtyDay.objects.values_list("day", flat=True)) == {
            date(2026, 1, 1),
            date(2025, 12, 31),
        }

    def test_each_sale_records_the_policy_in_force_at_its_instant(self, tmp_path) -> None:
        before = policy_in_force(at=local(2026, 3, 1, 11, 59))
        noon = policy_clone(policy=before)  # published to take effect at noon that day
        Policy.objects.filter(pk=noon.pk).update(
            status="published",
            effective_from=local(2026, 3, 1, 12, 0),
            annual_limit=Decimal("50000.00"),
        )
        policy_cache_clear()
        other = {"doc_number": OTHER, "birth_date": "1985-05-05"}
        rows = [
            row("AM", sold_at="2026-03-01T11:59:59+08:00"),
            row("PM", sold_at="2026-03-01T04:00:00Z", **other),
            row("PM-2", sold_at="2026-03-01T15:00:00+08:00"),
            row("OLD", sold_at="2025-10-31T23:59:59+08:00", **other),
            row("NEW", sold_at="2025-11-01T00:00:00+08:00", **other),
        ]
        run(write(tmp_path, rows))

        policies = dict(Sale.objects.values_list("receipt_no", "policy_id"))
        assert policies == {
            "AM": before.pk,
            "PM": noon.pk,
            "PM-2": noon.pk,
            "OLD": policy_in_force(at=local(2025, 10, 31, 12, 0)).pk,
            "NEW": policy_in_force(at=local(2025, 11, 1, 12, 0)).pk,
        }
        assert policies["OLD"] != policies["NEW"]
        limits = dict(QuotaAccount.objects.filter(year=2026).values_list("shopper__pk", "limit"))
        assert sorted(limits.values()) == [Decimal("50000.00"), Decimal("100000.00")]

    def test_quota_is_spent_in_the_order_of_the_sales_and_the_ledger_balances(
        self, tmp_path
    ) -> None:
        rows = [
            row("Q-LATE", sold_at="2026-05-01T10:00:00+08:00", unit_price="700.00"),
            row("Q-EARLY", sold_at="2026-02-01T10:00:00+08:00", unit_price="200.00"),
            row("Q-MID", sold_at="2026-03-01T10:00:00+08:00", unit_price="100.00"),
        ]
        run(write(tmp_path, rows))

        account = QuotaAccount.objects.get()
        assert (account.year, account.limit, account.used) == (
            2026,
            Decimal("100000.00"),
            Decimal("1000.00"),
        )
        after = dict(Sale.objects.values_list("receipt_no", "quota_used_after"))
        assert after == {
            "Q-EARLY": Decimal("200.00"),
            "Q-MID": Decimal("300.00"),
            "Q-LATE": Decimal("1000.00"),
        }
        entries = list(QuotaEntry.objects.filter(account=account).values_list("kind", "reference"))
        sale_ids = Sale.objects.values_list("pk", flat=True)
        assert sorted(entries) == sorted(("import", f"sale:{pk}") for pk in sale_ids)
        books_balance()

    def test_an_open_account_keeps_its_limit_and_usage_from_the_tills(self, tmp_path) -> None:
        till, _ = terminal()
        departs = timezone.now() + timedelta(days=2)
        checkout.sale_commit(
            terminal=till,
            idempotency_key="live-1",
            fingerprint="live-1",
            basket=basket(("LIP", 2), who=shopper(NUMBER, name=NAME), on=trip(departs_at=departs)),
            now=timezone.now(),
        )
        year = timezone.localdate().year
        sold = (timezone.now() - timedelta(hours=1)).isoformat()
        run(write(tmp_path, [row("OLD-1", sold_at=sold, unit_price="50.00")]))

        account = QuotaAccount.objects.get(year=year)
        assert account.used == Decimal("690.00")
        assert Sale.objects.get(receipt_no="OLD-1").quota_used_after == Decimal("690.00")
        assert Shopper.objects.count() == 1
        books_balance()

    def test_receipts_without_trip_fields_are_residents_without_a_trip(self, tmp_path) -> None:
        run(write(tmp_path, [no_trip("RES-1")]))

        sale = Sale.objects.get()
        assert sale.trip_id is None
        assert sale.traveller_kind == "resident"
        assert Trip.objects.count() == 0
        assert Shopper.objects.get().hainan_resident is True

    def test_one_trip_per_shopper_departure_and_an_existing_trip_is_reused(self, tmp_path) -> None:
        rows = [row("T-1"), row("T-2", sold_at="2026-03-01T11:00:00+08:00")]
        run(write(tmp_path, rows))
        trip_id = Trip.objects.get().pk
        run(write(tmp_path, [row("T-3", sold_at="2026-03-01T12:00:00+08:00")]))

        assert set(Sale.objects.values_list("trip_id", flat=True)) == {trip_id}
        assert Trip.objects.count() == 1

    def test_touched_days_and_stores_are_marked_once_each(self, tmp_path) -> None:
        rows = [
            row("D-1"),
            row("D-1", category_code="tea"),
            row("D-2", sold_at="2026-03-01T18:00:00+08:00"),
            row("D-3", store_code="HAK-T1"),
            row("D-4", sold_at="2026-03-03T09:00:00+08:00"),
        ]
        run(write(tmp_path, rows))

        marks = sorted(DirtyDay.objects.values_list("day", "store__code"))
        assert marks == [
            (date(2026, 3, 1), "HAK-T1"),
            (date(2026, 3, 1), "SYA-HTB"),
            (date(2026, 3, 3), "SYA-HTB"),
        ]

    def test_rows_of_a_receipt_may_be_far_apart(self, tmp_path) -> None:
        rows = [
            row("N-1", unit_price="10.00"),
            row("N-2", doc_number=OTHER, birth_date="1985-05-05", unit_price="20.00"),
            row("N-1", category_code="tea", unit_price="30.00"),
            row("N-2", doc_number=OTHER, birth_date="1985-05-05", unit_price="40.00"),
            row("N-1", category_code="toys", unit_price="50.00"),
        ]
        run(write(tmp_path, rows))

        lines = {
            sale.receipt_no: [
                (line.line_no, line.amount) for line in sale.lines.order_by("line_no")
            ]
            for sale in Sale.objects.all()
        }
        assert lines == {
            "N-1": [(1, Decimal("10.00")), (2, Decimal("30.00")), (3, Decimal("50.00"))],
            "N-2": [(1, Decimal("20.00")), (2, Decimal("40.00"))],
        }

    def test_a_byte_order_mark_is_accepted(self, tmp_path) -> None:
        out, _ = run(write(tmp_path, self.rows(), bom=True))

        assert "2 imported" in out
        assert Sale.objects.count() == 2

    def test_windows_line_endings_are_accepted(self, tmp_path) -> None:
        path = tmp_path / "sales.csv"
        path.write_bytes(b"\xef\xbb\xbf" + csv_text(self.rows()).replace("\n", "\r\n").encode())

        out, _ = run(path)

        assert "2 imported" in out
        assert Sale.objects.get(receipt_no="R-2").pickup == "departure"

    def test_an_open_file_in_bytes_or_text_is_read_as_well(self) -> None:
        text = csv_text([row("F-1"), no_trip("F-2", doc_number=OTHER, birth_date="1985-05-05")])

        from_bytes = import_sales(
            io.BytesIO(b"\xef\xbb\xbf" + text.encode()), dry_run=True, now=timezone.now()
        )
        from_text = import_sales(io.StringIO(text), now=timezone.now())

        assert (from_bytes.imported, from_bytes.rejected) == (2, 0)
        assert (from_text.imported, from_text.rejected) == (2, 0)
        assert Sale.objects.count() == 2

    def test_several_batches_give_the_same_books(self, tmp_path) -> None:
        rows = [
            row(f"B-{n}", sold_at=f"2026-03-{n + 1:02d}T10:00:00+08:00", unit_price=f"{n + 1}.00")
            for n in range(7)
        ]
        report = import_sales(write(tmp_path, rows), batch_size=2, now=timezone.now())

        assert (report.imported, report.rejected) == (7, 0)
        account = QuotaAccount.objects.get()
        assert account.used == Decimal("28.00")
        assert Sale.objects.get(receipt_no="B-6").quota_used_after == Decimal("28.00")
        assert Shopper.objects.count() == 1
        assert Trip.objects.count() == 1
        books_balance()


# --- Running a file twice -------------------------------------------------------------------------


class TestReimport:
    def test_receipts_already_in_are_skipped_and_nothing_is_doubled(self, tmp_path) -> None:
        path = write(tmp_path, [row("A-1"), row("A-1", category_code="tea"), row("A-2")])
        run(path)
        before = written()
        used = QuotaAccount.objects.get().used

        out, err = run(path)

        assert "Receipts: 0 imported, 2 skipped (existing), 0 rejected." in out
        assert err == ""
        assert written() == before
        assert QuotaAccount.objects.get().used == used

    def test_a_file_with_old_and_new_receipts_adds_only_the_new(self, tmp_path) -> None:
        run(write(tmp_path, [row("A-1")]))

        out, _ = run(write(tmp_path, [row("A-1"), row("A-3", unit_price="5.00")]))

        assert "1 imported, 1 skipped (existing)" in out
        assert QuotaAccount.objects.get().used == Decimal("105.00")
        books_balance()

    def test_a_changed_receipt_is_skipped_with_a_note(self, tmp_path) -> None:
        run(write(tmp_path, [row("A-1")]))

        out, err = run(write(tmp_path, [row("A-1", unit_price="999.00")]))

        assert "0 imported, 1 skipped (existing)" in out
        assert "line 2 (receipt A-1): already in the database with other content" in err
        assert Sale.objects.get().total == Decimal("100.00")


class TestConcurrentWriter:
    def test_a_shopper_created_meanwhile_makes_the_batch_start_again(
        self, tmp_path, monkeypatch
    ) -> None:
        import_sales(write(tmp_path, [row("M-1")], name="first.csv"), now=timezone.now())
        original = quota_bulk.shopper_ids
        calls = []

        def not_yet_committed(keys):  # as if a till created the shopper meanwhile
            calls.append(keys)
            return {} if len(calls) == 1 else original(keys)

        monkeypatch.setattr(quota_bulk, "shopper_ids", not_yet_committed)

        report = import_sales(write(tmp_path, [row("M-2", unit_price="5.00")]), now=timezone.now())

        assert (report.imported, report.rejected, len(calls)) == (1, 0, 2)
        assert Shopper.objects.count() == 1
        assert QuotaAccount.objects.get().used == Decimal("105.00")
        books_balance()


# --- Malformed rows -------------------------------------------------------------------------------


class TestMalformedRows:
    @pytest.mark.parametrize(
        ("cells", "field", "message"),
        [
            ({"unit_price": "12,50"}, "unit_price", "'12,50' is not an amount"),
            ({"unit_price": "1.005"}, "unit_price", "at most two decimals"),
            ({"unit_price": "0"}, "unit_price", "above 0"),
            ({"store_code": "NOPE-9"}, "store_code", "unknown store 'NOPE-9'"),
            ({"quantity": "-2"}, "quantity", "'-2' is not a whole number from 1 to 999"),
            ({"quantity": "1000"}, "quantity", "from 1 to 999"),
            ({"quantity": "1.5"}, "quantity", "not a whole number"),
            ({"doc_type": "library_card"}, "doc_type", "'library_card' is not one of"),
            ({"sold_at": "2026-03-01T10:00:00"}, "sold_at", "has no UTC offset"),
            ({"sold_at": "2026-03-01"}, "sold_at", "has no UTC offset"),
            ({"sold_at": "2026-02-30T10:00:00+08:00"}, "sold_at", "is not an ISO 8601 time"),
            ({"sold_at": "yesterday"}, "sold_at", "is not an ISO 8601 time"),
            ({"sold_at": "2099-01-01T10:00:00+08:00"}, "sold_at", "is in the future"),
            ({"sold_at": "2021-01-01T10:00:00+08:00"}, "sold_at", "no published policy"),
            ({"birth_date": "1990-02-30"}, "birth_date", "is not a date"),
            ({"birth_date": "1991-01-01"}, "birth_date", "does not match the birth date"),
            ({"doc_number": "46010019900101123"}, "doc_number", "17 digits and a digit or X"),
            ({"doc_number": "!!"}, "doc_number", "4 to 32 letters and digits"),
            ({"name": ""}, "name", "1 to 100 printable characters"),
            ({"hainan_resident": "maybe"}, "hainan_resident", "'maybe' is not true or false"),
            ({"pickup": "drone"}, "pickup", "'drone' is not one of"),
            ({"trip_kind": "space"}, "trip_kind", "'space' is not one of"),
            ({"trip_mode": "walk"}, "trip_mode", "'walk' is not one of"),
            ({"carrier_ref": "#1"}, "carrier_ref", "is not a flight, train or ship reference"),
            ({"departs_at": "2026-03-02T10:30"}, "departs_at", "has no UTC offset"),
            ({"departs_at": ""}, "departs_at", "required when any trip field is given"),
            ({"sku": "BAD SKU!"}, "sku", "letters, digits, dots, dashes or underscores"),
            ({"category_code": "spaceships"}, "category_code", "unknown code 'spaceships'"),
            ({"category_code": ""}, "category_code", "required when the sku is empty"),
        ],
    )
    def test_a_bad_field_rejects_only_its_receipt_and_names_line_and_field(
        self, tmp_path, cells, field, message
    ) -> None:
        bad = {"doc_number": OTHER, "birth_date": "1985-05-05", "carrier_ref": "CZ1"}
        receipt_field = field in RECEIPT_FIELDS
        rows = [
            row("GOOD-1"),
            row("BAD-1", **(bad | cells if receipt_field else bad)),
            row("GOOD-2", sold_at="2026-03-01T11:00:00+08:00"),
            row("BAD-1", **(bad | cells)),
        ]

        message_out, out, err = fail(write(tmp_path, rows))

        assert "Receipts: 2 imported, 0 skipped (existing), 1 rejected." in out
        assert "1 receipt(s) rejected" in message_out
        assert "The other receipts were written" in message_out
        line = 3 if receipt_field else 5  # receipt fields are read from its first row
        assert f"line {line} (receipt BAD-1): {field}: " in err, err
        assert message in err, err
        assert "differs" not in err
        assert set(Sale.objects.values_list("receipt_no", flat=True)) == {"GOOD-1", "GOOD-2"}
        # Nothing of the rejected receipt: not its shopper, trip, account or lines.
        assert Shopper.objects.count() == 1
        assert not Trip.objects.filter(carrier_ref="CZ1").exists()
        assert SaleLine.objects.count() == 2
        books_balance()

    def test_every_error_of_a_receipt_is_reported(self, tmp_path) -> None:
        rows = [
            row("BAD", sold_at="2026-03-01T10:00:00", quantity="x", unit_price="-1"),
            row("BAD", sold_at="2026-03-01T10:00:00", sku="ok-1", category_code="nope"),
        ]
        _, _, err = fail(write(tmp_path, rows))

        assert err.splitlines() == [
            "line 2 (receipt BAD): quantity: 'x' is not a whole number from 1 to 999",
            "line 2 (receipt BAD): unit_price: '-1' is not an amount above 0 such as 1234.50 "
            "(at most two decimals)",
            "line 2 (receipt BAD): sold_at: '2026-03-01T10:00:00' has no UTC offset: write the "
            "time with Z or an offset such as +08:00",
            "line 3 (receipt BAD): category_code: unknown code 'nope'",
        ]

    def test_rows_of_a_receipt_must_agree_on_the_receipt_fields(self, tmp_path) -> None:
        rows = [row("MIX"), row("OK"), row("MIX", store_code="HAK-T1", pickup="mail")]

        _, out, err = fail(write(tmp_path, rows))

        assert "1 imported" in out
        assert "line 4 (receipt MIX): store_code: differs from line 2 of the receipt" in err
        assert "line 4 (receipt MIX): pickup: differs from line 2 of the receipt" in err
        assert list(Sale.objects.values_list("receipt_no", flat=True)) == ["OK"]

    def test_a_row_with_too_few_values_or_no_receipt_number_is_reported(self, tmp_path) -> None:
        text = csv_text([row("OK"), row("SHORT"), row("")])
        text = text.replace("SHORT,SYA-HTB", "SHORT", 1)
        path = tmp_path / "sales.csv"
        path.write_text(text, encoding="utf-8")

        _, out, err = fail(path)

        assert "1 imported, 0 skipped (existing), 2 rejected" in out
        assert "line 3 (receipt SHORT): row: 17 values expected, 16 found" in err
        assert "line 4: receipt_no: required" in err

    def test_a_file_that_is_not_utf8_is_refused_whole(self, tmp_path) -> None:
        path = tmp_path / "sales.csv"
        path.write_bytes(csv_text([row("OK"), row("GBK", name="x")]).encode() + "张".encode("gbk"))

        message, out, err = fail(path)

        assert message == "The file was refused; nothing was written."
        assert "line 4: the file is not UTF-8" in err
        assert out == ""
        assert Sale.objects.count() == 0

    def test_a_nul_character_is_refused_whole(self, tmp_path) -> None:
        path = tmp_path / "sales.csv"
        path.write_text(csv_text([row("OK"), row("NUL", name="a\x00b")]), encoding="utf-8")

        _, _, err = fail(path)

        assert "line 3: the file contains a NUL character" in err
        assert Sale.objects.count() == 0

    def test_a_header_without_a_column_is_refused_whole(self, tmp_path) -> None:
        path = tmp_path / "sales.csv"
        columns = tuple(c for c in COLUMNS if c != "pickup")
        path.write_text(
            csv_text([{k: v for k, v in row("OK").items() if k != "pickup"}], columns=columns)
        )

        _, _, err = fail(path)

        assert "line 1: missing columns: pickup" in err
        assert Sale.objects.count() == 0


# --- The annual quota -----------------------------------------------------------------------------


class TestAnnualLimit:
    def test_a_receipt_over_the_limit_is_rejected_and_the_others_go_in(self, tmp_path) -> None:
        rows = [
            row("L-1", category_code="watches", unit_price="60000.00"),
            row("L-2", sold_at="2026-04-01T10:00:00+08:00", category_code="watches")
            | {"unit_price": "40000.01"},
            row("L-3", sold_at="2026-05-01T10:00:00+08:00", unit_price="39999.99"),
        ]

        _, out, err = fail(write(tmp_path, rows))

        assert "2 imported, 0 skipped (existing), 1 rejected" in out
        assert (
            "line 3 (receipt L-2): quota: the receipt's total 40000.01 would take the shopper's "
            "2026 quota to 100000.01, over the limit of 100000.00 (already used 60000.00); "
            "rejected"
        ) in err
        account = QuotaAccount.objects.get()
        assert account.used == Decimal("99999.99") == account.limit - Decimal("0.01")
        assert set(Sale.objects.values_list("receipt_no", flat=True)) == {"L-1", "L-3"}
        books_balance()

    def test_a_first_receipt_over_the_limit_leaves_no_shopper_or_account(self, tmp_path) -> None:
        rows = [row("BIG", quantity=2, category_code="watches", unit_price="50000.01")]

        _, _, err = fail(write(tmp_path, rows))

        assert "receipt BIG): quota: the receipt's total 100000.02" in err
        counts = written()
        assert (counts["Sale"], counts["SaleLine"], counts["QuotaEntry"]) == (0, 0, 0)
        assert (counts["Shopper"], counts["QuotaAccount"], counts["Trip"]) == (0, 0, 0)

    def test_another_year_has_its_own_quota(self, tmp_path) -> None:
        rows = [
            row("Y-1", sold_at="2025-12-31T15:59:59Z", unit_price="900.00", quantity=100),
            row("Y-2", sold_at="2025-12-31T16:00:00Z", unit_price="900.00", quantity=100),
        ]
        run(write(tmp_path, rows))

        assert sorted(QuotaAccount.objects.values_list("year", "used")) == [
            (2025, Decimal("90000.00")),
            (2026, Decimal("90000.00")),
        ]


# --- Dry run --------------------------------------------------------------------------------------


class TestDryRun:
    def test_a_dry_run_writes_nothing_and_reports_the_same(self, tmp_path) -> None:
        rows = [
            row("D-1"),
            row("D-2", store_code="HAK-T1", category_code="tea"),
            row("D-3", unit_price="bad"),
        ]
        path = write(tmp_path, rows)
        before = written()

        _, dry, dry_err = fail(path, "--dry-run")

        assert written() == before
        assert "Receipts: 2 imported, 0 skipped (existing), 1 rejected." in dry
        assert "Dry run: nothing was written." in dry
        _, real, real_err = fail(path)
        assert dry.split(" Lines")[0] == real.split(" Lines")[0]
        assert dry_err.replace("(dry run)", "") == real_err.replace("(dry run)", "")

    def test_a_dry_run_counts_quota_across_batches(self, tmp_path) -> None:
        rows = [
            row(f"DQ-{n}", sold_at=f"2026-03-0{n + 1}T10:00:00+08:00", unit_price="30000.00")
            for n in range(4)
        ]
        path = write(tmp_path, rows)

        report = import_sales(path, dry_run=True, batch_size=1, now=timezone.now())

        assert (report.imported, report.rejected) == (3, 1)
        assert "receipt DQ-3): quota:" in report.errors[0]
        assert written()["Sale"] == 0

    def test_a_dry_run_skips_receipts_already_in(self, tmp_path) -> None:
        path = write(tmp_path, [row("S-1"), row("S-2")])
        import_sales(write(tmp_path, [row("S-1")], name="first.csv"), now=timezone.now())

        report = import_sales(path, dry_run=True, now=timezone.now())

        assert (report.imported, report.skipped, report.rejected) == (1, 1, 0)
        assert Sale.objects.count() == 1


# --- Privacy --------------------------------------------------------------------------------------


def _scan_database(needles: list[str]) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for values in cursor.fetchall():
                for column, value in zip(columns, values, strict=True):
                    text = str(value).casefold()
                    found.extend(f"{table}.{column}" for needle in needles if needle in text)
    return found


class TestPrivacy:
    def test_no_column_holds_a_document_number_or_a_name(self, tmp_path) -> None:
        spaced = "4601 0019 9001 0112 30"
        rows = [
            row("P-1"),
            row("P-2", doc_number=spaced, name=" 张三import "),  # normalised: the same shopper
            row("P-3", doc_type="passport", doc_number="E98765432", name="Li Si Private"),
        ]
        run(write(tmp_path, rows))

        needles = [NUMBER, "0019900101", NAME.casefold(), "张三", "e98765432", "li si private"]
        birth = ["1990-01-01", "19900101"]  # with the last four, most of the number
        assert _scan_database(needles + birth) == []
        shoppers = {s.document_type: s for s in Shopper.objects.all()}
        assert len(shoppers) == 2
        assert shoppers["resident_id"].document_last4 == "1230"
        assert shoppers["passport"].document_last4 == "5432"
        assert shoppers["resident_id"].birth_year == 1990
        assert Sale.objects.filter(shopper=shoppers["resident_id"]).count() == 2

    def test_errors_never_echo_a_document_number_or_a_name(self, tmp_path) -> None:
        rows = [
            row("E-1", doc_number="46010019900101123Q"),
            row("E-2", name="x" * 101),
            row("E-3", birth_date="1999-09-09"),
            row("E-4", doc_type="passport", doc_number="秘密"),
        ]
        _, out, err = fail(write(tmp_path, rows))

        assert "4 rejected" in out
        for secret in ("46010019900101123Q", NUMBER, "x" * 50, "秘密", NAME):
            assert secret not in err
            assert secret not in out


# --- The command ----------------------------------------------------------------------------------


class TestCommand:
    def test_success_prints_the_summary_and_exits_normally(self, tmp_path) -> None:
        out, err = run(write(tmp_path, [row("C-1"), row("C-1"), row("C-2")]))

        assert re.fullmatch(
            r"Receipts: 2 imported, 0 skipped \(existing\), 0 rejected\. Lines: 3 read, 3 "
            r"imported, in \d+\.\d\d s \([\d,]+ lines/s\)\.\n",
            out,
        )
        assert err == ""

    def test_a_rejected_receipt_exits_with_status_1_after_writing_the_others(
        self, tmp_path, monkeypatch
    ) -> None:
        path = write(tmp_path, [row("C-1"), row("C-2", quantity="0")])
        out, err = io.StringIO(), io.StringIO()
        # run_from_argv closes every connection on its way out: keep the test's own.
        monkeypatch.setattr(connections, "close_all", lambda: None)

        with pytest.raises(SystemExit) as exited:
            Command(stdout=out, stderr=err).run_from_argv(["manage.py", "import_sales", str(path)])

        assert exited.value.code == 1
        assert "1 imported, 0 skipped (existing), 1 rejected" in out.getvalue()
        assert "line 3 (receipt C-2): quantity:" in err.getvalue()
        assert "1 receipt(s) rejected; see above. The other receipts were written." in (
            err.getvalue()
        )
        assert list(Sale.objects.values_list("receipt_no", flat=True)) == ["C-1"]

    def test_a_missing_file_is_an_error(self, tmp_path) -> None:
        with pytest.raises(CommandError, match="Cannot read"):
            call_command("import_sales", str(tmp_path / "nope.csv"))

    def test_the_help_says_what_happens_to_rejected_receipts(self) -> None:
        text = Command().create_parser("manage.py", "import_sales").format_help()

        assert "--dry-run" in text
        assert "rejected" in text
        assert "status 1" in text


# --- PostgreSQL: writers in parallel --------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_writers_split_by_shopper_give_the_same_books(tmp_path) -> None:
    rows = []
    for n in range(40):
        birth = date(1980, 1, 1) + timedelta(days=97 * n)
        for m in range(3):
            rows.append(
                row(
                    f"PW-{n}-{m}",
                    doc_number=resident_id(n, birth),
                    birth_date=birth.isoformat(),
                    sold_at=f"2026-03-{3 - m:02d}T10:00:00+08:00",  # latest first in the file
                    carrier_ref=f"HU{m}",
                    unit_price=f"{n + m + 1}.00",
                )
            )
    path = write(tmp_path, rows)

    report = import_sales(path, workers=3, batch_size=7, now=timezone.now())

    assert (report.imported, report.rejected) == (120, 0), report.errors
    assert (Sale.objects.count(), SaleLine.objects.count()) == (120, 120)
    assert (Shopper.objects.count(), Trip.objects.count()) == (40, 120)
    books_balance()
    for account in QuotaAccount.objects.all():
        after = list(
            Sale.objects.filter(account=account)
            .order_by("sold_at")
            .values_list("quota_used_after", flat=True)
        )
        assert after == sorted(after)
        assert after[-1] == account.used
    again = import_sales(path, workers=3, batch_size=7, now=timezone.now())
    assert (again.imported, again.skipped) == (0, 120)


def test_a_category_not_duty_free_on_the_day_of_the_sale_is_rejected(db: None) -> None:
    # pet_supplies became duty-free on 2025-11-01 (47 categories); in June 2025 the 2023-04-01
    # policy (45 categories) was in force and a till would have refused the line.
    before = row(
        "R-PET-1", sold_at="2025-06-01T10:00:00+08:00", departs_at="2025-06-02T10:00:00+08:00",
        category_code="pet_supplies",
    )  # fmt: skip
    after = row(
        "R-PET-2", sold_at="2025-11-02T10:00:00+08:00", departs_at="2025-11-03T10:00:00+08:00",
        category_code="pet_supplies",
    )  # fmt: skip
    report = import_sales(csv_text([before, after]).encode(), now=timezone.now())
    assert (report.imported, report.rejected) == (1, 1)
    assert list(Sale.objects.values_list("receipt_no", flat=True)) == ["R-PET-2"]
    assert len(report.errors) == 1
    assert "'pet_supplies' was not a duty-free category on 2025-06-01" in report.errors[0]
