"""A staff member opens the sales dashboard in a real browser: cards, four charts drawn with
data by the vendored ECharts, a CSV download, on a laptop and on a phone, in both languages."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from shops.models import Store
from shops.reporting import rollups, stats
from shops.reporting.dashboard import csv_columns
from tests import support
from tests.conftest import SHANGHAI

LAPTOP = {"width": 1366, "height": 900}
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
CHARTS = ("day", "store", "category", "traveller_kind")


def _sell(at: datetime, *lines: tuple[str, int], store: str, serial: int, kind: str) -> None:
    departure = support.trip(f"HU{serial:04d}", departs_at=at + timedelta(days=2), kind=kind)
    support.sell(support.terminal(store)[0], *lines, number=serial, on=departure, at=at)


def _seed() -> tuple[str, str]:
    """Sales yesterday and on the same date last year; returns the range from the first of
    yesterday's month to today (the headline cards compare its whole days: to yesterday)."""
    support.product("BD-LIP", "cosmetics", "380.00")
    support.product("BD-SET", "cosmetics", "2600.00", pieces=5)
    support.product("BD-WINE", "alcohol", "900.00", volume_ml=750)
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    at = datetime.combine(yesterday, time(12), tzinfo=SHANGHAI)
    last_year = datetime.combine(stats.year_earlier(yesterday), time(12), tzinfo=SHANGHAI)
    _sell(at, ("BD-LIP", 2), ("BD-SET", 1), store="SYA-HTB", serial=1, kind="domestic")
    _sell(at, ("BD-WINE", 1), store="SYA-AIR", serial=2, kind="outbound")
    _sell(last_year, ("BD-LIP", 3), store="SYA-HTB", serial=3, kind="domestic")
    rollups.refresh_all_dirty(now=timezone.now())
    return yesterday.replace(day=1).isoformat(), today.isoformat()


def _log_in(page: Any, live_server: Any) -> None:
    staff = {"is_staff": True}
    user, _ = get_user_model().objects.get_or_create(username="analyst", defaults=staff)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _wait_for_charts(page: Any, groups: tuple[str, ...] = CHARTS) -> None:
    for group in groups:
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
        start=date.fromisoformat(start), end=date.fromisoformat(end), group_by="day"
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
    last = len(expected["groups"]) - 2  # yesterday
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
    # Largest at the top of the horizontal bars (the last category of the axis), by short name.
    assert stores["yAxis"][0]["data"] == ["三亚凤凰机场免税店", "三亚国际免税城"]
    kinds = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-traveller_kind')).getOption()"
    )
    assert {d["name"] for d in kinds["series"][0]["data"]} >= {"离岛旅客", "离境旅客"}
    # Nothing outside the box: every request went to the live server.
    assert all(url.startswith(live_server.url) for url in requests), requests
    assert sum("/api/v1/stats/sales?" in url for url in requests) == 5  # + the headline
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
    assert rows[0][:7] == ["门店代码", "简称", "全称", "去年同期（对比日期）", "销售额（元）",
                           "去年同期销售额（元）", "销售额同比（%）"]  # fmt: skip
    assert len(rows[0]) == len(csv_columns("store"))
    rows[0] = csv_columns("store")
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


# --- Figures as staff read them -----------------------------------------------------------------
def _with_totals(page: Any, **totals: str) -> None:
    """Answer the page's stats calls with the server's own answers, some totals replaced (an
    amount of ¥113 million is out of reach of test sales under a ¥100,000 annual quota)."""

    def handle(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["totals"].update(totals)
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/stats/sales?*", handle)


def _with_kinds(page: Any, **amounts: str) -> None:
    """Answer the traveller-kind call with these amounts per kind (the rest as the server
    says)."""

    def handle(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        template = body["groups"][0]
        body["groups"] = [
            {**template, "key": kind, "amount": amount} for kind, amount in amounts.items()
        ]
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/stats/sales?*group_by=traveller_kind*", handle)


# The figure's box: one line of text (height of one line box) that its box holds entirely.
_ONE_LINE = """(el) => {
    const style = getComputedStyle(el);
    return {
        text: el.textContent,
        scrollWidth: el.scrollWidth,
        clientWidth: el.clientWidth,
        height: el.getBoundingClientRect().height,
        lineHeight: parseFloat(style.lineHeight),
        fontSize: parseFloat(style.fontSize),
    };
}"""


def _assert_one_line(page: Any, test_id: str) -> float:
    box = page.get_by_test_id(test_id).evaluate(_ONE_LINE)
    assert box["scrollWidth"] <= box["clientWidth"], box
    assert box["height"] == pytest.approx(box["lineHeight"], abs=1), box  # not two lines
    return box["fontSize"]


def _open(page: Any, live_server: Any, start: str, end: str) -> None:
    page.goto(f"{live_server.url}/dashboard/?start={start}&end={end}&align=calendar")
    _wait_for_charts(page)


AMOUNTS = [
    ("308403.00", "¥308,403.00", "≈ ¥30.84万"),
    ("113300226.00", "¥113,300,226.00", "≈ ¥1.13亿"),
    ("99999999.99", "¥99,999,999.99", "≈ ¥1.00亿"),  # rounds up into 亿, not 10,000.00万
    ("10000.00", "¥10,000.00", "≈ ¥1.00万"),
]


# One test per language and width (four tests of a few seconds, not one of half a minute that
# a test worker finishes alone at the end of the run).
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("locale", "viewport"),
    [("zh-CN", WIDE), ("en-GB", WIDE), ("zh-CN", PHONE), ("en-GB", PHONE)],
    ids=["zh-wide", "en-wide", "zh-phone", "en-phone"],
)
def test_large_amounts_in_wan_and_yi_and_on_one_line(
    live_server: Any, new_page: Any, locale: str, viewport: dict[str, int]
) -> None:
    """Each amount, in this language at this width (one page, the amounts in turn)."""
    start, end = _seed()
    page = new_page(locale=locale, viewport=viewport)
    _log_in(page, live_server)
    for amount, shown, approx in AMOUNTS:
        page.unroute("**/api/v1/stats/sales?*")
        _with_totals(page, amount=amount, average_spend=amount)
        _open(page, live_server, start, end)
        card = page.locator(".card[data-figure=amount]")
        assert page.get_by_test_id("card-amount").inner_text() == shown, (locale, amount)
        if locale == "zh-CN":
            assert card.locator("[data-role=approx]").inner_text() == approx
        else:
            assert card.locator("[data-role=approx]").is_hidden()  # English: the amount only
        # The digits stay together on one line, in every card that shows an amount.
        size = _assert_one_line(page, "card-amount")
        _assert_one_line(page, "card-average_spend")
        assert size >= 12
        assert _fits(page)


# Every label the donut shows, its ring and its legend, as boxes in the chart's pixels.
_DONUT_BOXES = """(id) => {
    const chart = echarts.getInstanceByDom(document.getElementById(id));
    const box = (el) => {
        const r = el.getBoundingRect().clone();
        if (el.transform) r.applyTransform(el.transform);
        return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const legendView = chart.getViewOfComponentModel(chart.getModel().getComponent("legend"));
    const legendTexts = [];
    legendView.group.traverse((el) => {
        if (el.style && el.style.text) legendTexts.push(el.style.text);
    });
    const data = chart.getModel().getSeriesByIndex(0).getData();
    const labels = [];
    for (let i = 0; i < data.count(); i++) {
        const label = data.getItemGraphicEl(i).getTextContent();
        if (label && !label.ignore && !label.invisible && label.style.text) labels.push(box(label));
    }
    const ring = data.getItemLayout(0);
    return {
        legend: box(legendView.group),
        legendTexts,
        labels,
        ring: { x: ring.cx - ring.r, y: ring.cy - ring.r, width: 2 * ring.r, height: 2 * ring.r },
        width: chart.getWidth(),
        height: chart.getHeight(),
    };
}"""


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def _inside(a: dict, width: float, height: float) -> bool:
    return (
        a["x"] >= 0
        and a["y"] >= 0
        and a["x"] + a["width"] <= width
        and (a["y"] + a["height"] <= height)
    )


@pytest.mark.django_db(transaction=True)
def test_the_traveller_kind_donut_keeps_its_shares_clear_of_its_legend(
    live_server: Any, new_page: Any, tmp_path: Path
) -> None:
    start, end = _seed()
    english = ("Domestic departure  97.9%", "Outbound departure  1.6%", "Hainan residents  0.5%")
    chinese = ("离岛旅客  97.9%", "离境旅客  1.6%", "岛内居民  0.5%")
    for locale, viewport, kinds in (
        ("en-GB", PHONE, english),
        ("zh-CN", PHONE, chinese),
        ("en-GB", WIDE, english),
        ("zh-CN", WIDE, chinese),
    ):
        page = new_page(locale=locale, viewport=viewport)
        _log_in(page, live_server)
        # As in the demo: one kind nearly all of it (its label used to fall on the legend).
        _with_kinds(page, domestic="97920.00", outbound="1570.00", resident="510.00")
        _open(page, live_server, start, end)
        # The panel says what the donut measures.
        english = locale == "en-GB"
        title = page.locator("#title-kind").inner_text()
        assert title == ("Sales amount by traveller kind" if english else "各类旅客销售额占比")
        boxes = page.evaluate(_DONUT_BOXES, "chart-traveller_kind")
        # Each kind's share of the amount, exact from the fen, half-up to a tenth.
        assert sorted(boxes["legendTexts"]) == sorted(kinds), boxes
        for shape in (boxes["ring"], *boxes["labels"]):
            assert not _overlap(shape, boxes["legend"]), (viewport, boxes)
        for shape in (boxes["ring"], boxes["legend"], *boxes["labels"]):
            assert _inside(shape, boxes["width"], boxes["height"]), (viewport, boxes)
        # Pointing at a kind shows its share in the hole, still clear of the legend.
        page.evaluate(
            """(id) => echarts.getInstanceByDom(document.getElementById(id))
                .dispatchAction({type: 'highlight', seriesIndex: 0, dataIndex: 1})""",
            "chart-traveller_kind",
        )
        page.wait_for_timeout(400)  # the emphasis animation
        hovered = page.evaluate(_DONUT_BOXES, "chart-traveller_kind")
        for shape in hovered["labels"]:
            assert not _overlap(shape, hovered["legend"]), (viewport, hovered)
        name = f"donut-{locale}-{viewport['width']}.png"
        page.locator("#chart-traveller_kind").screenshot(path=str(tmp_path / name))


@pytest.mark.django_db(transaction=True)
def test_in_zero_config_mode_a_sale_reaches_the_dashboard_by_itself(
    live_server: Any, new_page: Any, settings: Any
) -> None:
    """`make run` (Celery eager, no beat): a sale shows on the next load, no refresh by hand."""
    settings.STATS_REFRESH_ON_COMMIT = True
    support.product("BD-LIP", "cosmetics", "380.00")
    page = new_page(locale="en-GB", viewport=WIDE)
    _log_in(page, live_server)
    today = timezone.localdate()
    start, end = (today - timedelta(days=1)).isoformat(), today.isoformat()
    page.goto(f"{live_server.url}/dashboard/?start={start}&end={end}")
    _wait_for_charts(page, ("day",))
    assert _day_amounts(page) == [0, 0]

    _sell(timezone.now(), ("BD-LIP", 2), store="SYA-HTB", serial=9, kind="domestic")

    page.reload()
    _wait_for_charts(page, ("day",))
    assert _day_amounts(page) == [0, 760]
    # Today is not over: the cards, which compare whole days, leave it out.
    page.get_by_test_id("card-amount").filter(has_text="¥").wait_for()
    assert page.get_by_test_id("card-amount").inner_text() == "¥0.00"


def _day_amounts(page: Any) -> list[float]:
    return page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-day')).getOption().series[0].data"
    )


# The store axis as drawn: every label's text, as ECharts laid it out (cut text ends in "…").
_STORE_LABELS = """() => {
    const chart = echarts.getInstanceByDom(document.getElementById("chart-store"));
    const axis = chart.getViewOfComponentModel(chart.getModel().getComponent("yAxis"));
    const texts = [];
    axis.group.traverse((el) => {
        if (el.type === "text" && el.style && el.style.text) texts.push(el.style.text);
    });
    return { data: chart.getOption().yAxis[0].data, texts };
}"""


@pytest.mark.django_db(transaction=True)
def test_every_store_is_named_in_full_words_and_the_headline_says_what_it_compares(
    live_server: Any, new_page: Any, tmp_path: Path
) -> None:
    """All twelve stores on the chart, in English at 1440 px: the labels are the short names,
    all distinct, none cut; the note beside the cards says they compare whole days."""
    support.product("BD-TEA", "tea", "50.00")
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    at = datetime.combine(yesterday, time(12), tzinfo=SHANGHAI)
    codes = list(Store.objects.order_by("code").values_list("code", flat=True))
    for serial, code in enumerate(codes, start=1):
        _sell(at, ("BD-TEA", serial), store=code, serial=serial, kind="domestic")
    rollups.refresh_all_dirty(now=timezone.now())
    start, end = yesterday.replace(day=1).isoformat(), today.isoformat()
    short = {s.code: s.names("en")[1] for s in Store.objects.all()}

    page = new_page(locale="en-GB", viewport=WIDE)
    _log_in(page, live_server)
    _open(page, live_server, start, end)

    labels = page.evaluate(_STORE_LABELS)
    assert sorted(labels["data"]) == sorted(short.values())
    assert len(set(labels["data"])) == len(codes) == 12
    assert sorted(labels["texts"]) == sorted(short.values()), labels  # each whole, one line
    assert not any("…" in text for text in labels["texts"])
    note = page.get_by_test_id("headline-note")
    assert note.is_visible()
    assert note.inner_text() == (
        f"Whole days to yesterday ({yesterday.replace(day=1)} – {yesterday}), compared with "
        "the same dates a year earlier."
    )
    page.locator("#chart-store").screenshot(path=str(tmp_path / "stores-en-1440.png"))

    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    _wait_for_charts(page)
    note = page.get_by_test_id("headline-note")
    assert note.is_visible()
    assert note.inner_text() == (
        f"截至昨日的完整天数（{yesterday.replace(day=1)} – {yesterday}），"
        "与上年同期（相同日期）比较。"
    )
    labels = page.evaluate(_STORE_LABELS)
    assert sorted(labels["data"]) == sorted(s.names("zh-hans")[1] for s in Store.objects.all())
    assert not any("…" in text for text in labels["texts"])


# --- The headline cards, one template for the five, and the tooltips under the CSP ---------------
CARDS = ("shopper_trips", "amount", "shoppers", "items", "average_spend")


def _shown(figure: str, value: Any) -> str:
    """A figure as dashboard.js shows it: money from its decimal string, counts grouped."""
    if value is None:
        return "—"
    if figure in {"amount", "average_spend"}:
        return f"¥{Decimal(value):,.2f}"
    return f"{value:,}"


def _growth(text: str | None) -> str:
    if text is None:
        return "—"
    if text.startswith("-"):
        return f"−{text[1:]}%"
    return f"{text}%" if Decimal(text) == 0 else f"+{text}%"


@pytest.mark.django_db(transaction=True)
def test_the_five_cards_show_their_figures_and_the_tooltips_obey_the_policy(
    live_server: Any, new_page: Any
) -> None:
    """Each card (one template for the five: templates/shops/_dashboard_card.html) shows its
    figure, last year's and the growth of the stats API's headline period. Pointing at each
    chart opens its tooltip, whose dots are coloured by class: the CSP allows no style
    attribute, and nothing on the page is refused."""
    start, _ = _seed()
    yesterday = timezone.localdate() - timedelta(days=1)
    totals = stats.sales_stats(start=date.fromisoformat(start), end=yesterday)["totals"]
    assert (totals["amount"], totals["previous_amount"]) == ("4260.00", "1140.00")
    page = new_page(locale="zh-CN", viewport=WIDE)
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, live_server)
    _open(page, live_server, start, yesterday.isoformat())

    for figure in CARDS:
        card = page.locator(f".card[data-figure={figure}]")
        assert card.count() == 1, figure
        assert card.get_by_test_id(f"card-{figure}").inner_text() == _shown(figure, totals[figure])
        previous = card.locator("[data-role=previous]").inner_text()
        assert previous == _shown(figure, totals[f"previous_{figure}"]), figure
        yoy = card.locator("[data-role=yoy]").inner_text()
        assert yoy == f"同比 {_growth(totals[f'{figure}_yoy_pct'])}", figure
    assert page.locator(".cards > .card").count() == 5
    assert page.get_by_test_id("card-shoppers").inner_text() == "2"

    dots = {"day": ("current", "previous"), "store": ("current", "previous")}
    dots["traveller_kind"] = ("kind-0", "previous")  # the donut's first kind, then last year
    for group, classes in dots.items():
        chart = page.locator(f"#chart-{group}")
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None
        # The day chart's middle, the store chart's top bar, the donut's hole (then rightwards).
        x, y = {
            "day": (0.5, 0.5),
            "store": (0.6, 0.3),
            "traveller_kind": (0.3, 0.5),
        }[group]
        left, top = box["x"] + box["width"] * x, box["y"] + box["height"] * y
        page.mouse.move(left, top)
        tooltip = chart.locator(".tooltip-dot").first
        if group == "traveller_kind":  # find the ring from the hole outwards
            for step in range(40):
                if tooltip.is_visible():
                    break
                page.mouse.move(left + step * 3, top)
                page.wait_for_timeout(50)
        tooltip.wait_for(state="visible")
        shown = chart.locator(".tooltip-dot").evaluate_all(
            "dots => dots.map(d => [d.className, getComputedStyle(d).backgroundColor])"
        )
        assert [name for name, _ in shown] == [f"tooltip-dot {c}" for c in classes], group
        assert shown[0][1] == "rgb(10, 110, 92)", group  # the current period's green
        assert shown[1][1] == "rgb(154, 160, 166)", group  # last year's grey
        page.mouse.move(0, 0)
    assert refused == []
    assert errors == []
