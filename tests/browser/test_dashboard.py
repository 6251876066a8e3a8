"""A staff member opens the sales dashboard in a real browser: cards, four charts drawn with
data by the vendored ECharts, a CSV download, on a laptop and on a phone, in both languages."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from shops import rollups, stats
from shops.checkout import sale_commit
from shops.dashboard import CSV_COLUMNS
from tests.conftest import SHANGHAI
from tests.shops import helpers

LAPTOP = {"width": 1366, "height": 900}
CHARTS = ("day", "store", "category", "traveller_kind")


def _sell(at: datetime, *lines: tuple[str, int], store: str, serial: int, kind: str) -> None:
    terminal, _ = helpers.terminal(store)
    key = f"browser-dash-{serial}"
    sale_commit(
        terminal=terminal,
        idempotency_key=key,
        fingerprint=key,
        basket=helpers.basket(
            *lines,
            who=helpers.shopper(helpers.resident_id(serial)),
            on=helpers.trip(f"HU{serial:04d}", departs_at=at + timedelta(days=2), kind=kind),
        ),
        now=at,
    )


def _seed() -> tuple[str, str]:
    """Sales today and on the same date last year; returns this month's range."""
    helpers.product("BD-LIP", "cosmetics", "380.00")
    helpers.product("BD-SET", "cosmetics", "2600.00", pieces=5)
    helpers.product("BD-WINE", "alcohol", "900.00", volume_ml=750)
    now = timezone.now()
    today = timezone.localdate(now)
    last_year = datetime.combine(stats.year_earlier(today), time(12), tzinfo=SHANGHAI)
    _sell(now, ("BD-LIP", 2), ("BD-SET", 1), store="SYA-HTB", serial=1, kind="domestic")
    _sell(now, ("BD-WINE", 1), store="SYA-AIR", serial=2, kind="outbound")
    _sell(last_year, ("BD-LIP", 3), store="SYA-HTB", serial=3, kind="domestic")
    rollups.refresh_all_dirty()
    return today.replace(day=1).isoformat(), today.isoformat()


def _log_in(page: Any, live_server: Any) -> None:
    user = get_user_model().objects.create_user("analyst", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _wait_for_charts(page: Any) -> None:
    for group in CHARTS:
        page.wait_for_function(
            """(id) => {
                const el = document.getElementById(id);
                const chart = el && window.echarts && echarts.getInstanceByDom(el);
                if (!chart) return false;
                const series = chart.getOption().series;
                return series.length > 0 && series[0].data.length > 0
                    && el.querySelector("canvas") !== null && el.dataset.rendered === "true";
            }""",
            arg=f"chart-{group}",
        )


def _fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.django_db(transaction=True)
def test_staff_sees_the_dashboard_and_downloads_the_csv(
    live_server: Any, new_page: Any, tmp_path: Path
) -> None:
    start, end = _seed()
    expected = stats.sales_stats(
        start=timezone.localdate().replace(day=1), end=timezone.localdate(), group_by="day"
    )
    assert expected["totals"]["amount"] == "4260.00"  # 2 × 380 + 2,600 + 900
    page = new_page(locale="zh-CN", viewport=LAPTOP)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    _log_in(page, live_server)

    response = page.goto(f"{live_server.url}/dashboard/?start={start}&end={end}&align=calendar")

    assert response is not None
    assert response.status == 200
    assert page.locator("h1").inner_text() == "销售看板"
    _wait_for_charts(page)
    assert page.get_by_test_id("card-amount").inner_text() == "¥4,260.00"
    assert page.get_by_test_id("card-shopper_trips").inner_text() == "2"
    amount_card = page.locator(".card[data-figure=amount]")
    assert amount_card.locator("[data-role=previous]").inner_text() == "¥1,140.00"
    assert amount_card.locator("[data-role=yoy]").inner_text() == "同比 +273.7%"
    assert "up" in (amount_card.locator("[data-role=yoy]").get_attribute("class") or "")
    assert amount_card.locator("[data-role=approx]").is_hidden()  # 万 only from ¥10,000
    shoppers_card = page.locator(".card[data-figure=shoppers]")
    assert shoppers_card.locator("[data-role=previous]").inner_text() == "1"
    assert "数据截至" in page.locator("#as-of").inner_text()
    assert page.locator("#load-error").is_hidden()
    # The day chart: the period's dates, this year and last year, from the API's strings.
    day = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-day')).getOption()"
    )
    assert len(day["xAxis"][0]["data"]) == len(expected["groups"])
    assert sum(day["series"][0]["data"]) == pytest.approx(4260.0)
    assert sum(day["series"][1]["data"]) == pytest.approx(1140.0)
    # The tooltip of a day names last year's date (previous_key) and both exact amounts.
    last = len(expected["groups"]) - 1
    page.evaluate(
        """(i) => echarts.getInstanceByDom(document.getElementById('chart-day'))
            .dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: i})""",
        last,
    )
    tip = page.locator("#chart-day > div", has_text="¥4,260.00")
    tip.wait_for(state="visible")
    assert expected["groups"][last]["previous_key"] in tip.inner_text()
    assert "¥1,140.00" in tip.inner_text()
    stores = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-store')).getOption()"
    )
    # Largest at the top of the horizontal bars (the last category of the axis).
    assert stores["yAxis"][0]["data"] == ["中免三亚凤凰机场免税店", "中免三亚海棠湾国际免税城"]
    kinds = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-traveller_kind')).getOption()"
    )
    assert {d["name"] for d in kinds["series"][0]["data"]} >= {"离岛旅客", "离境旅客"}
    # Nothing outside the box: every request went to the live server.
    assert all(url.startswith(live_server.url) for url in requests), requests
    assert sum("/api/v1/stats/sales?" in url for url in requests) == 4
    assert errors == []
    shot = tmp_path / "dashboard-laptop-zh.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000

    with page.expect_download() as info:
        page.get_by_test_id("export-store").click()
    download = info.value
    assert download.suggested_filename == f"dutyfree-sales-{start}-{end}-store.csv"
    body = Path(download.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    # A header a person reads, in the page's language; the columns in the API's order.
    assert rows[0][:6] == ["门店代码", "名称", "去年同期（对比日期）", "销售额（元）",
                           "去年同期销售额（元）", "销售额同比（%）"]  # fmt: skip
    assert len(rows[0]) == len(CSV_COLUMNS)
    rows[0] = CSV_COLUMNS
    totals = dict(zip(rows[0], rows[1], strict=True))
    assert (totals["key"], totals["amount"], totals["previous_amount"]) == (
        "total",
        "4260.00",
        "1140.00",
    )
    by_store = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[2:]}
    assert Decimal(by_store["SYA-HTB"]["amount"]) == Decimal("3360.00")
    assert by_store["SYA-AIR"]["amount_yoy_pct"] == ""  # nothing there last year: null

    # English, from the header's switch, keeps the period.
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Sales dashboard"
    assert f"start={start}" in page.url
    _wait_for_charts(page)
    assert page.get_by_test_id("card-amount").inner_text() == "¥4,260.00"
    assert page.locator(".card[data-figure=amount] [data-role=yoy]").inner_text() == ("YoY +273.7%")
    assert page.locator(".card[data-figure=amount] [data-role=approx]").is_hidden()
    assert "Data as of" in page.locator("#as-of").inner_text()
    shot = tmp_path / "dashboard-laptop-en.png"
    page.screenshot(path=str(shot), full_page=True)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_fits_a_phone_and_reports_a_failed_call(
    live_server: Any, new_page: Any, tmp_path: Path
) -> None:
    start, end = _seed()
    page = new_page(locale="en-GB")
    _log_in(page, live_server)
    page.goto(f"{live_server.url}/dashboard/?start={start}&end={end}")
    _wait_for_charts(page)
    assert page.locator("h1").inner_text() == "Sales dashboard"
    assert page.get_by_test_id("card-amount").inner_text() == "¥4,260.00"
    assert _fits(page)
    page.screenshot(path=str(tmp_path / "dashboard-phone-en.png"), full_page=True)

    # The category call fails: the page says so, the other charts still draw.
    page.route(
        "**/api/v1/stats/sales?*group_by=category*",
        lambda route: route.fulfill(status=503, body="down"),
    )
    page.reload()
    for group in (g for g in CHARTS if g != "category"):
        page.wait_for_function(
            "(id) => { const el = document.getElementById(id);"
            " return el && window.echarts && echarts.getInstanceByDom(el); }",
            arg=f"chart-{group}",
        )
    alert = page.locator("#load-error")
    alert.wait_for(state="visible")
    assert "could not be loaded (503)" in alert.inner_text()
    assert page.locator("#chart-category ~ .chart-error").is_visible()
    assert page.get_by_test_id("card-amount").inner_text() == "¥4,260.00"
