"""The policy admin in a real browser, under the site's Content-Security-Policy (which blocks
inline scripts, so the admin's own widgets must still work): the policies list fits a 1366 px
screen, and the publish form's calendar and clock pickers work and fill in the format they
show."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from quotas import services
from quotas.models import Policy

SMALL_LAPTOP = {"width": 1366, "height": 768}


def _log_in(page: Any, live_server: Any) -> None:
    user = get_user_model().objects.create_superuser("policy_admin_bo", "bo@example.com", None)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _watch(page: Any) -> list[str]:
    """Script errors and CSP refusals seen by the page."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "favicon" not in message.text
            else None
        ),
    )
    return problems


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_policies_list_fits_1366_px(live_server: Any, new_page: Any, locale: str) -> None:
    services.policy_clone(policy=Policy.objects.get(effective_from__year=2025))
    page = new_page(locale=locale, viewport=SMALL_LAPTOP)
    _log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/quotas/policy/")

    widths = page.evaluate(
        """() => {
            const results = document.querySelector('#changelist .results');
            return [results.scrollWidth, results.clientWidth,
                    document.documentElement.scrollWidth, window.innerWidth];
        }"""
    )
    assert widths[0] <= widths[1], f"the table scrolls sideways: {widths}"
    assert widths[2] <= widths[3], f"the page scrolls sideways: {widths}"
    headers = page.locator("#result_list thead th").all_inner_texts()
    assert len(headers) == 7  # checkbox, name, status, effective, in force, categories, unverified
    for column in page.locator("#result_list thead th").all():
        box = column.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= SMALL_LAPTOP["width"], column.inner_text()


@pytest.mark.parametrize(
    ("locale", "today_button", "now_button"), [("zh-CN", "今天", "现在"), ("en-US", "Today", "Now")]
)
def test_the_publish_pickers_fill_in_the_date_and_time(
    live_server: Any, new_page: Any, locale: str, today_button: str, now_button: str
) -> None:
    draft = services.policy_clone(policy=Policy.objects.get(effective_from__year=2025))
    page = new_page(locale=locale, viewport={"width": 1440, "height": 900})
    problems = _watch(page)
    _log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/quotas/policy/{draft.pk}/publish/")

    date_field = page.locator("#id_effective_from_0")
    time_field = page.locator("#id_effective_from_1")
    hint = date_field.get_attribute("placeholder")
    assert hint in {"YYYY/MM/DD", "YYYY-MM-DD"}
    # Each language's first input format: what the pickers fill in (zh-hans: 14:30; en: 14:30:00).
    assert time_field.get_attribute("placeholder") == ("HH:mm" if locale == "zh-CN" else "HH:mm:ss")
    # The calendar opens on its icon, and a day picked in it lands in the field.
    page.locator(".datetimeshortcuts .date-icon").first.click()
    calendar = page.locator(".calendarbox").first
    assert calendar.is_visible()
    calendar.locator("td.today a").click()
    today = timezone.localdate()
    separator = "/" if "/" in hint else "-"
    assert date_field.input_value() == today.strftime(f"%Y{separator}%m{separator}%d")
    # The shortcuts work too: Today, and the clock's Now.
    date_field.fill("")
    page.get_by_role("link", name=today_button, exact=True).click()
    assert date_field.input_value() == today.strftime(f"%Y{separator}%m{separator}%d")
    page.get_by_role("link", name=now_button, exact=True).click()
    assert len(time_field.input_value()) >= 5
    page.locator(".datetimeshortcuts .clock-icon").first.click()
    assert page.locator(".clockbox").first.is_visible()

    assert problems == []


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
@pytest.mark.parametrize(
    ("size", "path"),
    [
        ((1440, 900), "change/"),
        ((390, 844), "history/"),
        ((390, 844), "import-immediate-kinds/"),
    ],
    ids=["draft-1440", "history-390", "kinds-import-390"],
)
def test_a_drafts_pages_with_the_kinds_do_not_scroll_sideways(
    live_server: Any, new_page: Any, locale: str, size: tuple[int, int], path: str
) -> None:
    """The kinds' inline (eleven editable columns) on a draft at 1440 px; the history's
    tables and the kinds import's column list on a phone."""
    draft = services.policy_clone(policy=Policy.objects.get(effective_from__year=2025))
    page = new_page(locale=locale, viewport={"width": size[0], "height": size[1]})
    problems = _watch(page)
    _log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/quotas/policy/{draft.pk}/{path}")

    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    assert problems == []


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_a_shipped_policys_history_does_not_scroll_sideways(
    live_server: Any, new_page: Any, locale: str
) -> None:
    """The shipped version's history holds the longest reasons the data migrations wrote (the
    immediate-pickup list, the confirmed facts with the file that lists them): on a phone."""
    policy = Policy.objects.get(effective_from__year=2025, status="published")
    page = new_page(locale=locale, viewport={"width": 390, "height": 844})
    problems = _watch(page)
    _log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/quotas/policy/{policy.pk}/history/")

    assert page.get_by_text("confirmations.json").count() >= 1
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    assert problems == []


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_a_drafts_tools_sit_clear_of_its_headings(
    live_server: Any, new_page: Any, locale: str
) -> None:
    """Eight tools on a draft's page: in a row of their own, not over the page's headings."""
    draft = services.policy_clone(policy=Policy.objects.get(effective_from__year=2025))
    page = new_page(locale=locale, viewport={"width": 1440, "height": 900})
    _log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/quotas/policy/{draft.pk}/change/")

    tools = page.locator("#content-main > .object-tools li")
    assert tools.count() == 8
    headings = [page.locator("#content > h1"), page.locator("#content > h2")]
    boxes = [heading.bounding_box() for heading in headings]
    assert all(boxes)
    for tool in tools.all():
        box = tool.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 1440, tool.inner_text()
        for heading, heading_box in zip(headings, boxes, strict=True):
            assert not _overlap(box, heading_box), (tool.inner_text(), heading.inner_text())
    # The heading and the title name the version; its status is said once, on the page.
    name = draft.name_en if locale.startswith("en") else draft.name_zh  # the page's language
    assert page.locator("#content > h2").inner_text() == name
    assert page.title().startswith(f"{name} | ")
    assert "draft" not in page.title()


# Lines of text an element holds: its text boxes' distinct bottoms.
LINES = """(element) => {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    const bottoms = new Set();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const box of range.getClientRects()) {
            if (box.width > 0) bottoms.add(Math.round(box.bottom));
        }
    }
    return bottoms.size;
}"""


@pytest.mark.parametrize(
    ("path", "table", "label"),
    [
        ("policy/{pk}/change/", "#categories-group table", ""),
        ("category/", "#result_list", " .text"),  # the list's sort marks sit above the label
    ],
    ids=["inline", "list"],
)
def test_the_category_columns_read_in_chinese_at_1440_px(
    live_server: Any, new_page: Any, path: str, table: str, label: str
) -> None:
    """Headings on one line (即购即提 no longer one character a line), Chinese names on one or
    two, English names mostly so, and still no sideways scrolling."""
    published = Policy.objects.get(effective_from__year=2025)
    page = new_page(locale="zh-CN", viewport={"width": 1440, "height": 900})
    _log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/quotas/{path.format(pk=published.pk)}")

    immediate = page.locator(f"{table} thead th", has_text="即购即提")
    assert immediate.evaluate(LINES) == 1
    assert page.locator(f"{table} thead th.column-number{label}").evaluate(LINES) == 1  # 序号
    zh = [cell.evaluate(LINES) for cell in page.locator(f"{table} td.field-name_zh").all()]
    en = [cell.evaluate(LINES) for cell in page.locator(f"{table} td.field-name_en").all()]
    assert len(zh) >= 47
    assert max(zh) <= 2, zh
    assert sum(lines <= 2 for lines in en) >= 0.85 * len(en), en
    widths = page.evaluate(
        """(table) => {
            const box = document.querySelector(table).parentElement;
            return [box.scrollWidth, box.clientWidth,
                    document.documentElement.scrollWidth, window.innerWidth];
        }""",
        table,
    )
    assert widths[0] <= widths[1], f"the table scrolls sideways: {widths}"
    assert widths[2] <= widths[3], f"the page scrolls sideways: {widths}"
