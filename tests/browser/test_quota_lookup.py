"""A shopper looks up the quota on a phone, in Chinese and in English, in a real browser."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from captcha.models import CaptchaStore
from django.utils import timezone
from PIL import Image

from shops.pos import returns
from shops.pos.checkout import sale_commit
from tests import support

NUMBER = support.resident_id(2468)
NAME = "王小明"


def _seed() -> list[str]:
    """Two sales on the open trip HU7181; their receipt numbers, newest first."""
    support.product("BR-LIP", "cosmetics", "380.00")
    support.product("BR-SET", "cosmetics", "2600.00", pieces=5)
    support.product("BR-WINE", "alcohol", "900.00", volume_ml=750)
    who = support.shopper(NUMBER, name=NAME)
    receipts = []
    for n, (store, lines) in enumerate(
        [("SYA-HTB", [("BR-LIP", 2), ("BR-SET", 1)]), ("SYA-AIR", [("BR-WINE", 1)])]
    ):
        terminal, _ = support.terminal(store)
        sale = sale_commit(
            terminal=terminal,
            idempotency_key=f"browser-{n}",
            fingerprint=f"browser-{n}",
            basket=support.basket(*lines, who=who),
            now=timezone.now(),
        ).sale
        receipts.insert(0, sale.receipt_no)
    return receipts


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
    assert "化妆品：剩余 23\xa0件，限 30\xa0件" in body  # two lipsticks and a set of five
    assert "酒类：剩余 750\xa0毫升，限 1500\xa0毫升" in body
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
    assert "23 of 30\xa0pieces left" in body
    assert "750 of 1500\xa0ml left" in body
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


# --- what a person reads: no country for a resident ID, receipt numbers, a readable CAPTCHA -----
def _answer(page: Any) -> str:
    """What a person reads off the CAPTCHA image (the test reads the stored answer)."""
    return CaptchaStore.objects.get(hashkey=page.input_value("input[name=captcha_0]")).response


def _csp_reports(page: Any) -> list[str]:
    reports: list[str] = []
    page.on(
        "console",
        lambda message: (
            reports.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return reports


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_a_resident_id_holder_is_not_asked_a_country_and_sees_the_receipt_numbers(
    live_server: Any, new_page: Any, javascript: bool
) -> None:
    receipts = _seed()
    page = new_page(locale="zh-CN", java_script_enabled=javascript)
    reports = _csp_reports(page)
    page.goto(f"{live_server.url}/quota/")
    country = page.locator("#id_country")

    assert page.get_by_label("证件类型").input_value() == "resident_id"
    assert country.count() == 1
    assert country.is_hidden()
    page.get_by_label("证件类型").select_option(label="护照")
    assert page.get_by_label("签发国家或地区代码").is_visible()  # asked for a passport
    page.get_by_label("证件类型").select_option(label="居民身份证")
    assert country.is_hidden()

    page.get_by_label("证件号码", exact=True).fill(NUMBER)
    page.get_by_label("证件上的姓名").fill(NAME)
    page.get_by_label("请填写计算结果").fill(_answer(page))
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_load_state()

    assert page.get_by_test_id("used").inner_text() == "¥4,260.00"
    assert page.get_by_test_id("receipt-no").all_inner_texts() == receipts
    for cell in page.get_by_test_id("receipt-no").all():
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0  # the whole number on the phone's screen
        assert box["x"] + box["width"] <= 390
    assert "小票号" in page.get_by_test_id("purchases").inner_text()
    assert _fits_the_phone(page)
    assert reports == []


@pytest.mark.django_db(transaction=True)
def test_the_refresh_link_changes_the_sum_and_keeps_what_was_typed(
    live_server: Any, new_page: Any
) -> None:
    receipts = _seed()
    page = new_page(locale="en-GB")
    reports = _csp_reports(page)
    page.goto(f"{live_server.url}/quota/")
    page.get_by_label("Document number").fill(NUMBER)
    page.get_by_label("Name as on the document").fill(NAME)
    page.get_by_label("Answer the sum").fill("7")
    old_key = page.input_value("input[name=captcha_0]")
    old_src = page.get_attribute("img.captcha", "src")

    page.get_by_role("link", name="Show another sum").click()
    page.wait_for_function(
        "old => document.querySelector('input[name=captcha_0]').value !== old", arg=old_key
    )
    page.wait_for_function(
        "() => { const i = document.querySelector('img.captcha');"
        " return i.complete && i.naturalWidth > 0; }"
    )

    new_key = page.input_value("input[name=captcha_0]")
    assert new_key != old_key
    assert page.get_attribute("img.captcha", "src") != old_src
    assert new_key in (page.get_attribute("img.captcha", "src") or "")
    assert page.url == f"{live_server.url}/quota/"  # no page load: nothing typed is lost
    assert page.get_by_label("Document number").input_value() == NUMBER
    assert page.get_by_label("Name as on the document").input_value() == NAME
    assert page.get_by_label("Answer the sum").input_value() == ""  # the old answer is void
    assert page.evaluate("document.activeElement.name") == "captcha_1"
    assert page.get_by_role("status").inner_text() == "A new sum is shown."

    page.get_by_label("Answer the sum").fill(_answer(page))
    page.get_by_role("button", name="Look up", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("receipt-no").all_inner_texts() == receipts
    assert reports == []


def _colour_at(png: bytes, share: float) -> tuple[int, int, int]:
    """The colour of a screenshot at ``share`` of its width, on its middle line."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.getpixel((int(image.width * share), image.height // 2))  # type: ignore[return-value]


def _near(colour: tuple[int, int, int], hex_colour: str) -> bool:
    want = bytes.fromhex(hex_colour.lstrip("#"))
    return all(abs(a - b) <= 12 for a, b in zip(colour, want, strict=True))


ACCENT, WARNING, DANGER, TRACK = "#0a6e5c", "#b06000", "#b3261e", "#e0e0e0"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_the_bar_is_a_meter_drawn_under_the_policy(
    live_server: Any, new_page: Any, locale: str
) -> None:
    """The share used is a <meter> the style sheet colours by its region (no style attribute,
    which the CSP refuses): ¥4,260 of ¥100,000 fills 4% of it in green; nearer the limit it
    turns amber, then red. Nothing on the page is refused by the policy."""
    _seed()
    page = new_page(locale=locale, viewport={"width": 1280, "height": 800})
    reports = _csp_reports(page)
    page.goto(f"{live_server.url}/quota/")
    _look_up(page)

    meter = page.get_by_role("meter")
    assert meter.count() == 1
    assert meter.evaluate("m => [m.tagName, m.min, m.max, m.low, m.high, m.optimum, m.value]") == [
        "METER", 0, 100, 80, 95, 0, 4,
    ]  # fmt: skip
    name = "年度额度已使用比例" if locale == "zh-CN" else "Share of the annual limit used"
    assert meter.get_attribute("aria-label") == name
    legend = page.locator("#bar-legend").inner_text()
    assert legend == ("已使用 4%" if locale == "zh-CN" else "4% used")
    box = meter.bounding_box()
    main = page.locator("section.result").bounding_box()
    assert box is not None
    assert main is not None
    assert box["width"] == pytest.approx(main["width"], abs=1)  # the whole width of the answer
    assert 12 <= box["height"] <= 16

    png = meter.screenshot()
    assert _near(_colour_at(png, 0.02), ACCENT), _colour_at(png, 0.02)  # within the 4%
    assert _near(_colour_at(png, 0.5), TRACK), _colour_at(png, 0.5)
    for value, colour in (("50", ACCENT), ("90", WARNING), ("100", DANGER)):
        meter.evaluate("(m, v) => m.setAttribute('value', v)", value)
        png = meter.screenshot()
        share = int(value) / 100
        assert _near(_colour_at(png, share - 0.03), colour), (value, _colour_at(png, share - 0.03))
        if share < 1:
            assert _near(_colour_at(png, share + 0.03), TRACK), value

    page.wait_for_load_state("networkidle")
    assert reports == []
    # The listener hears a refusal: a style attribute added now is one.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_timeout(300)
    assert any("style-src" in report for report in reports), reports


def _seed_everything() -> None:
    """_seed, plus a partly returned sale and a voided one (every row a shopper may see)."""
    _seed()
    who = support.shopper(NUMBER, name=NAME)
    terminal, _ = support.terminal("SYA-HTB")
    kept, voided = (
        sale_commit(
            terminal=terminal,
            idempotency_key=f"more-{n}",
            fingerprint=f"more-{n}",
            basket=support.basket(("BR-LIP", 2), who=who),
            now=timezone.now(),
        ).sale
        for n in range(2)
    )
    returns.sale_return(
        terminal=terminal,
        sale_id=kept.pk,
        idempotency_key="more-return",
        fingerprint="more-return",
        lines=[(kept.lines.get().pk, 1)],
        reason="",
        now=timezone.now(),
    )
    returns.sale_void(terminal=terminal, sale_id=voided.pk, now=timezone.now())
    # Taken away at once: a pair of sunglasses (the cap) and two packs of diapers (of three).
    support.product("BR-SUN", "eyewear", "1450.00", immediate_kind="sunglasses")
    support.product("BR-DIAPER", "diapers", "189.00", immediate_kind="diapers")
    sale_commit(
        terminal=terminal,
        idempotency_key="more-immediate",
        fingerprint="more-immediate",
        basket=support.basket(("BR-SUN", 1), ("BR-DIAPER", 2), who=who, pickup="immediate"),
        now=timezone.now(),
    )


# The unit words of the counters whose first line box is not the line of the number before.
UNITS_OFF_THEIR_NUMBER = """() => [...document.querySelectorAll(".limits .unit")].filter((unit) => {
  const before = unit.previousSibling;
  const range = document.createRange();
  range.setStart(before, before.length - 2);
  range.setEnd(before, before.length - 1);
  return Math.abs(range.getClientRects()[0].top - unit.getClientRects()[0].top) > 2;
}).map((unit) => unit.parentElement.textContent)"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [(390, 844), (1440, 900)], ids=["phone", "desktop"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_every_state_of_the_page_fits_and_reads(
    live_server: Any, new_page: Any, tmp_path: Path, size: tuple[int, int], locale: str
) -> None:
    """The empty form, a passport (country asked), an error, and a shopper found with
    purchases (one returned, one voided) and an open trip. Screenshots go to $QUOTA_SHOTS
    when set (the pull request's pictures), else to a temporary folder."""
    _seed_everything()
    shots = Path(os.environ.get("QUOTA_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    name = f"{locale[:2]}-{size[0]}"
    page = new_page(locale=locale, viewport={"width": size[0], "height": size[1]})
    reports = _csp_reports(page)

    def shot(state: str) -> None:
        assert _fits_the_phone(page), state  # no sideways scrolling, at either size
        page.screenshot(path=str(shots / f"{name}-{state}.png"), full_page=True)

    page.goto(f"{live_server.url}/quota/")
    image = page.locator("img.captcha")
    assert image.evaluate("i => i.complete && i.naturalWidth") == 280
    box = image.bounding_box()
    assert box is not None
    assert box["width"] >= min(280, size[0] - 40)  # shown at its size, not shrunk
    shot("1-empty")

    page.select_option("#id_doc_type", "passport")
    assert page.locator("#id_country").is_visible()
    shot("2-passport")

    page.select_option("#id_doc_type", "resident_id")
    page.fill("#id_number", NUMBER)
    page.fill("#id_name", NAME)
    page.fill("input[name=captcha_1]", "999")
    page.click("form.lookup button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".field-captcha .errors").is_visible()
    assert page.locator("#id_country").is_hidden()
    shot("3-error")

    _look_up(page)
    assert len(page.get_by_test_id("receipt-no").all()) == 5
    assert page.locator(".trip").count() == 1
    immediate = page.get_by_test_id("immediate-limits")
    assert immediate.locator("li").count() == 15
    counters = immediate.inner_text()
    if locale.startswith("zh"):
        assert "太阳眼镜：剩余 0\xa0副，限 1\xa0副" in counters
        assert "尿不湿：剩余 1\xa0包，限 3\xa0包" in counters
        assert "婴幼儿配方奶粉：剩余 3\xa0罐/包，限 3\xa0罐/包" in counters
        assert "（（" not in counters
        assert "）（" not in counters
    else:
        assert "Sunglasses: 0 of 1\xa0pair left" in counters
        assert "Diapers: 1 of 3\xa0packs left" in counters
        assert "(at most 1 of any one product)" in counters  # cosmetics
    # No count wraps away from its unit (the zh page once left "件）" alone on a line): each
    # unit word sits on the line of the number before it.
    assert page.evaluate(UNITS_OFF_THEIR_NUMBER) == []
    shot("4-found")
    assert reports == []
