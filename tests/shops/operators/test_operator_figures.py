"""An operator's people see their own stores' figures: the
stats API (totals and every group_by), the dashboard's names and its CSV export; the platform's
people see all, and operator A's figures plus operator B's are the platform's."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from shops.reporting import rollups
from tests import support
from tests.conftest import local

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/sales"
PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}
CDFG_STORES = {"SYA-HTB", "SYA-AIR", "HAK-IDFC"}
HNDF_STORES = {"HAK-T1", "HAK-T2", "HAK-RIYUE", "QHI-BOAO"}


def token(username: str, *operator: str) -> str:
    out = io.StringIO()
    call_command("create_staff_token", username, *operator, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def sales(db: None) -> dict[str, str]:
    """Sales at a CDFG store and at a Hainan Duty Free store, one shopper buying at both; the
    tokens of a CDFG analyst, a Hainan Duty Free analyst and the platform's."""
    support.product("S-LIP", "cosmetics", "100.00")
    support.product("S-WATCH", "watches", "1000.00")
    htb, _ = support.terminal("SYA-HTB")
    t1, _ = support.terminal("HAK-T1")
    flight = local(2026, 3, 11, 17)
    for terminal, line, number, at in (
        (htb, ("S-WATCH", 1), 1, local(2026, 3, 10, 11)),
        (t1, ("S-LIP", 4), 1, local(2026, 3, 10, 15)),  # the same shopper, the other operator
        (t1, ("S-LIP", 2), 2, local(2026, 3, 12, 11)),
        (htb, ("S-WATCH", 1), 3, local(2025, 3, 11, 11)),  # last year, CDFG
    ):
        support.sell(
            terminal,
            line,
            number=number,
            at=at,
            departs_at=max(at, flight) + timedelta(hours=30),
        )
    rollups.refresh_all_dirty(now=timezone.now())
    return {
        "CDFG": token("cdfg-analyst", "--operator", "CDFG"),
        "HNDF": token("hndf-analyst", "--operator", "HNDF"),
        "platform": token("customs"),
    }


def figures(client: Client, key: str, **params: str) -> dict[str, Any]:
    answer = client.get(URL, {**PERIOD, **params}, headers={"authorization": f"Token {key}"})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_totals_are_the_operators_own_and_add_up_to_the_platforms(
    sales: dict[str, str], client: Client
) -> None:
    totals = {who: figures(client, key)["totals"] for who, key in sales.items()}
    assert Decimal(totals["CDFG"]["amount"]) == Decimal("1000.00")
    assert Decimal(totals["HNDF"]["amount"]) == Decimal("600.00")
    assert Decimal(totals["CDFG"]["amount"]) + Decimal(totals["HNDF"]["amount"]) == Decimal(
        totals["platform"]["amount"]
    )
    for field in ("sales", "items"):
        assert totals["CDFG"][field] + totals["HNDF"][field] == totals["platform"][field]
    assert Decimal(totals["CDFG"]["previous_amount"]) == Decimal("1000.00")
    assert Decimal(totals["HNDF"]["previous_amount"]) == Decimal("0.00")
    # Shopper 1 bought from both: each operator counts them once, the platform once in all.
    assert (totals["CDFG"]["shoppers"], totals["HNDF"]["shoppers"]) == (1, 2)
    assert totals["platform"]["shoppers"] == 2


@pytest.mark.parametrize("group_by", ["day", "month", "store", "category", "traveller_kind"])
def test_every_group_by_holds_only_the_operators_stores(
    sales: dict[str, str], client: Client, group_by: str
) -> None:
    answers = {who: figures(client, key, group_by=group_by) for who, key in sales.items()}
    for who, answer in answers.items():
        grouped = sum((Decimal(g["amount"]) for g in answer["groups"]), Decimal(0))
        assert grouped == Decimal(answer["totals"]["amount"]), who
    if group_by == "store":
        keys = {who: {g["key"] for g in answer["groups"]} for who, answer in answers.items()}
        assert keys["CDFG"] <= CDFG_STORES
        assert keys["HNDF"] <= HNDF_STORES
        assert keys["platform"] == keys["CDFG"] | keys["HNDF"]


def test_the_dashboard_names_and_exports_only_the_operators_stores(
    sales: dict[str, str], client: Client
) -> None:
    client.force_login(get_user_model().objects.get(username="hndf-analyst"))
    page = client.get("/dashboard/", {**PERIOD})
    assert page.status_code == 200
    config = page.context["config"]
    assert set(config["names"]["store"]) == HNDF_STORES
    assert set(config["full_names"]["store"]) == HNDF_STORES
    export = client.get("/dashboard/export.csv", {**PERIOD, "group_by": "store"})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    text = export.content.decode("utf-8-sig")
    assert "海免海口美兰机场T1免税店" in text or "Haikou Meilan Airport T1" in text
    assert "三亚海棠湾" not in text
    assert "Haitang Bay" not in text
    assert len(rows) >= 2
