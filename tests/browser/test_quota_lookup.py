"""A shopper looks up the quota on a phone, in Chinese and in English, in a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from captcha.models import CaptchaStore
from django.utils import timezone

from shops.checkout import sale_commit
from tests.shops import helpers

NUMBER = helpers.resident_id(2468)
NAME = "王小明"


def _seed() -> None:
    helpers.product("BR-LIP", "cosmetics", "380.00")
    helpers.product("BR-SET", "cosmetics", "2600.00", pieces=5)
    helpers.product("BR-WINE", "alcohol", "900.00", volume_ml=750)
    who = helpers.shopper(NUMBER, name=NAME)
    for n, (store, lines) in enumerate(
        [("SYA-HTB", [("BR-LIP", 2), ("BR-SET", 1)]), ("SYA-AIR", [("BR-WINE", 1)])]
    ):
        terminal, _ = helpers.terminal(store)
        sale_commit(
            terminal=terminal,
            idempotency_key=f"browser-{n}",
            fingerprint=f"browser-{n}",
            basket=helpers.basket(*lines, who=who),
            now=timezone.now(),
        )


def _look_up(page: Any, *, name: str = NAME) -> None:
    page.select_option("#id_doc_type", "resident_id")
    page.fill("#id_number", NUMBER)
    page.fill("#id_name", name)
    key = page.input_value("input[name=captcha_0]")
    assert page.locator("img.captcha").is_visible()
    page.fill("input[name=captcha_1]", CaptchaStore.objects.get(hashkey=key).response)
    page.click("form.lookup button[type=submit]")
    page.wait_for_load_state()


def _fits_the_phone(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.django_db(transaction=True)
def test_a_shopper_looks_up_the_quota_in_chinese_then_english(
    live_server: Any, new_page: Any, tmp_path: Path
) -> None:
    _seed()
    page = new_page(locale="zh-CN")
    page.goto(f"{live_server.url}/quota/")
    assert page.locator("h1").inner_text() == "我的免税额度"
    assert _fits_the_phone(page)

    _look_up(page)

    assert page.get_by_test_id("limit").inner_text() == "¥100,000.00"
    assert page.get_by_test_id("used").inner_text() == "¥4,260.00"  # 760 + 2,600 + 900
    assert page.get_by_test_id("remaining").inner_text() == "¥95,740.00"
    body = page.locator("main").inner_text()
    assert "****2468" in body
    assert NUMBER not in page.content()
    assert "化妆品: 剩余 23 件（限 30 件）" in body  # two lipsticks and a set of five
    assert "酒类: 剩余 750 毫升（限 1500 毫升）" in body
    assert body.count("已完成") == 2
    assert _fits_the_phone(page)
    shot = tmp_path / "quota-zh.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "My duty-free quota"
    _look_up(page)

    assert page.get_by_test_id("remaining").inner_text() == "¥95,740.00"
    body = page.locator("main").inner_text()
    assert "quota for document ****2468" in body
    assert "23 of 30 pieces left" in body
    assert "750 of 1500 ml left" in body
    assert "Purchases this year" in body
    assert "Completed" in body
    shot = tmp_path / "quota-en.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


@pytest.mark.django_db(transaction=True)
def test_an_english_browser_gets_english_and_a_wrong_name_shows_nothing_bought(
    live_server: Any, new_page: Any
) -> None:
    _seed()
    page = new_page(locale="en-GB")
    page.goto(f"{live_server.url}/quota/")
    assert page.locator("h1").inner_text() == "My duty-free quota"

    _look_up(page, name="Somebody Else")

    assert page.get_by_test_id("used").inner_text() == "¥0.00"
    assert "No purchases recorded this year." in page.locator("main").inner_text()
