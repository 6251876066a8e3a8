"""The shopper's page /quota/: zh-hans by default, English by switch or Accept-Language, a
CAPTCHA, the year's figures, trips and bans; the number and name never sent back."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from captcha.models import CaptchaStore
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from quotas.choices import BanReason
from quotas.models import Shopper
from quotas.services import shopper_ban
from shops.checkout import sale_commit
from tests.shops import helpers

NUMBER = helpers.resident_id(4321)
NAME = "李小龙"
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def _captcha(client: Client) -> dict[str, str]:
    html = client.get("/quota/").content.decode()
    key = re.search(r'name="captcha_0" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


def _form(**overrides: str) -> dict[str, str]:
    return {"doc_type": "resident_id", "country": "CHN", "number": NUMBER, "name": NAME} | overrides


def _sell(*lines: tuple[str, int], store: str = "SYA-HTB", key: str = "k1") -> None:
    terminal, _ = helpers.terminal(store)
    who = helpers.shopper(NUMBER, name=NAME)
    sale_commit(
        terminal=terminal,
        idempotency_key=key,
        fingerprint=key,
        basket=helpers.basket(*lines, who=who),
        now=timezone.now(),
    )


def _main(html: str) -> str:
    """The page without the language switch (which names both languages)."""
    return html.split("</header>", 1)[1]


@pytest.fixture
def stock(db: None) -> None:
    helpers.product("PG-LIP", "cosmetics", "250.00")
    helpers.product("PG-SET", "cosmetics", "900.00", pieces=5)
    helpers.product("PG-WINE", "alcohol", "700.00", volume_ml=750)


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
    assert 'aria-valuenow="2"' in html  # 2,100 of 100,000
    assert "化妆品: 剩余 23 件（限 30 件）" in html  # 2 + a set of 5
    assert "酒类: 剩余 750 毫升（限 1500 毫升）" in html
    assert "手机: 剩余 4 件（限 4 件）" in html
    assert html.count("已完成") == 2
    assert 'data-testid="ban"' not in html


@pytest.mark.django_db
def test_a_lookup_in_english(client: Client, stock: None) -> None:
    _sell(("PG-LIP", 3))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.post("/quota/", {**_form(), **_captcha(client)}).content.decode()
    assert "quota for document ****4321" in html
    assert "Cosmetics" in html or "cosmetics" in html.lower()
    assert "27 of 30 pieces left" in html
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
        shopper_id=shopper.pk, reason=BanReason.CUSTOMS_DECISION, starts_at=start, years=3
    )
    html = client.post("/quota/", {**_form(), **_captcha(client)}).content.decode()
    until = timezone.localtime(ban.ends_at).date().isoformat()
    assert 'data-testid="ban"' in html
    assert f"您在 {until} 之前不得购买离岛免税商品" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"captcha_1": "999999"}, "答案不正确"),
        ({"number": "46010019900101123"}, "居民身份证号码应为"),
        ({"number": "!!"}, "证件号码应为 4 至 32 位"),
        ({"name": ""}, "该字段是必填项"),
        ({"country": "C1"}, "三位字母代码"),
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
    mo = {entry.msgid: entry for entry in polib.mofile(str(LOCALE / "django.mo"))}
    for entry in po:
        compiled = mo.get(entry.msgid)
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
    template = (Path(settings.BASE_DIR) / "templates" / "shops" / "quota.html").read_text()
    for text in re.findall(r'{% translate "([^"]+)" %}', template):
        assert text in known, text
    views = (Path(settings.BASE_DIR) / "shops" / "views.py").read_text()
    for text in re.findall(r'_\(\s*"([^"]+)"\s*\)', views):
        assert text in known, text
