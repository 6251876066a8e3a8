"""Customs' published figures at 1/1000 scale, imported from a legacy CSV and read back from
the stats API: "duty-free sales 4.86 billion yuan, up 46.8 %; 745,000 shoppers (人次), up
30.2 %" → 4,860,000.00 against 3,310,626.70 and 745 against 572 shopper-trips, for
2025-12-18 … 2026-01-17 against the same dates a year earlier. Sales just either side of
local midnight at both ends of the period land on the right day."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from shops.imports.reading import COLUMNS
from shops.reporting import rollups

HEADER = COLUMNS  # import_sales's header
STORES = ["SYA-HTB", "SYA-AIR", "HAK-RIYUE", "HAK-MH"]


def amounts(total: Decimal, count: int) -> list[Decimal]:
    """``count`` receipt amounts adding up to ``total`` exactly."""
    each = (total / count).quantize(Decimal("0.01"))
    return [each] * (count - 1) + [total - each * (count - 1)]


def receipts(
    prefix: str, first_day: datetime, days: int, total: Decimal, trips: int, repeaters: int
) -> list[list[str]]:
    """``trips`` shopper-trips (one receipt each) spread over ``days`` local days from
    ``first_day``; the last ``repeaters`` shoppers are the first ones again, on a second trip,
    so that shoppers ≠ 人次."""
    rows = []
    for n, amount in enumerate(amounts(total, trips)):
        person = n if n < trips - repeaters else n - (trips - repeaters)
        sold = first_day + timedelta(days=n % days, hours=10 + n % 9, minutes=n % 60)
        rows.append(
            [
                f"{prefix}-{n:05d}",
                STORES[n % len(STORES)],
                sold.isoformat(),
                "passport",
                f"E{person:08d}",
                f"Traveller {person}",
                "1985-06-01",
                "false",
                "domestic",
                "air",
                f"HU{7000 + n}",
                (sold + timedelta(hours=20)).isoformat(),
                "departure",
                "",
                "watches",
                "1",
                str(amount),
            ]
        )
    return rows


def edge_receipts() -> list[list[str]]:
    """Two sales just inside the period and two just outside, written in UTC (Z)."""
    base = ["passport", "", "", "1985-06-01", "false", "domestic", "air", "", "", "departure",
            "", "perfume", "1", "1000.00"]  # fmt: skip
    rows = []
    for n, sold_at in enumerate(
        [
            "2025-12-17T16:30:00Z",  # 2025-12-18 00:30 local: inside
            "2025-12-17T15:59:59Z",  # 2025-12-17 23:59:59 local: outside
            "2026-01-17T15:59:00Z",  # 2026-01-17 23:59 local: inside
            "2026-01-17T16:00:00Z",  # 2026-01-18 00:00 local: outside
        ]
    ):
        row = [f"EDGE-{n}", "SYA-HTB", sold_at, *base]
        row[4], row[5] = f"G{n:08d}", f"Edge {n}"
        row[10] = f"CZ{n}"
        row[11] = (datetime.fromisoformat(sold_at) + timedelta(hours=20)).isoformat()
        rows.append(row)
    return rows


@pytest.fixture
def legacy_file(tmp_path: Path) -> Path:
    local = datetime.fromisoformat
    current = receipts(
        "NOW", local("2025-12-18T00:00:00+08:00"), 31, Decimal("4858000.00"), 743, repeaters=5
    )
    previous = receipts(
        "BEFORE", local("2024-12-18T00:00:00+08:00"), 31, Decimal("3310626.70"), 572,
        repeaters=3,
    )  # fmt: skip
    # The two edge sales inside the period bring the current year to 745 人次, 4,860,000.00.
    rows = current + previous + edge_receipts()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = tmp_path / "legacy.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_imported_history_reproduces_the_published_figures(
    legacy_file: Path, client: Client
) -> None:
    out = io.StringIO()
    call_command("import_sales", str(legacy_file), stdout=out)
    assert "1319 imported" in out.getvalue().replace(",", "")
    rollups.refresh_all_dirty(now=timezone.now())  # what the beat does every minute

    token_out = io.StringIO()
    call_command("create_staff_token", "customs-analyst", stdout=token_out)
    key = token_out.getvalue().strip().splitlines()[-1]
    response = client.get(
        "/api/v1/stats/sales",
        {"start": "2025-12-18", "end": "2026-01-17"},
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["previous"] == {"start": "2024-12-18", "end": "2025-01-17"}
    totals = body["totals"]
    assert totals["amount"] == "4860000.00"
    assert totals["previous_amount"] == "3310626.70"
    assert totals["amount_yoy_pct"] == "46.8"
    assert totals["shopper_trips"] == 745
    assert totals["previous_shopper_trips"] == 572
    assert totals["shopper_trips_yoy_pct"] == "30.2"
    # Five shoppers came twice this period, three the period before.
    assert (totals["shoppers"], totals["previous_shoppers"]) == (740, 569)
    assert totals["sales"] == 745

    # The sales just outside the period sit on their own local days.
    before = client.get(
        "/api/v1/stats/sales",
        {"start": "2025-12-17", "end": "2025-12-17"},
        HTTP_AUTHORIZATION=f"Token {key}",
    ).json()["totals"]
    after = client.get(
        "/api/v1/stats/sales",
        {"start": "2026-01-18", "end": "2026-01-18"},
        HTTP_AUTHORIZATION=f"Token {key}",
    ).json()["totals"]
    assert (before["amount"], before["sales"]) == ("1000.00", 1)
    assert (after["amount"], after["sales"]) == ("1000.00", 1)
    by_day = client.get(
        "/api/v1/stats/sales",
        {"start": "2025-12-18", "end": "2026-01-17", "group_by": "day"},
        HTTP_AUTHORIZATION=f"Token {key}",
    ).json()["groups"]
    assert sum(Decimal(g["amount"]) for g in by_day) == Decimal("4860000.00")
    assert by_day[0]["key"] == "2025-12-18"
