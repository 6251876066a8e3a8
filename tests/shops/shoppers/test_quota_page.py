"""The shopper's page /quota/: zh-hans by default, English by switch or Accept-Language, a
CAPTCHA, the year's figures, trips and bans; the number and name never sent back."""

from __future__ import annotations

import re
from datetime import UTC as UTC_
from datetime import datetime, timedelta
from html import unescape
from io import BytesIO
from pathlib import Path

import polib
import pytest
from captcha.models import CaptchaStore
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from quotas.choices import BanReason
from quotas.models import Shopper
from quotas.rules import LOCAL_TZ
from quotas.services import shopper_ban
from shops.models import Sale
from shops.pos import returns
from tests import support

NUMBER = support.resident_id(4321)
NAME = "李小龙"
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


_captcha = support.captcha_answer


def _form(**overrides: str) -> dict[str, str]:
    return {"doc_type": "resident_id", "country": "CHN", "number": NUMBER, "name": NAME} | overrides


def _sell(
    *lines: tuple[str, int],
    store: str = "SYA-HTB",
    key: str = "k1",
    at: datetime | None = None,
    departs_at: datetime | None = None,
) -> Sale:
    who = support.shopper(NUMBER, name=NAME)
    return support.sell(
        support.terminal(store)[0], *lines, who=who, departs_at=departs_at, at=at, key=key
    ).sale


def _main(html: str) -> str:
    """The page without the language switch (which names both languages)."""
    return html.split("</header>", 1)[1]


def _text(html: str) -> str:
    """What a reader sees of the markup: tags dropped, entities read (``&nbsp;`` is U+00A0)."""
    return unescape(re.sub(r"<[^>]+>", "", html))


@pytest.fixture
def stock(db: None) -> None:
    support.product("PG-LIP", "cosmetics", "250.00")
    support.product("PG-SET", "cosmetics", "900.00", pieces=5)
    support.product("PG-WINE", "alcohol", "700.00", volume_ml=750)


@pytest.mark.django_db
def test_form_is_chinese_by_default_and_has_a_captcha(client: Client) -> None:
    response = client.get("/quota/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "我的免税额度" in html
    assert "证件号码" in html
    assert "居民身份证" in html
    assert "My duty-free quota" not in html
    assert 'name="captcha_1"' in html
    assert 'class="captcha"' in html
    assert 'name="viewport"' in html  # phones
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_english_by_accept_language_and_by_the_switch(client: Client) -> None:
    english = client.get("/quota/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "My duty-free quota" in english
    assert "Document number" in english
    assert not CJK.search(_main(english)), CJK.findall(_main(english))

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/quota/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/quota/"
    assert "My duty-free quota" in client.get("/quota/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/quota/"})
    assert "我的免税额度" in client.get("/quota/").content.decode()


@pytest.mark.django_db
def test_a_lookup_shows_the_year_trips_and_purchases_in_chinese(
    client: Client, stock: None
) -> None:
    _sell(("PG-LIP", 2), ("PG-SET", 1), key="a")
    _sell(("PG-WINE", 1), store="SYA-AIR", key="b")  # another store, the same trip
    response = client.post("/quota/", {**_form(), **_captcha(client)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "****4321" in html
    assert NUMBER not in html
    assert NAME not in html
    assert 'data-testid="limit">¥100,000.00<' in html
    assert 'data-testid="used">¥2,100.00<' in html  # 500 + 900 + 700
    assert 'data-testid="remaining">¥97,900.00<' in html
    # The bar: a <meter> of the share used (2,100 of 100,000), amber above 80%, red above 95%,
    # and the figures for a browser that cannot draw one.
    meter = re.search(r"<meter ([^>]*)>([^<]*)</meter>", html)
    assert meter
    assert re.findall(r'(\w+)="(\d+)"', meter.group(1)) == [
        ("min", "0"), ("max", "100"), ("low", "80"), ("high", "95"), ("optimum", "0"),
        ("value", "2"),
    ]  # fmt: skip
    assert 'aria-label="年度额度已使用比例"' in meter.group(1)
    assert meter.group(2) == "已使用 ¥2,100.00，年度额度 ¥100,000.00（2%）"
    assert "style=" not in html
    text = _text(html)
    # A full-width colon after a Chinese name, no brackets around the limit, and each number
    # joined to its unit by a no-break space.
    assert "化妆品：剩余 23\xa0件，限 30\xa0件" in text  # 2 + a set of 5
    assert "酒类：剩余 750\xa0毫升，限 1500\xa0毫升" in text
    assert "手机：剩余 4\xa0件，限 4\xa0件" in text
    assert '&nbsp;<span class="unit">件</span>' in html
    assert html.count("已完成") == 2
    assert 'data-testid="ban"' not in html


@pytest.mark.django_db
def test_a_lookup_in_english(client: Client, stock: None) -> None:
    _sell(("PG-LIP", 3))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.post("/quota/", {**_form(), **_captcha(client)}).content.decode()
    assert "quota for document ****4321" in html
    assert "Cosmetics" in html or "cosmetics" in html.lower()
    assert "Cosmetics: 27 of 30\xa0pieces left" in _text(html)
    assert ">¥750.00 of ¥100,000.00 used (0%)</meter>" in html
    assert ">0% used</p>" in html
    assert "Completed" in html
    assert "Flight HU7181" in html
    assert not CJK.search(_main(html)), CJK.findall(_main(html))


@pytest.mark.django_db
def test_wrong_name_shows_an_unused_quota(client: Client, stock: None) -> None:
    _sell(("PG-LIP", 3))
    html = client.post("/quota/", {**_form(name="王五"), **_captcha(client)}).content.decode()
    assert 'data-testid="used">¥0.00<' in html
    assert "本年度暂无购物记录" in html


@pytest.mark.django_db
def test_a_ban_is_shown_with_its_end(client: Client, stock: None) -> None:
    _sell(("PG-LIP", 1))
    shopper = Shopper.objects.get()
    start = timezone.now() - timedelta(days=1)
    ban, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason=BanReason.CUSTOMS_DECISION,
        starts_at=start,
        years=3,
        now=timezone.now(),
    )
    html = client.post("/quota/", {**_form(), **_captcha(client)}).content.decode()
    until = timezone.localtime(ban.ends_at).date().isoformat()
    assert 'data-testid="ban"' in html
    assert f"您在 {until} 之前不得购买离岛免税商品" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"captcha_1": "999999"}, "计算结果不正确"),
        ({"number": "46010019900101123"}, "居民身份证号码应为"),
        ({"number": "!!"}, "证件号码应为 4 至 32 位"),
        ({"name": ""}, "该字段是必填项"),
        ({"doc_type": "passport", "country": "C1"}, "三位字母代码"),
        ({"doc_type": "passport", "country": ""}, "请填写证件上印有的签发国家或地区代码"),
        ({"doc_type": "library_card"}, "选择一个有效的选项"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_echoed(
    client: Client, change: dict[str, str], message: str
) -> None:
    response = client.post("/quota/", {**_form(), **_captcha(client), **change})
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert NUMBER not in html
    assert NAME not in html
    assert 'name="captcha_0"' in html  # a fresh question


@pytest.mark.django_db
@override_settings(QUOTA_LOOKUP_RATE="2/60")
def test_the_page_is_throttled_per_address(client: Client) -> None:
    for _ in range(2):
        assert client.post("/quota/", _form(), REMOTE_ADDR="10.0.0.7").status_code == 400
    blocked = client.post("/quota/", {**_form(), **_captcha(client)}, REMOTE_ADDR="10.0.0.7")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1
    assert "查询过于频繁" in blocked.content.decode()
    assert client.post("/quota/", _form(), REMOTE_ADDR="10.0.0.8").status_code == 400


def test_every_message_is_translated_and_compiled() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    assert len(po) >= 40
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert not po.metadata_is_fuzzy
    # Keyed by context too: the till's "shopper" (旅客) is not the admin's (购物者).
    mo = {(entry.msgctxt, entry.msgid): entry for entry in polib.mofile(str(LOCALE / "django.mo"))}
    for entry in po:
        compiled = mo.get((entry.msgctxt, entry.msgid))
        assert compiled is not None, f"not compiled: {entry.msgid!r} (run make messages)"
        if entry.msgid_plural:
            assert compiled.msgstr_plural == entry.msgstr_plural
        else:
            assert compiled.msgstr == entry.msgstr, entry.msgid
        assert set(re.findall(r"%\(\w+\)s", entry.msgid)) <= set(
            re.findall(r"%\(\w+\)s", entry.msgstr or "".join(entry.msgstr_plural.values()))
        ), f"placeholders lost in {entry.msgid!r}"


def test_templates_and_views_have_no_untranslated_strings() -> None:
    """Every English string of the page is in the catalogue (makemessages would add none)."""
    po = polib.pofile(str(LOCALE / "django.po"))
    known = {entry.msgid for entry in po}
    base = Path(settings.BASE_DIR)
    for template in (
        base / "templates" / "shops" / "quota.html",
        base / "shops" / "templates" / "shops" / "quota_captcha.html",  # the CAPTCHA widget
    ):
        texts = re.findall(r"""{% translate (?:"([^"]+)"|'([^']+)') %}""", template.read_text())
        assert texts, template
        for text in (double or single for double, single in texts):
            assert text in known, text
    views = (Path(settings.BASE_DIR) / "shops" / "shoppers" / "pages.py").read_text()
    for text in re.findall(r'_\(\s*"([^"]+)"\s*\)', views):
        assert text in known, text


# --- what a person reads: no country for a resident ID, receipt numbers, a readable CAPTCHA -
def _field(html: str, name: str) -> str:
    """The form's block for one field (its label, help, input and errors)."""
    block = rf'<div class="field field-{name}[ "].*?</div>\s*(?=<div class="field|<button)'
    match = re.search(block, html, re.S)
    assert match, f"no field {name}"
    return match.group(0)


@pytest.mark.django_db
def test_a_resident_id_needs_no_country(client: Client, stock: None) -> None:
    _sell(("PG-LIP", 2))
    form = _form()
    del form["country"]  # what a browser sends when the box is hidden is not relied on either

    response = client.post("/quota/", {**form, **_captcha(client)})

    html = response.content.decode()
    assert response.status_code == 200, html
    assert 'data-testid="used">¥500.00<' in html  # the shopper was found: CHN is implied


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["USA", "C1", "toolong"])
def test_a_resident_id_ignores_a_country_typed_anyway(
    client: Client, stock: None, country: str
) -> None:
    """A browser without :has() and without JavaScript shows the box: whatever is in it, a
    resident identity card is Chinese."""
    _sell(("PG-LIP", 1))
    response = client.post("/quota/", {**_form(country=country), **_captcha(client)})
    assert response.status_code == 200
    assert 'data-testid="used">¥250.00<' in response.content.decode()


@pytest.mark.django_db
def test_the_country_is_asked_only_for_documents_that_need_it(client: Client) -> None:
    without = {"doc_type": "passport", "number": "E12345678", "name": "ZHANG SAN"}
    passport = client.post("/quota/", {**without, **_captcha(client)}).content.decode()
    assert "请填写证件上印有的签发国家或地区代码" in _field(passport, "country")

    resident = client.post(
        "/quota/", {"doc_type": "resident_id", "number": "46010019900101123"}
    ).content.decode()
    assert "签发国家或地区代码，例如" not in resident  # other errors, none about a country
    assert "居民身份证号码应为" in resident

    found = client.post("/quota/", {**without, "country": "gbr", **_captcha(client)})
    assert found.status_code == 200  # lower case is accepted


@pytest.mark.django_db
def test_the_country_box_explains_itself_and_is_hidden_for_a_resident_id(client: Client) -> None:
    html = client.get("/quota/").content.decode()
    country = _field(html, "country")
    assert "签发国家或地区代码" in country
    assert "证件上印有的三位字母代码" in country
    assert 'aria-describedby="id_country_help"' in country
    assert 'id="id_country_help"' in country
    # Hidden by the page's own style sheet (no JavaScript needed), by the script where :has()
    # is missing; the browser test checks both in Chromium.
    assert re.search(r'<link rel="stylesheet" href="/static/shops/quota\.css', html)
    assert re.search(r'<script src="/static/shops/quota\.js" defer>', html)


@pytest.mark.django_db
def test_receipt_numbers_are_in_the_purchases_table(client: Client, stock: None) -> None:
    first = _sell(("PG-LIP", 2), key="a")
    second = _sell(("PG-WINE", 1), store="SYA-AIR", key="b")

    zh = client.post("/quota/", {**_form(), **_captcha(client)}).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.post("/quota/", {**_form(), **_captcha(client)}).content.decode()

    for html, header in ((zh, "小票号"), (en, "Receipt no.")):
        table = re.search(r'<table class="purchases".*?</table>', html, re.S).group(0)  # type: ignore[union-attr]
        assert f'<th scope="col">{header}</th>' in table
        shown = re.findall(r'data-testid="receipt-no">([^<]+)<', table)
        assert shown == [second.receipt_no, first.receipt_no]  # newest first


@pytest.mark.django_db
def test_purchase_times_are_local_and_a_void_says_it_does_not_count(
    client: Client, stock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 23:30 UTC on 14 June is 07:30 on 15 June in Hainan.
    sold = datetime(2026, 6, 14, 23, 30, tzinfo=UTC_)
    now = datetime(2026, 6, 15, 12, 0, tzinfo=LOCAL_TZ)
    sale = _sell(("PG-LIP", 1), at=sold, departs_at=now + timedelta(days=2))
    terminal = sale.terminal
    returns.sale_void(terminal=terminal, sale_id=sale.pk, now=sold + timedelta(minutes=5))
    monkeypatch.setattr(timezone, "now", lambda: now)

    html = client.post("/quota/", {**_form(), **_captcha(client)}).content.decode()

    assert '<time datetime="2026-06-15T07:30:00+08:00">2026-06-15 07:30</time>' in html
    assert "已撤销 · 不计入额度" in html
    assert 'data-testid="used">¥0.00<' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "alt", "label", "refresh"),
    [
        ("zh-hans", "验证码：一道加法算式，请计算结果", "请填写计算结果", "换一道题"),
        ("en", "CAPTCHA: a sum to work out", "Answer the sum", "Show another sum"),
    ],
)
def test_the_captcha_is_a_sum_with_localised_words(
    client: Client, language: str, alt: str, label: str, refresh: str
) -> None:
    html = client.get("/quota/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    captcha = _field(html, "captcha")
    assert f'alt="{alt}"' in captcha
    assert 'alt="captcha"' not in html
    assert f'<label for="id_captcha_1">{label}</label>' in captcha
    link = rf'<a href="/quota/\?sum=new" class="captcha-refresh"[^>]*>{refresh}</a>'
    assert re.search(link, captcha)
    assert 'data-refresh-url="/captcha/refresh/"' in captcha
    assert 'inputmode="numeric"' in captcha  # the phone's number pad
    key = re.search(r'name="captcha_0" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    store = CaptchaStore.objects.get(hashkey=key)
    first, second = re.fullmatch(r"(\d+)\+(\d+)=", store.challenge).groups()  # type: ignore[union-attr]
    assert store.response == str(int(first) + int(second))


@pytest.mark.django_db
def test_the_captcha_image_is_large_enough_to_read_on_a_phone(client: Client) -> None:
    html = client.get("/quota/").content.decode()
    src = re.search(r'<img src="([^"]+)" class="captcha"', html).group(1)  # type: ignore[union-attr]
    assert 'width="280" height="90"' in html  # no layout shift while it loads
    image = Image.open(BytesIO(client.get(src).content))
    assert image.size == (280, 90)


@pytest.mark.django_db
def test_the_refresh_view_gives_a_new_sum_for_the_page_script(client: Client) -> None:
    html = client.get("/quota/").content.decode()
    old = re.search(r'name="captcha_0" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]

    fresh = client.get("/captcha/refresh/", HTTP_X_REQUESTED_WITH="XMLHttpRequest").json()

    assert fresh["key"] != old
    assert fresh["image_url"] == f"/captcha/image/{fresh['key']}/"
    assert re.fullmatch(r"\d+\+\d+=", CaptchaStore.objects.get(hashkey=fresh["key"]).challenge)
    # The form accepts the new key with the new answer.
    answer = CaptchaStore.objects.get(hashkey=fresh["key"]).response
    response = client.post("/quota/", {**_form(), "captcha_0": fresh["key"], "captcha_1": answer})
    assert response.status_code == 200


@pytest.mark.django_db
def test_an_error_says_the_number_and_name_must_be_typed_again(client: Client) -> None:
    html = client.post("/quota/", {**_form(), "captcha_0": "x", "captcha_1": "1"}).content.decode()
    assert "证件号码和姓名不会回传到浏览器，请重新填写" in html


@pytest.mark.django_db
@override_settings(DEFAULT_PROGRAMME="no-such-programme")
def test_no_policy_in_force_is_said_not_a_server_error(client: Client) -> None:
    response = client.post("/quota/", {**_form(), **_captcha(client)})
    assert response.status_code == 503
    assert "额度规则暂时无法查询" in response.content.decode()
