"""The cashier screen (/pos/) in Debian's Chromium: a whole sale by keyboard alone, a refused
basket with each violation on its line, a commit whose answer is lost and one interrupted by a
reload (one sale each), returns and voids, the X report, the print view in both languages, and
a screen reader's names for every control.

``SHOTS_DIR=/some/folder`` keeps a screenshot of each screen for a person to look at.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from django.utils import timezone

from quotas.models import QuotaAccount, Trip
from quotas.rules import LOCAL_TZ
from shops.models import Sale, SaleStatus, Terminal, TillSession
from tests import support

NUMBER = "460100199001011230"  # born 1990-01-01, check digit 0
DESKTOP = {"width": 1024, "height": 768}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
DEPARTS = (
    (timezone.now() + timedelta(days=3))
    .astimezone(LOCAL_TZ)
    .replace(hour=10, minute=30, second=0, microsecond=0)
)


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"till-{name}.png"), full_page=True)


def stock() -> None:
    support.product("TL-LIP", "cosmetics", "320.00", immediate_kind="cosmetics")
    support.product("TL-PHONE", "mobile_phones", "8999.00")
    support.product("TL-WINE", "alcohol", "1200.00", volume_ml=750)


def watch(page: Any) -> list[str]:
    """What goes wrong in the page: script errors and console errors (a CSP refusal is one).
    An API answer of 4xx, which Chromium also logs, is the till's business, not an error."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", console)
    return problems


def sign_in(page: Any, url: str, key: str) -> None:
    page.goto(f"{url}/pos/")
    page.fill("#id_key", key)
    page.keyboard.press("Enter")
    page.wait_for_url("**/pos/", wait_until="domcontentloaded")
    ready(page)


class Till(NamedTuple):
    page: Any
    terminal: Terminal
    problems: list[str]  # the page's script and console errors (see ``watch``)


def open_till(
    new_page: Any, live_server: Any, *, locale: str, viewport: dict[str, int] = DESKTOP
) -> Till:
    """A terminal of its own, signed in on a fresh page that is watched for errors."""
    terminal, key = support.terminal()
    page = new_page(locale=locale, viewport=viewport)
    problems = watch(page)
    sign_in(page, live_server.url, key)
    return Till(page, terminal, problems)


def ready(page: Any) -> None:
    """The modules started: the verdict says something."""
    page.locator("#verdict-status:not(:empty)").wait_for(state="attached")


def scan(page: Any, code: str) -> None:
    page.keyboard.press("F2")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#basket tr.line[data-sku='{code}']")


def shopper_and_trip(page: Any, *, number: str = NUMBER, name: str = "张三") -> None:
    page.fill("#doc-number", number)
    page.fill("#shopper-name", name)
    page.fill("#carrier", "HU7181")
    page.fill("#departs-at", DEPARTS.strftime("%Y-%m-%dT%H:%M"))


def verdict(page: Any, kind: str) -> None:
    page.locator(f"#verdict-status.{kind}").wait_for()


def find(page: Any, receipt: str) -> None:
    """F8, then the receipt's number as a scanner types the code it reads, and Enter."""
    page.keyboard.press("F8")
    page.keyboard.type(receipt)
    page.keyboard.press("Enter")
    page.wait_for_selector("#do-reprint")


def receipt_shown(page: Any) -> str:
    page.wait_for_selector("#view-receipt:not([hidden]) [data-testid=receipt-no]")
    return page.inner_text("[data-testid=receipt-no]")


@pytest.mark.usefixtures("transactional_db")
class TestSale:
    def test_a_whole_sale_by_keyboard_alone(self, live_server: Any, new_page: Any) -> None:
        stock()
        _, key = support.terminal()
        page = new_page(locale="zh-CN", viewport=DESKTOP)
        problems = watch(page)
        page.goto(f"{live_server.url}/pos/")
        page.locator("#id_key:focus").wait_for()  # the key field has the focus
        page.keyboard.type(key)
        page.keyboard.press("Enter")
        page.wait_for_url("**/pos/", wait_until="domcontentloaded")
        ready(page)
        # The key is gone from the browser: not in its storage, its script-visible cookies, the
        # page, or the history; the session cookie is HttpOnly.
        kept = page.evaluate(
            "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
            " document.cookie, document.documentElement.outerHTML, location.href])"
        )
        assert key not in kept
        (session,) = [c for c in page.context.cookies() if c["value"] and "till" in c["name"]]
        assert session["httpOnly"]
        assert key not in session["value"]
        assert page.evaluate("document.activeElement.id") == "scan"
        scan(page, "TL-LIP")
        page.keyboard.type("+")  # the empty scan field drives the chosen line
        assert page.inner_text("#basket tr.line[data-sku='TL-LIP'] output") == "2"
        page.keyboard.press("F4")  # the document type
        page.keyboard.press("Tab")
        page.keyboard.type(NUMBER)
        page.keyboard.press("Tab")
        page.keyboard.type("张三")
        assert page.input_value("#birth-date") == "1990-01-01"  # read off the number
        assert "1990-01-01" in page.inner_text("#doc-number-note")
        page.keyboard.press("F6")
        page.keyboard.type("HU7181")
        page.keyboard.press("Tab")
        # Headless Chromium edits the field in its own (en-US) order: month, day, year (six
        # digits may follow: the right arrow ends it), then a 12-hour time. 10:30 in the morning.
        page.keyboard.type(DEPARTS.strftime("%m%d%Y"))
        page.keyboard.press("ArrowRight")
        page.keyboard.type(DEPARTS.strftime("%I%M") + "A")
        assert page.input_value("#departs-at") == DEPARTS.strftime("%Y-%m-%dT%H:%M")
        page.keyboard.press("F7")
        assert page.evaluate("document.activeElement.id") == "pickup-departure"
        verdict(page, "ok")
        assert page.inner_text("[data-testid=quota-after]") == "¥99,360.00"
        shot(page, "sale-zh")
        page.keyboard.press("F9")
        receipt = receipt_shown(page)
        sale = Sale.objects.get()
        assert sale.receipt_no == receipt
        assert sale.total == 640
        assert page.locator("#receipt .qr svg path").count() == 1
        assert "99,360.00" in page.inner_text("[data-testid=receipt-quota]")
        page.locator("[data-testid=receipt-customs]", has_text="未配置海关通道").wait_for()
        shot(page, "receipt-zh")
        page.keyboard.press("Enter")  # the next sale
        page.wait_for_selector("#view-sale:not([hidden])")
        assert page.evaluate("document.activeElement.id") == "scan"
        assert page.locator("#basket tr.line").count() == 0
        assert problems == []

    def test_a_refused_basket_shows_each_violation_on_its_line(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page, _, problems = open_till(new_page, live_server, locale="en-US")
        for code in ("TL-LIP", "TL-PHONE", "TL-WINE"):
            scan(page, code)
        page.click("#basket tr.line[data-sku='TL-PHONE'] button[aria-label^='One more']")
        for _ in range(4):
            page.click("#basket tr.line[data-sku='TL-PHONE'] button[aria-label^='One more']")
        for _ in range(2):  # 3 × 750 ml: over the 1,500 ml a trip allows
            page.click("#basket tr.line[data-sku='TL-WINE'] button[aria-label^='One more']")
        shopper_and_trip(page)
        verdict(page, "bad")
        phone = page.locator("tr.line-violations[data-sku='TL-PHONE']")
        wine = page.locator("tr.line-violations[data-sku='TL-WINE']")
        assert "phone" in phone.inner_text().lower()
        assert "1500" in wine.inner_text().replace(",", "")
        assert page.locator("tr.line-violations[data-sku='TL-LIP']").count() == 0
        assert page.locator("#basket tr.line.refused").count() == 2
        # Pickup: a mode the policy does not allow for this shopper says why.
        reason = page.inner_text("#pickup-return_to_island-reason")
        assert "Hainan residents" in reason
        assert page.locator("#pickup-return_to_island").is_disabled()  # offered: what is allowed
        assert page.locator("#pickup-departure").is_enabled()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "refused-en")
        page.keyboard.press("F9")  # the server judges it too: refused, nothing written
        page.locator("#commit-status.bad").wait_for()
        assert Sale.objects.count() == 0
        assert problems == []

    def test_the_counters_count_this_trip_and_immediate_pickup(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page, terminal, problems = open_till(new_page, live_server, locale="zh-CN")
        # Earlier on this trip, at the same store: three lipsticks for pickup at departure.
        support.sell(terminal, ("TL-LIP", 3), departs_at=DEPARTS)
        scan(page, "TL-LIP")
        shopper_and_trip(page)
        verdict(page, "ok")
        cells = page.locator("#trip-limits tr[data-key='cosmetics'] td")
        assert cells.all_inner_texts() == ["30 件", "3", "1", "26"]  # limit, bought, basket, left
        alcohol = page.locator("#trip-limits tr[data-key='alcohol'] td")
        assert alcohol.all_inner_texts() == ["1,500 毫升", "0", "0", "1,500"]
        assert page.locator("#immediate-limits").is_hidden()  # not asked for
        page.keyboard.press("F7")
        page.check("#pickup-immediate")
        page.locator("#immediate-limits:not([hidden])").wait_for()
        # The kinds this basket holds (or this departure took) only, not all fifteen.
        rows = page.locator("#immediate-limits tbody tr")
        assert rows.count() == 1
        assert rows.first.locator("td").all_inner_texts() == ["5 件", "0", "1", "4"]
        page.keyboard.press("F2")
        page.keyboard.type("+")  # a second of the same lipstick: one per variety at once
        verdict(page, "bad")
        assert "TL-LIP" in page.inner_text("tr.line-violations[data-sku='TL-LIP']")
        assert rows.first.locator("td").all_inner_texts() == ["5 件", "0", "2", "3"]
        shot(page, "counters-zh")
        assert problems == []

    def test_search_by_name_with_the_keyboard(self, live_server: Any, new_page: Any) -> None:
        support.product("TL-SERUM", "cosmetics", "1080.00")
        page = open_till(new_page, live_server, locale="zh-CN").page
        page.keyboard.press("F3")
        page.keyboard.type("serum")
        page.keyboard.press("Enter")
        page.locator("#search-results button").first.wait_for()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_selector("#basket tr.line[data-sku='TL-SERUM']")
        assert page.evaluate("document.activeElement.id") == "scan"

    def test_unknown_codes_are_told_at_once(self, live_server: Any, new_page: Any) -> None:
        page = open_till(new_page, live_server, locale="zh-CN").page
        page.keyboard.press("F2")
        page.keyboard.type("NO-SUCH-SKU")
        page.keyboard.press("Enter")
        page.locator("#scan-message:not(:empty)").wait_for()
        assert "未知编码 NO-SUCH-SKU" in page.inner_text("#scan-message")
        assert page.locator("#basket tr.line").count() == 0


@pytest.mark.usefixtures("transactional_db")
class TestExactlyOnce:
    def test_a_lost_answer_is_asked_again_and_shows_the_same_sale(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page = open_till(new_page, live_server, locale="en-US").page
        scan(page, "TL-LIP")
        shopper_and_trip(page)
        verdict(page, "ok")
        lost: list[dict[str, Any]] = []

        keys: list[str] = []

        def lose_the_first_answer(route: Any) -> None:
            if route.request.method == "POST":
                keys.append(route.request.headers["idempotency-key"])
            if route.request.method != "POST" or lost:
                route.continue_()
                return
            lost.append(route.fetch().json())  # the server committed the sale...
            route.abort("connectionreset")  # ...and the browser sees a network error

        page.route("**/api/v1/sales", lose_the_first_answer)
        page.keyboard.press("F9")
        page.locator("#commit-status.unknown").wait_for()
        assert "not known" in page.inner_text("#commit-status")
        receipt = receipt_shown(page)
        assert receipt == lost[0]["receipt_no"]
        assert "already been recorded" in page.inner_text("#receipt-note")
        assert Sale.objects.count() == 1
        assert len(keys) == 2
        assert keys[0] == keys[1]  # the same key (and bytes) asked again

    def test_a_reload_while_the_outcome_is_unknown_sends_the_same_sale(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page = open_till(new_page, live_server, locale="zh-CN").page
        scan(page, "TL-LIP")
        shopper_and_trip(page)
        verdict(page, "ok")
        lost: list[dict[str, Any]] = []

        def lose(route: Any) -> None:
            if route.request.method == "POST" and not lost:
                lost.append(route.fetch().json())
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/api/v1/sales", lose)
        page.keyboard.press("F9")
        page.locator("#commit-status.unknown").wait_for()
        page.reload()  # mid-commit: the tab keeps the basket, its key and the bytes sent
        receipt = receipt_shown(page)
        assert receipt == lost[0]["receipt_no"]
        assert Sale.objects.count() == 1
        # The basket the sale confirmed is gone: a reload now starts empty.
        page.keyboard.press("Enter")
        page.reload()
        ready(page)
        assert page.locator("#basket tr.line").count() == 0

    def test_no_sign_out_while_a_sales_outcome_is_unknown(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page = open_till(new_page, live_server, locale="en-US").page
        scan(page, "TL-LIP")
        shopper_and_trip(page)
        verdict(page, "ok")
        page.route("**/api/v1/sales", lambda route: route.abort("connectionreset"))
        page.keyboard.press("F9")
        page.locator("#commit-status.unknown").wait_for()
        page.click("#sign-out button")
        page.locator("#commit-status", has_text="Not signed out").wait_for()
        assert page.locator("#scan").count() == 1  # still the till, the sale still pending
        page.unroute("**/api/v1/sales")
        receipt_shown(page)
        assert Sale.objects.count() == 1
        page.keyboard.press("Enter")
        page.click("#sign-out button")
        page.wait_for_selector("#id_key")

    def test_another_terminal_signed_in_meanwhile_never_sends_the_pending_sale(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        _, first = support.terminal()
        _, second = support.terminal()
        page = new_page(locale="en-US", viewport=DESKTOP)
        sign_in(page, live_server.url, first)
        scan(page, "TL-LIP")
        shopper_and_trip(page)
        verdict(page, "ok")
        lost: list[dict[str, Any]] = []

        def lose_every_answer(route: Any) -> None:
            if route.request.method == "POST" and not lost:
                lost.append(route.fetch().json())
            route.abort("connectionreset")

        page.route("**/api/v1/sales", lose_every_answer)
        page.keyboard.press("F9")
        page.locator("#commit-status.unknown").wait_for()
        TillSession.objects.all().delete()  # the shift ends while the outcome is unknown
        page.unroute("**/api/v1/sales")
        page.wait_for_selector("#id_key")  # the next attempt is told 401: the sign-in
        sign_in(page, live_server.url, second)
        page.wait_for_timeout(2500)  # long enough for a retry, had it been sent
        assert page.locator("#basket tr.line").count() == 0
        assert Sale.objects.count() == 1
        page.click("#sign-out button")
        sign_in(page, live_server.url, first)  # its own terminal asks again: the same sale
        assert receipt_shown(page) == lost[0]["receipt_no"]
        assert Sale.objects.count() == 1

    def test_a_double_press_makes_one_sale(self, live_server: Any, new_page: Any) -> None:
        stock()
        page = open_till(new_page, live_server, locale="zh-CN").page
        scan(page, "TL-LIP")
        shopper_and_trip(page)
        verdict(page, "ok")
        page.keyboard.press("F9")
        page.keyboard.press("F9")
        page.evaluate("document.getElementById('commit').click()")
        receipt_shown(page)
        assert Sale.objects.count() == 1


def _sold(terminal: Any, *lines: tuple[str, int], number: int) -> Sale:
    return support.sell(terminal, *lines, number=number).sale


@pytest.mark.usefixtures("transactional_db")
class TestAfterTheSale:
    def test_a_return_and_a_void_each_confirmed(self, live_server: Any, new_page: Any) -> None:
        stock()
        page, terminal, problems = open_till(new_page, live_server, locale="en-US")
        kept = _sold(terminal, ("TL-LIP", 2), number=11)
        voided = _sold(terminal, ("TL-WINE", 1), number=12)
        page.keyboard.press("F8")
        page.wait_for_selector(f"#today button[data-receipt='{kept.receipt_no}']")
        find(page, kept.receipt_no)
        page.wait_for_selector("#do-return")
        page.fill("input.return-qty", "1")
        page.click("#do-return")
        page.wait_for_selector("dialog#confirm[open]")
        shot(page, "return-confirm-en")
        page.keyboard.press("Enter")
        page.locator("#action-message.ok").wait_for()
        line = kept.lines.get()
        line.refresh_from_db()
        assert line.returned_quantity == 1

        page.click(f"#today button[data-receipt='{voided.receipt_no}']")
        page.wait_for_selector("#do-void")
        page.click("#do-void")
        page.wait_for_selector("dialog#confirm[open]")
        page.keyboard.press("Escape")  # cancelled: nothing happens
        voided.refresh_from_db()
        assert voided.status == SaleStatus.COMPLETED
        page.click("#do-void")
        page.keyboard.press("Enter")
        page.locator("#action-message.ok").wait_for()
        voided.refresh_from_db()
        assert voided.status == SaleStatus.VOIDED
        shot(page, "voided-en")
        assert problems == []

    def test_a_pickup_and_a_departure_each_confirmed(self, live_server: Any, new_page: Any) -> None:
        stock()
        page, terminal, _ = open_till(new_page, live_server, locale="zh-CN")
        sold = support.sell(terminal, ("TL-LIP", 1), number=13, pickup="immediate").sale
        find(page, sold.receipt_no)
        page.click("#do-pickup")
        page.wait_for_selector("dialog#confirm[open]")
        page.keyboard.press("Enter")
        page.locator("#action-message.ok").wait_for()
        sold.refresh_from_db()
        assert sold.picked_up_at is not None
        assert page.locator("#do-void").count() == 0  # picked up: no longer voidable

        page.fill("#dep-number", support.resident_id(13))
        page.fill("#dep-carrier", "HU7181")
        page.fill("#dep-at", (timezone.now().astimezone(LOCAL_TZ)).strftime("%Y-%m-%dT%H:%M"))
        page.click("#departure-form button[type=submit]")
        page.wait_for_selector("dialog#confirm[open]")
        assert "HU7181" in page.inner_text("#confirm-body")
        page.keyboard.press("Enter")
        page.locator("#departure-message", has_text="离岛已登记").wait_for()
        # Stored, but it closed no trip (the shopper's leaves in three days): said, not in green.
        assert "未关闭任何行程" in page.inner_text("#departure-message")
        assert "ok" not in page.get_attribute("#departure-message", "class")
        assert Trip.objects.filter(departed_at__isnull=False).count() == 1
        shot(page, "departure-zh")

    def test_a_refusal_of_an_action_is_its_outcome_not_a_retry(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page, terminal, _ = open_till(new_page, live_server, locale="en-US")
        sold = support.sell(terminal, ("TL-LIP", 1), number=14, pickup="mail").sale
        find(page, sold.receipt_no)
        page.click("#do-pickup")
        page.keyboard.press("Enter")
        page.locator("#action-message.bad").wait_for()  # 409 pickup_too_early: told, once
        assert page.evaluate("document.activeElement.id") == "action-message"
        sold.refresh_from_db()
        assert sold.picked_up_at is None
        page.click("#sign-out button")  # nothing is pending
        page.wait_for_selector("#id_key")

    def test_no_second_action_while_one_is_unknown(self, live_server: Any, new_page: Any) -> None:
        stock()
        page, terminal, _ = open_till(new_page, live_server, locale="en-US")
        sold = support.sell(terminal, ("TL-LIP", 3), number=15).sale
        find(page, sold.receipt_no)
        page.route("**/returns", lambda route: route.abort("connectionreset"))
        page.fill("input.return-qty", "1")
        page.click("#do-return")
        page.keyboard.press("Enter")
        page.locator("#action-message.unknown").wait_for()
        assert page.locator("#do-return").is_disabled()
        assert page.locator("#do-void").is_disabled()
        page.unroute("**/returns")
        page.locator("#action-message.ok").wait_for()
        line = sold.lines.get()
        line.refresh_from_db()
        assert line.returned_quantity == 1

    def test_the_x_report_adds_up_the_terminals_day(self, live_server: Any, new_page: Any) -> None:
        stock()
        page, terminal, _ = open_till(new_page, live_server, locale="zh-CN")
        _sold(terminal, ("TL-LIP", 2), number=21)
        _sold(terminal, ("TL-WINE", 1), number=22)
        page.keyboard.press("F10")
        page.wait_for_selector("[data-testid=report-sales]")
        assert page.inner_text("[data-testid=report-sales]") == "2 · ¥1,840.00"
        assert page.inner_text("[data-testid=report-net]") == "¥1,840.00"
        shot(page, "x-report-zh")


@pytest.mark.usefixtures("transactional_db")
@pytest.mark.parametrize(
    ("locale", "title", "duplicate"),
    [("zh-CN", "离岛免税销售凭证", "副本"), ("en-US", "Duty-free sales receipt", "DUPLICATE")],
)
def test_the_print_view_in_both_languages(
    live_server: Any, new_page: Any, locale: str, title: str, duplicate: str
) -> None:
    stock()
    long_sku = "TL-BEAUTY_HEALTH_APPLIANCES-0201"  # no space to break at
    support.product(long_sku, "beauty_health_appliances", "2299.00")
    page, terminal, _ = open_till(new_page, live_server, locale=locale)
    sold = _sold(terminal, ("TL-LIP", 1), (long_sku, 1), number=31)
    find(page, sold.receipt_no)
    page.click("#do-reprint")
    receipt_shown(page)
    assert duplicate in page.inner_text("[data-testid=receipt-duplicate]")
    # The reprinted slip names the flight, as the first one did: the pickup counter needs it.
    assert "HU7181" in page.inner_text("#receipt")
    page.emulate_media(media="print")
    assert page.locator("#basket").is_hidden()
    assert page.locator(".till-bar").is_hidden()
    assert title in page.inner_text("#receipt")
    page.set_viewport_size({"width": 302, "height": 900})  # 80 mm at 96 dpi
    # Nothing runs off the roll: the long SKU breaks instead of pushing the amounts out.
    receipt = page.locator("#receipt")
    assert receipt.evaluate("node => node.scrollWidth <= node.clientWidth")
    assert page.locator("#receipt table").evaluate(
        "t => t.getBoundingClientRect().right <= t.parentNode.getBoundingClientRect().right + 0.5"
    )
    shot(page, f"print-80mm-{locale}")
    pdf = page.pdf(width="80mm", height="200mm")
    assert pdf.startswith(b"%PDF")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4
    page.select_option("#paper", "a4") if page.locator("#paper").is_visible() else None
    shot(page, f"print-a4-{locale}")


@pytest.mark.usefixtures("transactional_db")
@pytest.mark.parametrize("viewport", [DESKTOP, TABLET, PHONE], ids=["1024x768", "tablet", "phone"])
def test_every_control_has_a_name_and_the_screen_fits(
    live_server: Any, new_page: Any, viewport: dict[str, int]
) -> None:
    support.product("TL-BEAUTY_HEALTH_APPLIANCES-0201", "beauty_health_appliances", "2299.00")
    page = open_till(new_page, live_server, locale="zh-CN", viewport=viewport).page
    scan(page, "TL-BEAUTY_HEALTH_APPLIANCES-0201")  # a line with a long SKU must fit too
    for view in ("F2", "F8", "F10"):
        page.keyboard.press(view)
        nameless = page.evaluate(
            """() => Array.from(document.querySelectorAll('input, select, button'))
                .filter((el) => el.offsetParent !== null)
                .filter((el) => {
                  if (el.type === 'hidden') return false;
                  if (el.getAttribute('aria-label')) return false;
                  if (el.tagName === 'BUTTON') return el.textContent.trim() === '';
                  return el.labels.length === 0;
                })
                .map((el) => el.outerHTML.slice(0, 80))"""
        )
        assert nameless == [], view
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), view
    page.keyboard.press("F2")
    shot(page, f"layout-{viewport['width']}")


@pytest.mark.usefixtures("transactional_db")
def test_a_training_till_leaves_the_quota_untouched(live_server: Any, new_page: Any) -> None:
    stock()
    terminal, key = support.terminal()
    terminal.training = True
    terminal.save()
    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, live_server.url, key)
    assert page.locator("[data-testid=training-badge]").is_visible()
    scan(page, "TL-LIP")
    shopper_and_trip(page)
    verdict(page, "ok")
    page.keyboard.press("F9")
    receipt_shown(page)
    assert "培训" in page.inner_text("[data-testid=receipt-training]")
    sale = Sale.objects.get()
    assert sale.training is True
    assert not QuotaAccount.objects.filter(used__gt=0).exists()
    shot(page, "training-zh")


@pytest.mark.usefixtures("transactional_db")
class TestWhatACashierTripsOver:
    """Found by trying the till as a first-day cashier would."""

    def test_a_wrong_check_digit_is_refused_beside_the_number_and_sells_nothing(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page, _, problems = open_till(new_page, live_server, locale="zh-CN")
        scan(page, "TL-LIP")
        shopper_and_trip(page, number=NUMBER[:-1] + "1")  # the check character is 0
        page.locator("#verdict-status.bad", has_text="校验码不符").wait_for()
        assert "invalid" in page.get_attribute("#doc-number >> xpath=..", "class")
        assert page.locator("#quota").is_hidden()
        page.keyboard.press("F9")
        page.locator("#commit-status.bad", has_text="校验码不符").wait_for()
        assert page.evaluate("document.activeElement.id") == "doc-number"
        assert Sale.objects.count() == 0
        page.fill("#doc-number", NUMBER)  # put right: judged by the server again
        verdict(page, "ok")
        assert page.inner_text("#commit-status") == ""
        page.fill("#birth-date", "1991-01-01")  # not the number's: said beside the date
        page.locator("#verdict-status.bad", has_text="出生日期").wait_for()
        assert "invalid" in page.get_attribute("#birth-date >> xpath=..", "class")
        page.fill("#birth-date", "1990-01-01")
        verdict(page, "ok")
        # Typed with an input method's full-width digits and spaces: read as the server does.
        wide = "".join(chr(ord(c) + 0xFEE0) for c in NUMBER)
        page.fill("#doc-number", f"{wide[:6]} {wide[6:14]} {wide[14:]}")
        page.locator("#doc-number-note.ok", has_text="1990-01-01").wait_for()
        verdict(page, "ok")
        assert problems == []

    def test_a_quantity_is_typed_before_the_code(self, live_server: Any, new_page: Any) -> None:
        stock()
        page = open_till(new_page, live_server, locale="zh-CN").page
        page.keyboard.press("F2")
        page.keyboard.type("12*TL-LIP")  # as at any till: twelve lipsticks, not eleven presses
        page.keyboard.press("Enter")
        line = page.locator("#basket tr.line[data-sku='TL-LIP'] output")
        line.wait_for()
        assert line.inner_text() == "12"
        page.keyboard.type("3×TL-LIP")
        page.keyboard.press("Enter")
        page.locator("#basket tr.line[data-sku='TL-LIP'] output", has_text="15").wait_for()
        assert page.locator("#basket tr.line").count() == 1

    def test_nothing_turns_red_before_the_shopper_is_filled_in(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page = open_till(new_page, live_server, locale="en-US").page
        quotes: list[str] = []
        page.on("request", lambda r: quotes.append(r.url) if r.url.endswith("/quotes") else None)
        scan(page, "TL-LIP")
        status = page.locator("#verdict-status", has_text="fill in")
        status.wait_for()
        for field in ("Document number", "Name (as on the document)", "Birth date"):
            assert field in status.inner_text()
        assert page.locator("#view-sale .field.invalid").count() == 0
        assert page.locator("#view-sale .error:not(:empty)").count() == 0
        assert quotes == []  # nothing asked of the server that it could only refuse
        page.keyboard.press("F9")
        page.locator("#commit-status.bad").wait_for()
        assert page.evaluate("document.activeElement.id") == "doc-number"
        assert Sale.objects.count() == 0

    def test_a_scan_on_the_receipt_screen_starts_the_next_sale(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        _, key = support.terminal()
        page = new_page(locale="zh-CN", viewport=DESKTOP)
        page.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")
        sign_in(page, live_server.url, key)
        scan(page, "TL-LIP")
        shopper_and_trip(page)
        verdict(page, "ok")
        page.keyboard.press("F9")
        receipt_shown(page)
        page.keyboard.type("TL-WINE")  # the scanner reads the next customer's first product
        page.keyboard.press("Enter")
        page.wait_for_selector("#basket tr.line[data-sku='TL-WINE']")
        assert page.locator("#basket tr.line").count() == 1
        assert page.evaluate("window.printed") == 0  # its P printed nothing
        assert "TL-WINE" in page.inner_text("#scan-message")
        page.keyboard.press("F10")  # Ctrl+P prints from the report, the day's field focused
        page.wait_for_selector("[data-testid=report-sales]")
        page.keyboard.press("Control+P")
        assert page.evaluate("window.printed") == 1

    def test_a_refusal_at_f9_is_on_screen_and_the_commit_stays_in_reach(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        for n in range(6):
            support.product(f"TL-CREAM{n}", "cosmetics", "18000.00")
        page = open_till(new_page, live_server, locale="zh-CN").page
        for n in range(6):  # 108,000 yuan: over the year's quota, which no line carries
            scan(page, f"TL-CREAM{n}")
        shopper_and_trip(page)
        verdict(page, "bad")
        commit = page.locator("#commit")
        assert commit.evaluate("b => b.getBoundingClientRect().bottom <= window.innerHeight")
        page.keyboard.press("F9")
        page.locator("#commit-status.bad").wait_for()
        verdict_box = page.locator("#verdict").bounding_box()
        assert verdict_box is not None
        assert 0 <= verdict_box["y"] < 768  # scrolled to, not left below the fold
        assert Sale.objects.count() == 0

    def test_returns_and_voids_say_what_they_will_do(self, live_server: Any, new_page: Any) -> None:
        stock()
        page, terminal, problems = open_till(new_page, live_server, locale="zh-CN")
        sold = _sold(terminal, ("TL-LIP", 2), ("TL-WINE", 1), number=51)
        find(page, sold.receipt_no.lower())  # typed in lower case: found all the same
        lipstick = page.locator("input.return-qty").first
        lipstick.fill("5")  # the line holds 2
        page.click("#do-return")
        page.locator("#action-message.bad", has_text="0 到 2").wait_for()
        assert not page.locator("dialog#confirm").is_visible()  # asked nothing
        lipstick.fill("1.5")
        page.click("#do-return")
        page.locator("#action-message.bad", has_text="整数").wait_for()
        lipstick.fill("2")
        page.click("#do-return")
        page.keyboard.press("Enter")
        page.locator("#action-message.ok").wait_for()
        # The void gives back what the sale still holds: 1,840.00 less the 640.00 returned.
        page.click("#do-void")
        page.wait_for_selector("dialog#confirm[open]")
        assert "¥1,200.00" in page.inner_text("#confirm-body")
        page.keyboard.press("Escape")
        page.keyboard.press("F8")
        row = page.locator(f"#today tr:has(button[data-receipt='{sold.receipt_no}'])")
        assert "已完成" in row.inner_text()
        assert problems == []

    def test_on_a_tablet_a_found_sale_is_in_view_and_the_shopper_before_the_commit(
        self, live_server: Any, new_page: Any
    ) -> None:
        stock()
        page, terminal, _ = open_till(new_page, live_server, locale="en-US", viewport=TABLET)
        sold = [_sold(terminal, ("TL-LIP", 1), number=60 + n) for n in range(8)]
        order = page.evaluate(
            "['#scan', '#shopper', '#trip', '#pickup', '#verdict'].map("
            "s => document.querySelector(s).getBoundingClientRect().top)"
        )
        assert order == sorted(order)  # the basket, who and how, then the verdict
        commit = page.locator("#commit")  # kept in reach at the foot of the screen
        assert commit.evaluate("b => b.getBoundingClientRect().bottom <= window.innerHeight")
        find(page, sold[0].receipt_no)
        detail = page.locator("#sale-detail").bounding_box()
        assert detail is not None
        assert detail["y"] < TABLET["height"]
        found = page.locator("#sale-detail h2").bounding_box()
        today = page.locator("#today").bounding_box()
        assert found is not None
        assert today is not None
        assert found["y"] < today["y"]  # the sale found comes before today's list
        shot(page, "after-tablet-en")
