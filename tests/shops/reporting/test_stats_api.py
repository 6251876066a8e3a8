"""GET /api/v1/stats/sales: credentials, parameters, alignments and growth arithmetic."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from shops import tasks
from shops.models import DirtyDay, Sale
from shops.reporting import rollups
from shops.reporting.stats import (
    Period,
    growth,
    previous_period,
    spring_festival,
    spring_festival_holiday,
)
from tests import support
from tests.conftest import local

URL = "/api/v1/stats/sales"
DEPARTS_AFTER = timedelta(hours=30)  # a sale's departure unless said


def token(username: str = "analyst") -> str:
    out = io.StringIO()
    call_command("create_staff_token", username, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def sell(terminal, sku: str, quantity: int, *, number: int, at, departs=None) -> None:
    """A sale at ``at`` by the shopper ``number``, departing 30 hours later unless said."""
    support.sell(
        terminal, (sku, quantity), number=number, at=at, departs_at=departs or at + DEPARTS_AFTER
    )


@pytest.fixture
def sales(db: None) -> None:
    support.product("S-LIP", "cosmetics", "100.00")
    support.product("S-WATCH", "watches", "1000.00")
    htb, _ = support.terminal("SYA-HTB")
    air, _ = support.terminal("SYA-AIR")
    # This year: 2 shoppers, 3 sales; last year: 1 shopper, 1 sale.
    flight = local(2026, 3, 11, 17)  # shopper 1 buys in two stores for one trip: one 人次
    sell(htb, "S-WATCH", 1, number=1, at=local(2026, 3, 10, 11), departs=flight)
    sell(air, "S-LIP", 4, number=1, at=local(2026, 3, 10, 15), departs=flight)
    sell(htb, "S-LIP", 2, number=2, at=local(2026, 3, 12, 11))
    sell(htb, "S-WATCH", 1, number=7, at=local(2025, 3, 11, 11))
    rollups.refresh_all_dirty(now=timezone.now())


def test_no_credentials_is_401_and_a_terminal_key_is_refused(sales: None, client: Client) -> None:
    response = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31"})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    _, key = support.terminal("SYA-HTB")
    refused = client.get(
        URL, {"start": "2026-03-01", "end": "2026-03-31"}, HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert refused.status_code == 401
    wrong = client.get(
        URL, {"start": "2026-03-01", "end": "2026-03-31"}, HTTP_AUTHORIZATION="Token nope"
    )
    assert wrong.status_code == 401


def test_a_logged_in_non_staff_user_is_403(sales: None, client: Client) -> None:
    client.force_login(get_user_model().objects.create_user("cashier"))
    assert client.get(URL, {"start": "2026-03-01", "end": "2026-03-31"}).status_code == 403


def test_create_staff_token_prints_the_key_last_and_it_reads_the_figures(
    sales: None, client: Client
) -> None:
    key = token()
    assert len(key) == 64
    assert token() != key  # each call a new token (the first is still valid)
    assert get_user_model().objects.get(username="analyst").is_staff
    response = client.get(
        URL, {"start": "2026-03-01", "end": "2026-03-31"}, HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"start": "2026-03-01", "end": "2026-03-31"}
    assert body["previous"] == {"start": "2025-03-01", "end": "2025-03-31"}
    totals = body["totals"]
    assert (totals["amount"], totals["previous_amount"], totals["amount_yoy_pct"]) == (
        "1600.00",
        "1000.00",
        "60.0",
    )
    assert (totals["sales"], totals["shoppers"], totals["shopper_trips"]) == (3, 2, 2)
    assert (totals["previous_shoppers"], totals["shoppers_yoy_pct"]) == (1, "100.0")
    assert totals["items"] == 7
    assert totals["average_spend"] == "800.00"
    assert body["as_of"].endswith("+08:00")
    assert response["Server-Timing"].startswith("app;dur=")


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("store", {"SYA-HTB": ("1200.00", "1000.00"), "SYA-AIR": ("400.00", "0.00")}),
        ("category", {"watches": ("1000.00", "1000.00"), "cosmetics": ("600.00", "0.00")}),
        ("traveller_kind", {"domestic": ("1600.00", "1000.00")}),
        ("month", {"2026-03": ("1600.00", "1000.00")}),
    ],
)
def test_groups(sales: None, client: Client, group_by: str, expected: dict) -> None:
    body = client.get(
        URL,
        {"start": "2026-03-01", "end": "2026-03-31", "group_by": group_by},
        HTTP_AUTHORIZATION=f"Token {token()}",
    ).json()
    found = {g["key"]: (g["amount"], g["previous_amount"]) for g in body["groups"]}
    assert found == expected
    assert body["group_by"] == group_by
    if group_by == "category":
        assert "shoppers" not in body["groups"][0]  # distinct counts are per store-level sets
    else:
        assert "shopper_trips" in body["groups"][0]


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("en", {"SYA-HTB": ("cdf Sanya International Duty Free City (Haitang Bay)",
                            "cdf Sanya Intl.")}),
        ("zh-hans", {"SYA-HTB": ("中免三亚海棠湾国际免税城", "三亚国际免税城")}),
    ],
)  # fmt: skip
def test_store_groups_carry_the_name_and_short_name_in_the_language(
    sales: None, client: Client, language: str, names: dict
) -> None:
    body = client.get(
        URL,
        {"start": "2026-03-01", "end": "2026-03-31", "group_by": "store"},
        HTTP_AUTHORIZATION=f"Token {token()}",
        HTTP_ACCEPT_LANGUAGE=language,
    ).json()
    found = {g["key"]: (g["name"], g["short_name"]) for g in body["groups"]}
    assert found["SYA-HTB"] == names["SYA-HTB"]
    assert {"amount", "previous_amount", "shopper_trips"} <= set(body["groups"][0])
    other = client.get(
        URL,
        {"start": "2026-03-01", "end": "2026-03-31", "group_by": "category"},
        HTTP_AUTHORIZATION=f"Token {token()}",
    ).json()
    assert "short_name" not in other["groups"][0]  # only a store group names a store


def test_group_by_day_lists_every_day_with_its_previous_day(sales: None, client: Client) -> None:
    body = client.get(
        URL,
        {"start": "2026-03-10", "end": "2026-03-12", "group_by": "day", "align": "weekday"},
        HTTP_AUTHORIZATION=f"Token {token()}",
    ).json()
    assert body["previous"] == {"start": "2025-03-11", "end": "2025-03-13"}
    days = [
        (g["key"], g["previous_key"], g["amount"], g["previous_amount"]) for g in body["groups"]
    ]
    assert days == [
        ("2026-03-10", "2025-03-11", "1400.00", "1000.00"),
        ("2026-03-11", "2025-03-12", "0.00", "0.00"),
        ("2026-03-12", "2025-03-13", "200.00", "0.00"),
    ]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-03-01"},
        {"start": "2026-03-31", "end": "2026-03-01"},
        {"start": "2026-02-30", "end": "2026-03-01"},
        {"start": "yesterday", "end": "2026-03-01"},
        {"start": "2026-03-01", "end": "2026-03-31", "group_by": "shopper"},
        {"start": "2026-03-01", "end": "2026-03-31", "align": "lunar"},
        {"start": "2000-01-01", "end": "2026-03-31"},
    ],
)
def test_bad_parameters_are_400_with_errors(sales: None, client: Client, params: dict) -> None:
    response = client.get(URL, params, HTTP_AUTHORIZATION=f"Token {token()}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["errors"]


def test_previous_periods() -> None:
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    assert previous_period(march, "calendar") == Period(date(2025, 3, 1), date(2025, 3, 31))
    assert previous_period(march, "weekday") == Period(date(2025, 3, 2), date(2025, 4, 1))
    leap = Period(date(2028, 2, 29), date(2028, 2, 29))
    assert previous_period(leap, "calendar") == Period(date(2027, 2, 28), date(2027, 2, 28))
    assert date(2026, 3, 1).weekday() == date(2025, 3, 2).weekday()
    # Spring Festival: 2026-02-17 and 2025-01-29 are both 正月初一.
    assert spring_festival(2026) == date(2026, 2, 17)
    assert spring_festival(2025) == date(2025, 1, 29)
    window_2026, window_2025 = spring_festival_holiday(2026), spring_festival_holiday(2025)
    assert window_2026 == Period(date(2026, 2, 15), date(2026, 2, 23))
    assert previous_period(window_2026, "spring_festival") == window_2025  # window to window
    week = Period(date(2026, 2, 16), date(2026, 2, 22))  # a day into the holiday
    assert previous_period(week, "spring_festival") == Period(date(2025, 1, 29), date(2025, 2, 4))
    # Mid-year there is no jump: consecutive days map to consecutive days.
    august = [previous_period(Period(d, d), "spring_festival").start
              for d in (date(2026, 8, 13), date(2026, 8, 14))]  # fmt: skip
    assert august[1] - august[0] == timedelta(days=1)
    # January 2026 lies in the lunar year that began with the 2025 holiday.
    january = previous_period(Period(date(2026, 1, 10), date(2026, 1, 10)), "spring_festival")
    assert january.start == window_2024_start() + (date(2026, 1, 10) - window_2025.start)


def window_2024_start() -> date:
    return spring_festival_holiday(2024).start


def test_previous_days_join_the_day_they_are_compared_with_across_29_february(
    db: None,
) -> None:
    from shops.reporting.stats import sales_stats

    support.product("L-LIP", "cosmetics", "100.00")
    htb, _ = support.terminal("SYA-HTB")
    sell(htb, "L-LIP", 1, number=1, at=local(2027, 3, 1, 12))  # compared with 2028-03-01
    sell(htb, "L-LIP", 2, number=2, at=local(2027, 2, 28, 12))  # with 2028-02-28
    rollups.refresh_all_dirty(now=timezone.now())
    body = sales_stats(start=date(2028, 2, 27), end=date(2028, 3, 2), group_by="day")
    days = {g["key"]: (g["previous_key"], g["previous_amount"]) for g in body["groups"]}
    assert days["2028-02-28"] == ("2027-02-28", "200.00")
    assert days["2028-02-29"] == (None, "0.00")  # 28 February last year is shown beside the 28th
    assert days["2028-03-01"] == ("2027-03-01", "100.00")
    total = sum(Decimal(g["previous_amount"]) for g in body["groups"])
    assert total == Decimal(body["totals"]["previous_amount"]) == Decimal("300.00")


def test_month_groups_hold_all_of_the_previous_period_under_weekday_alignment(
    db: None,
) -> None:
    from shops.reporting.stats import sales_stats

    support.product("M-LIP", "cosmetics", "100.00")
    htb, _ = support.terminal("SYA-HTB")
    # 2026-03-01 … 03-31 compares with 2025-03-02 … 04-01 (364 days earlier).
    sell(htb, "M-LIP", 1, number=1, at=local(2025, 4, 1, 12))
    rollups.refresh_all_dirty(now=timezone.now())
    body = sales_stats(
        start=date(2026, 3, 1), end=date(2026, 3, 31), group_by="month", align="weekday"
    )
    assert [(g["key"], g["previous_amount"]) for g in body["groups"]] == [("2026-03", "100.00")]
    assert body["totals"]["previous_amount"] == "100.00"


def test_the_official_spring_festival_holiday() -> None:
    assert spring_festival_holiday(2025) == Period(date(2025, 1, 28), date(2025, 2, 4))
    fallback = spring_festival_holiday(2031)  # not announced: eve + 7 days
    assert fallback == Period(spring_festival(2031) - timedelta(days=1),
                              spring_festival(2031) + timedelta(days=6))  # fmt: skip


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (Decimal("4860000.00"), Decimal("3310626.70"), "46.8"),
        (745, 572, "30.2"),
        (Decimal("100.05"), Decimal("100"), "0.1"),  # 0.05 rounds half up
        (Decimal("99.95"), Decimal("100"), "-0.1"),
        (5, 0, None),
        (0, 5, "-100.0"),
        (99_999, 100_000, "0.0"),  # a fall under 0.05 % is flat, never "-0.0"
        (100_000, 100_000, "0.0"),
    ],
)
def test_growth_is_rounded_half_up_and_null_without_a_base(current, previous, expected) -> None:
    assert growth(current, previous) == expected


class TestZeroConfigRefresh:
    """``make run`` has no beat: with ``STATS_REFRESH_ON_COMMIT`` (its default in eager mode) a
    committed sale, return or void reaches the figures by itself; without it (production) the
    sale path queues nothing and the figures wait for beat's refresh. Transactional: the
    refresh runs when the sale's transaction really commits."""

    pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

    def _today(self, client: Client) -> dict:
        today = timezone.localdate().isoformat()
        response = client.get(URL, {"start": today, "end": today})
        assert response.status_code == 200
        return response.json()["totals"]

    def _sell(self, client: Client, key: str, *lines: tuple[str, int], serial: int) -> int:
        basket = support.basket(*lines, who=support.shopper(support.resident_id(serial)))
        response = client.post(
            "/api/v1/sales",
            support.json_basket(basket),
            content_type="application/json",
            headers={"authorization": f"Bearer {key}", "idempotency-key": f"zero-{serial}"},
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    @pytest.fixture
    def staff(self, client: Client) -> Client:
        user = get_user_model().objects.create_user("analyst", password="x", is_staff=True)
        client.force_login(user)
        return client

    def test_on_a_sale_and_a_void_reach_the_figures_without_a_refresh(
        self, settings, staff: Client
    ) -> None:
        settings.STATS_REFRESH_ON_COMMIT = True
        support.product("Z-LIP", "cosmetics", "380.00")
        support.product("Z-WATCH", "watches", "8000.00")
        _, key = support.terminal("SYA-HTB")
        assert self._today(staff)["amount"] == "0.00"

        self._sell(staff, key, ("Z-LIP", 2), serial=1)
        watch = self._sell(staff, key, ("Z-WATCH", 1), serial=2)

        totals = self._today(staff)
        assert (totals["amount"], totals["sales"], totals["shopper_trips"]) == ("8760.00", 2, 2)
        assert not DirtyDay.objects.exists()
        voided = staff.post(
            f"/api/v1/sales/{watch}/void",
            headers={"authorization": f"Bearer {key}", "idempotency-key": "void-watch"},
        )
        assert voided.status_code == 200, voided.content
        assert (self._today(staff)["amount"], self._today(staff)["sales"]) == ("760.00", 1)

    def test_a_failed_refresh_never_fails_the_committed_sale(
        self, settings, staff: Client, caplog
    ) -> None:
        settings.STATS_REFRESH_ON_COMMIT = True
        support.product("Z-LIP", "cosmetics", "380.00")
        _, key = support.terminal("SYA-HTB")
        with mock.patch.object(rollups, "refresh_all_dirty", side_effect=RuntimeError("down")):
            sale = self._sell(staff, key, ("Z-LIP", 1), serial=3)
        assert Sale.objects.filter(pk=sale).exists()
        assert DirtyDay.objects.count() == 1  # the mark waits for the next refresh
        assert "down" in caplog.text
        self._sell(staff, key, ("Z-LIP", 1), serial=4)  # the next sale's refresh catches up
        assert self._today(staff)["amount"] == "760.00"

    def test_off_the_sale_path_queues_nothing_and_beat_refreshes(
        self, settings, staff: Client
    ) -> None:
        settings.STATS_REFRESH_ON_COMMIT = False
        support.product("Z-LIP", "cosmetics", "380.00")
        _, key = support.terminal("SYA-HTB")
        with (
            mock.patch.object(tasks.refresh_stats, "apply") as apply,
            mock.patch.object(tasks.refresh_stats, "delay") as delay,
        ):
            self._sell(staff, key, ("Z-LIP", 2), serial=5)
        apply.assert_not_called()
        delay.assert_not_called()  # no broker call on the sale path
        assert self._today(staff)["amount"] == "0.00"
        assert DirtyDay.objects.count() == 1
        tasks.refresh_stats()  # beat's minute
        assert self._today(staff)["amount"] == "760.00"
