"""The X report (``GET /api/v1/terminal-report``): a terminal's sales, returns and voids of a
local day, in all and by pickup mode; another terminal's never, and the day is Asia/Shanghai's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from quotas.rules import LOCAL_TZ
from tests.support.sales import sell
from tests.support.shop import terminal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]


def client_for(key: str) -> Client:
    return Client(headers={"authorization": f"Bearer {key}"})


def write(client: Client, path: str, body: dict, key: str) -> None:
    answer = client.post(
        path, body, content_type="application/json", headers={"idempotency-key": key}
    )
    assert answer.status_code in (200, 201), answer.content


class TestTerminalReport:
    def test_sales_returns_and_voids_by_pickup(self) -> None:
        till, key = terminal()
        other, _ = terminal()
        api = client_for(key)
        kept = sell(till, ("LIP", 2))  # 640.00, departure
        voided = sell(till, ("WINE750", 1), number=2)  # 1,200.00, departure
        immediate = sell(till, ("LIP", 1), number=3, pickup="immediate")  # 320.00
        sell(other, ("WATCH", 1), number=4)  # another terminal of the same store
        line = api.get(f"/api/v1/sales/{kept.sale_id}").json()["lines"][0]["id"]
        write(
            api,
            f"/api/v1/sales/{kept.sale_id}/returns",
            {"lines": [{"line": line, "quantity": 1}]},
            "r1",
        )
        write(api, f"/api/v1/sales/{voided.sale_id}/void", {}, "v1")
        assert immediate.sale_id

        answer = api.get("/api/v1/terminal-report")
        assert answer.status_code == 200
        report = answer.json()
        assert report["date"] == timezone.now().astimezone(LOCAL_TZ).date().isoformat()
        assert report["terminal"] == till.name
        assert report["training"] is False
        assert report["sales"] == {"count": 3, "amount": "2160.00"}
        assert report["returns"] == {"count": 1, "amount": "320.00"}
        assert report["voids"] == {"count": 1, "amount": "1200.00"}
        assert report["net"] == "640.00"
        assert Decimal(report["net"]) == Decimal("2160.00") - Decimal("320.00") - Decimal("1200.00")
        by_pickup = {row["pickup"]: row for row in report["by_pickup"]}
        assert set(by_pickup) == {"departure", "immediate"}
        assert by_pickup["departure"]["sales"] == {"count": 2, "amount": "1840.00"}
        assert by_pickup["departure"]["voids"] == {"count": 1, "amount": "1200.00"}
        assert by_pickup["immediate"]["returns"] == {"count": 0, "amount": "0.00"}

    def test_a_void_after_a_return_counts_what_was_left(self) -> None:
        till, key = terminal()
        api = client_for(key)
        sale = sell(till, ("LIP", 3))
        line = api.get(f"/api/v1/sales/{sale.sale_id}").json()["lines"][0]["id"]
        write(
            api,
            f"/api/v1/sales/{sale.sale_id}/returns",
            {"lines": [{"line": line, "quantity": 1}]},
            "r",
        )
        write(api, f"/api/v1/sales/{sale.sale_id}/void", {}, "v")
        report = api.get("/api/v1/terminal-report").json()
        assert report["returns"]["amount"] == "320.00"
        assert report["voids"]["amount"] == "640.00"
        assert report["net"] == "0.00"

    def test_the_day_is_the_local_day(self) -> None:
        till, key = terminal()
        # 23:30 in Shanghai on the day before yesterday, and 00:30 the next local day.
        day = (timezone.now().astimezone(LOCAL_TZ) - timedelta(days=2)).replace(
            hour=23, minute=30, second=0, microsecond=0
        )
        sell(till, ("LIP", 1), at=day, departs_after=timedelta(days=2))
        sell(
            till, ("LIP", 2), at=day + timedelta(hours=1), number=2, departs_after=timedelta(days=2)
        )
        api = client_for(key)
        first = api.get(f"/api/v1/terminal-report?date={day.date().isoformat()}").json()
        second = api.get(
            f"/api/v1/terminal-report?date={(day + timedelta(hours=1)).date().isoformat()}"
        ).json()
        assert first["sales"] == {"count": 1, "amount": "320.00"}
        assert second["sales"] == {"count": 1, "amount": "640.00"}

    def test_an_empty_day_and_a_bad_date(self) -> None:
        _, key = terminal()
        api = client_for(key)
        empty = api.get("/api/v1/terminal-report?date=2020-01-01").json()
        assert empty["sales"] == {"count": 0, "amount": "0.00"}
        assert empty["by_pickup"] == []
        bad = api.get("/api/v1/terminal-report?date=2020-02-30", headers={"accept-language": "en"})
        assert bad.status_code == 400
        assert "date" in bad.json()["errors"]

    @pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
    def test_the_calendars_first_and_last_days_are_empty_days(self, day: str) -> None:
        _, key = terminal()
        answer = client_for(key).get(f"/api/v1/terminal-report?date={day}")
        assert answer.status_code == 200, answer.content
        assert answer.json()["date"] == day
        assert answer.json()["net"] == "0.00"

    def test_staff_tokens_are_told_it_takes_a_terminal(self) -> None:
        answer = Client().get("/api/v1/terminal-report", headers={"authorization": "Token abc"})
        assert answer.status_code == 401
        assert answer.json()["code"] == "wrong_credential_kind"
