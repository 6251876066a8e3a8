"""Rows of the legacy sales CSV (``import_sales``), as an old till system exports them."""

from __future__ import annotations

import io
from datetime import date, timedelta

from shops.imports.reading import COLUMNS
from tests.conftest import local

from .shop import resident_id

LEGACY_DEPARTS = local(2026, 3, 5, 10, 30)  # the departure of a legacy_row unless said
LEGACY_NUMBER = resident_id(77)  # the shopper of a legacy_row unless said


def legacy_row(receipt: str, sku: str, quantity: int, price: str, **cells: str) -> dict[str, str]:
    """One line of a legacy receipt (SYA-HTB, 2026-03-02, LEGACY_NUMBER): ``cells`` override."""
    row = {
        "receipt_no": receipt,
        "store_code": "SYA-HTB",
        "sold_at": "2026-03-02T15:00:00+08:00",
        "doc_type": "resident_id",
        "doc_number": LEGACY_NUMBER,
        "name": "李四",
        "birth_date": "1990-01-01",
        "hainan_resident": "false",
        "trip_kind": "domestic",
        "trip_mode": "air",
        "carrier_ref": "HU7181",
        "departs_at": LEGACY_DEPARTS.isoformat(),
        "pickup": "departure",
        "sku": sku,
        "category_code": "",
        "quantity": str(quantity),
        "unit_price": price,
    }
    row.update(cells)
    return row


def legacy_csv(*rows: dict[str, str]) -> io.StringIO:
    """A legacy CSV file of ``rows`` (``legacy_row``), with its header."""
    head = ",".join(COLUMNS)
    body = [",".join(row[name] for name in COLUMNS) for row in rows]
    return io.StringIO("\n".join([head, *body]) + "\n")


def legacy_history(days: int) -> str:
    """A legacy CSV's text: 12 one-line receipts a day for ``days`` days from 2026-01-01, in
    three stores, 700 passport holders."""
    rows = [",".join(COLUMNS)]
    first = date(2026, 1, 1)
    for n in range(days * 12):
        day = first + timedelta(days=n % days)
        rows.append(
            f"KILL-{n:05d},{['SYA-HTB', 'SYA-AIR', 'HAK-MH'][n % 3]},"
            f"{day.isoformat()}T12:00:00+08:00,"
            f"passport,K{n % 700:08d},Kill Test {n % 700},1980-01-01,false,domestic,air,"
            f"HU{n},{day.isoformat()}T23:00:00+08:00,departure,,cosmetics,1,{100 + n % 50}.00"
        )
    return "\n".join(rows) + "\n"
