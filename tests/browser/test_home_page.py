"""The home page in a real browser, in both languages, on a phone and a laptop: a link to each
page, nothing refused by the CSP, the site's icon loaded; and the admin and the dashboard
linking each other."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
TEXTS = {
    "zh-CN": ("海南离岛免税", ["我的免税额度", "收银界面", "销售看板", "管理后台", "API 文档"]),
    "en-US": ("Hainan offshore duty-free", ["My duty-free quota", "Cashier screen",
                                            "Sales dashboard", "Administration",
                                            "API documentation"]),
}  # fmt: skip


def _problems(page: Any) -> list[str]:
    """Script errors, CSP refusals and failed requests (a missing icon among them)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script: {error}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1440", "390"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_home_page_links_every_page(
    live_server: Any, new_page: Any, locale: str, viewport: dict[str, int]
) -> None:
    page = new_page(locale=locale, viewport=viewport)
    problems = _problems(page)

    response = page.goto(f"{live_server.url}/")

    assert response is not None
    assert response.status == 200
    heading, names = TEXTS[locale]
    assert page.locator("main h1").inner_text() == heading
    cards = page.locator("ul.destinations a")
    assert [card.locator("strong").inner_text() for card in cards.all()] == names
    assert [card.get_attribute("href") for card in cards.all()] == [
        "/quota/", "/pos/", "/dashboard/", "/admin/", "/api/docs/",
    ]  # fmt: skip
    for card in cards.all():
        assert card.is_visible()
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    # The icons the page links load (/favicon.ico among them, which browsers ask for anyway).
    icons = page.evaluate(
        """() => Promise.all([...document.querySelectorAll('link[rel=icon]')].map(
            (link) => fetch(link.href).then((r) => [r.status, r.headers.get('content-type')])))"""
    )
    assert len(icons) == 2
    for status, kind in icons:
        assert (status, kind.split("/")[0]) == (200, "image")
    page.wait_for_load_state("networkidle")
    assert problems == []


def test_the_language_switch_turns_the_home_page_english(live_server: Any, new_page: Any) -> None:
    page = new_page(locale="zh-CN", viewport=LAPTOP)
    page.goto(f"{live_server.url}/")
    assert page.locator("main h1").inner_text() == "海南离岛免税"

    page.get_by_role("button", name="English").click()

    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("main h1").inner_text() == "Hainan offshore duty-free"
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_admin_and_the_dashboard_link_each_other(live_server: Any, new_page: Any) -> None:
    user = get_user_model().objects.create_superuser("desk_lee", "lee@example.com", None)
    client = Client()
    client.force_login(user)
    page = new_page(locale="zh-CN", viewport=LAPTOP)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/admin/")

    page.locator("#user-tools").get_by_role("link", name="销售看板").click()

    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.locator("header.site").get_by_role("link", name="管理后台").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    page.locator("#user-tools").get_by_role("link", name="查看站点").click()
    page.wait_for_url(f"{live_server.url}/")
