"""The quotas admin as staff read it, in their language: the custom screens and their messages
in the request's language, a publish form with date and time pickers and its format, a
published policy's lists by their labels, one verification column, a shopper found by the full
document number (hashed, never stored), category edits on the policy's history page.

Languages: ``Accept-Language`` or Django's language cookie; without either, Chinese (the
default).
"""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from quotas import identity, services
from quotas.change_reasons import change_reason_text
from quotas.models import Ban, Category, Policy, Shopper
from tests.conftest import local
from tests.support.admin_forms import change_form_data, row, url
from tests.support.policies import shipped

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-hans"}
EN = {"Accept-Language": "en"}
NUMBER = "460100199001011230"
LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.fixture
def editor() -> AbstractBaseUser:
    return get_user_model().objects.create_superuser("policy_editor_lin", "lin@example.com", None)


@pytest.fixture
def web(client: Client, editor: AbstractBaseUser) -> Client:
    client.force_login(editor)
    return client


@pytest.fixture
def draft() -> Policy:
    return services.policy_clone(policy=shipped(2025))


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def make_shopper(number: str = NUMBER, *, doc_type: str = "resident_id", country: str = "CHN"):
    return Shopper.objects.create(
        document_type=doc_type,
        document_country=country,
        document_key=identity.document_key(doc_type=doc_type, country=country, number=number),
        document_last4=identity.last_four(number),
        name_key=identity.name_key("张三"),
        birth_year=1990,
    )


# --- the custom screens and their messages, in both languages ---------------------------------
class TestTranslated:
    @pytest.mark.parametrize(
        ("screen", "chinese", "english"),
        [
            ("clone", ["复制为草稿", "创建草稿", "原版本保持不变"], ["to a draft", "Create draft"]),
            ("withdraw", ["撤回", "尚未生效的政策版本可以撤回"], ["Withdraw", "not yet taken"]),
        ],
    )
    def test_the_confirm_screens(self, web: Client, screen: str, chinese, english) -> None:
        target = url(f"quotas_policy_{screen}", shipped(2025))

        zh, en = page(web.get(target, headers=ZH)), page(web.get(target, headers=EN))

        for text in [*chinese, "取消"]:
            assert text in zh
        for text in [*english, "Cancel"]:
            assert text in en
            assert text not in zh

    def test_the_publish_screen(self, web: Client, draft: Policy) -> None:
        zh = page(web.get(url("quotas_policy_publish", draft), headers=ZH))
        en = page(web.get(url("quotas_policy_publish", draft), headers=EN))

        expected = ("发布后本草稿不可再修改", "生效时间（北京时间，UTC+8）", "共 47 个品类", "发布")
        for text in expected:
            assert text in zh
        assert "Publishing makes this draft immutable" not in zh
        assert "Takes effect at (Asia/Shanghai time, UTC+8)" in en

    def test_the_change_page_and_its_tools(self, web: Client, draft: Policy) -> None:
        zh = page(web.get(url("quotas_policy_change", shipped(2025)), headers=ZH))
        zh_draft = page(web.get(url("quotas_policy_change", draft), headers=ZH))

        tools = ("复制为草稿", "导出品类（CSV）", "不能再修改", "年度额度", "旅客类别")
        for text in tools:
            assert text in zh
        assert "撤回…" not in zh  # in force: too late to withdraw (test_admin.TestToolsOffered)
        for text in ("导入品类（CSV）", "发布…"):
            assert text in zh_draft
        for text in ("Clone to draft", "can no longer be changed", "Annual limit"):
            assert text not in zh

    def test_the_language_cookie_wins_over_the_browsers_language(
        self, web: Client, draft: Policy
    ) -> None:
        web.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        chinese = page(web.get(url("quotas_policy_publish", draft), headers=EN))
        web.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        english = page(web.get(url("quotas_policy_publish", draft), headers=ZH))

        assert "发布后本草稿不可再修改" in chinese
        assert "Publishing makes this draft immutable" not in chinese
        assert "Publishing makes this draft immutable" in english
        assert "发布后本草稿不可再修改" not in english

    def test_messages_after_clone_and_publish(self, web: Client) -> None:
        cloned = web.post(url("quotas_policy_clone", shipped(2025)), follow=True, headers=ZH)
        new = Policy.objects.get(status="draft")
        assert "已创建草稿" in page(cloned)

        refused = web.post(
            url("quotas_policy_publish", new),
            {"effective_from_0": "2020-01-01", "effective_from_1": "00:00"},
            headers=ZH,
        )
        assert "不能早于现在" in page(refused)  # the service's refusal, translated
        assert Policy.objects.get(pk=new.pk).status == "draft"

        later = timezone.localtime() + timedelta(days=3)
        published = web.post(
            url("quotas_policy_publish", new),
            {"effective_from_0": f"{later:%Y/%m/%d}", "effective_from_1": f"{later:%H:%M}"},
            follow=True,
            headers=ZH,
        )
        assert "起生效" in page(published)
        assert f"{later:%Y-%m-%d %H:%M}" in page(published)  # Shanghai time, as typed

    def test_the_lift_screen_and_its_message(self, web: Client) -> None:
        ban, _ = services.shopper_ban(
            shopper_id=make_shopper().pk,
            reason="resale",
            starts_at=timezone.now() - timedelta(days=1),
            years=3,
            now=timezone.now(),
        )
        lift = reverse("admin:quotas_ban_lift", args=[ban.pk])

        screen = page(web.get(lift, headers=ZH))
        assert "解除禁购" in screen
        assert "购物者可立即恢复购买" in screen
        assert "Lift the ban" not in screen
        refused = page(web.post(lift, {"reason": "  "}, headers=ZH))
        assert '<ul class="errorlist" id="id_reason_error">' in refused
        done = page(web.post(lift, {"reason": "Appeal granted"}, follow=True, headers=ZH))
        assert f"禁购 {ban.pk} 已解除" in done
        assert "已于" in page(web.get(reverse("admin:quotas_ban_changelist"), headers=ZH))

    def test_the_ban_add_form_refusal_is_translated(self, web: Client) -> None:
        shopper = make_shopper()
        start = timezone.localtime() + timedelta(days=2)
        answer = web.post(
            reverse("admin:quotas_ban_add"),
            {
                "shopper": str(shopper.pk),
                "reason": "customs_decision",
                "starts_at_0": f"{start:%Y-%m-%d}",
                "starts_at_1": f"{start:%H:%M:%S}",
                "years": "1",
            },
            headers=ZH,
        )
        assert "禁购只能从现在或过去开始" in page(answer)
        assert not Ban.objects.exists()

    def test_every_string_of_the_admin_is_in_the_catalogue(self) -> None:
        po = polib.pofile(str(LOCALE / "django.po"))
        known = {entry.msgid for entry in po if entry.msgstr or entry.msgstr_plural}
        root = Path(settings.BASE_DIR)
        found = []
        for template in (root / "templates" / "admin" / "quotas").rglob("*.html"):
            found += re.findall(r'{% translate "([^"]+)" %}', template.read_text())
        for module in (root / "quotas" / "admin").glob("*.py"):
            found += re.findall(r'(?:_|gettext)\(\s*"([^"]+)"\s*\)', module.read_text())
        assert len(found) > 40
        assert sorted(set(found) - known) == []


# --- the publish form: pickers and the format ---------------------------------------------------
class TestPublishForm:
    def test_has_the_admin_date_and_time_pickers_loaded_in_order(
        self, web: Client, draft: Policy
    ) -> None:
        html = page(web.get(url("quotas_policy_publish", draft), headers=ZH))

        scripts = re.findall(r'<script src="([^"]+)"', html)
        order = [
            next(i for i, src in enumerate(scripts) if name in src)
            for name in ("jsi18n", "admin/js/core.js", "calendar.js", "DateTimeShortcuts.js")
        ]
        assert order == sorted(order)  # the catalogue and core.js before the pickers use them
        assert "<script>" not in html  # nothing inline: script-src 'self' (the CSP) allows all
        assert "admin/css/forms.css" in html  # the calendar and clock icons
        assert 'class="vDateField"' in html
        assert 'class="vTimeField"' in html

    def test_shows_the_format_in_each_language(self, web: Client, draft: Policy) -> None:
        zh = page(web.get(url("quotas_policy_publish", draft), headers=ZH))
        en = page(web.get(url("quotas_policy_publish", draft), headers=EN))

        assert 'placeholder="YYYY/MM/DD"' in zh  # the zh-hans input format, as the picker fills
        assert 'placeholder="HH:mm"' in zh
        assert "日期格式为 YYYY/MM/DD，时间格式为 HH:mm" in zh
        tomorrow = timezone.localdate() + timedelta(days=1)
        assert f"例如 {tomorrow:%Y/%m/%d} 00:00；" in zh
        assert f"for example {tomorrow:%Y-%m-%d} 00:00:00;" in en
        assert 'placeholder="YYYY-MM-DD"' in en
        assert 'placeholder="HH:mm:ss"' in en
        assert "Date as YYYY-MM-DD and time as HH:mm:ss (24-hour)" in en

    def test_the_format_shown_is_accepted(self, web: Client, draft: Policy) -> None:
        later = timezone.localtime() + timedelta(days=10)

        answer = web.post(
            url("quotas_policy_publish", draft),
            {"effective_from_0": f"{later:%Y/%m/%d}", "effective_from_1": f"{later:%H:%M}"},
            headers=ZH,
        )

        assert answer.status_code == 302
        published = Policy.objects.get(pk=draft.pk)
        assert published.effective_from == later.replace(second=0, microsecond=0)


# --- a published policy's lists; one verification column ---------------------------------------
class TestReadable:
    def test_a_published_policys_lists_show_their_labels(self, web: Client) -> None:
        html = page(web.get(url("quotas_policy_change", shipped(2025)), headers=EN))

        assert '["domestic"' not in html
        assert "&quot;domestic&quot;" not in html
        assert '<ul class="df-list"><li>leaving the island, staying in China</li>' in html
        assert "<li>immediate pickup</li>" in html
        zh = page(web.get(url("quotas_policy_change", shipped(2025)), headers=ZH))
        assert '<ul class="df-list"><li>离岛（国内）旅客</li>' in zh
        assert "<li>即购即提</li>" in zh
        assert "Planned date" not in html  # a published policy's time is no plan

    @pytest.mark.parametrize("which", ["published", "draft"])
    def test_the_category_list_has_one_verification_column(
        self, web: Client, draft: Policy, which: str
    ) -> None:
        policy = shipped(2025) if which == "published" else draft
        html = page(web.get(url("quotas_policy_change", policy), headers=EN))

        inline = html[html.index('id="categories-group"') :]
        headers = re.findall(r"<th[^>]*>(.*?)</th>", inline[: inline.index("</thead>")], re.S)
        texts = [re.sub(r"<[^>]+>|\s+", " ", h).strip().lower() for h in headers]
        assert sum("verif" in text for text in texts) == 1, texts
        if which == "published":
            assert "✓ verified" in inline
        else:
            assert 'name="categories-0-verified"' in inline


# --- a shopper found by the full document number -----------------------------------------------
class TestShopperSearch:
    def search(self, web: Client, term: str) -> Any:
        return web.post(reverse("admin:quotas_shopper_search"), {"q": term}, headers=EN)

    def test_the_full_number_finds_the_shopper_and_is_kept_nowhere(self, web: Client) -> None:
        shopper = make_shopper()
        make_shopper("460100199001021230")  # same last four, another person
        passport = make_shopper("E12345678", doc_type="passport", country="USA")

        answer = self.search(web, "4601 0019-9001 011230")  # as staff type it

        assert answer.status_code == 302
        assert NUMBER not in answer["Location"]
        assert "1230" not in answer["Location"]
        listing = web.get(answer["Location"], headers=EN)
        assert list(listing.context["cl"].result_list) == [shopper]
        html = page(listing)
        assert NUMBER not in html
        assert "1 shopper has the document number ****1230." in html
        found = web.get(self.search(web, "e12345678")["Location"], headers=EN)
        assert list(found.context["cl"].result_list) == [passport]
        # Nothing on file holds the number: no row, no admin log, no session.
        with connection.cursor() as cursor:
            for table in ("quotas_shopper", "django_admin_log", "django_session"):
                cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
                assert NUMBER not in repr(cursor.fetchall()), table
        assert not LogEntry.objects.exists()
        assert all(NUMBER not in s.session_data for s in Session.objects.all())

    def test_the_last_four_still_work_and_an_unknown_number_finds_nobody(self, web: Client):
        shopper = make_shopper()

        by_four = web.get(
            web.post(reverse("admin:quotas_shopper_search"), {"q": "1230"})["Location"]
        )
        assert list(by_four.context["cl"].result_list) == [shopper]
        nobody = self.search(web, "460100199001019999")
        assert nobody["Location"] == reverse("admin:quotas_shopper_changelist")
        assert "No shopper has the document number ****9999." in page(
            web.get(nobody["Location"], headers=EN)
        )

    def test_a_full_number_typed_into_the_url_is_answered_by_id(self, web: Client) -> None:
        shopper = make_shopper()

        answer = web.get(reverse("admin:quotas_shopper_changelist"), {"q": NUMBER})

        assert answer.status_code == 302
        assert NUMBER not in answer["Location"]
        assert list(web.get(answer["Location"]).context["cl"].result_list) == [shopper]

    def test_the_search_form_is_posted(self, web: Client) -> None:
        html = page(web.get(reverse("admin:quotas_shopper_changelist"), headers=ZH))
        form = html[html.index('<form id="changelist-search"') :]
        assert form.startswith(
            f'<form id="changelist-search" method="post" '
            f'action="{reverse("admin:quotas_shopper_search")}"'
        )
        assert "完整证件号码或其后四位" in html
        assert web.get(reverse("admin:quotas_shopper_search")).status_code == 405


# --- category edits on the policy's history page -----------------------------------------------
class TestHistory:
    def test_a_category_edit_appears_on_its_policys_history(
        self, web: Client, draft: Policy, editor: AbstractBaseUser
    ) -> None:
        data = change_form_data(web, draft)
        cosmetics = row(data, "cosmetics")
        data[cosmetics + "per_trip_limit_value"] = "25"
        assert web.post(url("quotas_policy_change", draft), data).status_code == 302

        html = page(web.get(url("quotas_policy_history", draft), headers=EN))

        table = html[html.index('<table id="category-history"') :]
        table = table[: table.index("</table>")]
        edit = next(r for r in table.split("<tr>") if "(cosmetics)" in r and "Changed" in r)
        assert editor.username in edit
        assert re.search(r"per-trip limit:</strong>\s*30\s*&rarr;\s*25", edit, re.I), edit
        edited = Category.history.filter(policy_id=draft.pk, history_type="~").get()
        assert f"{timezone.localtime(edited.history_date):%Y-%m-%d %H:%M}" in edit
        assert "47 category changes" not in html  # 47 from the clone, and the edit
        assert "48 category changes" in html

    def test_the_history_shows_status_and_effective_time_readably(self, web: Client) -> None:
        policy = shipped(2025)
        zh = page(web.get(url("quotas_policy_history", policy), headers=ZH))

        own = zh[zh.index('<table id="change-history"') :]
        own = own[: own.index("</table>")]
        assert "已发布" in own
        assert "published" not in own
        assert "2025-11-01 00:00" in own  # local time of 2025-11-01T00:00+08:00
        assert "effective_from" not in own
        assert "生效时间" in own
        assert local(2025, 11, 1) == policy.effective_from


class TestHistoryReasons:
    """Why a version changed is stored as data and read in the page's language."""

    def test_a_clone_and_its_publish_read_in_each_language(self, web: Client) -> None:
        source = shipped(2025)
        draft = services.policy_clone(policy=source)
        at = timezone.localtime() + timedelta(days=2)
        services.policy_publish(policy=draft, effective_from=at, now=timezone.now())
        history = url("quotas_policy_history", draft)

        en, zh = page(web.get(history, headers=EN)), page(web.get(history, headers=ZH))

        when = f"{at:%Y-%m-%d %H:%M}"
        assert f"cloned from policy {source.pk}" in en
        assert f"published, effective {when} (Asia/Shanghai)" in en
        assert f"复制自政策 {source.pk}" in zh
        assert f"已发布，自 {when}（北京时间）起生效" in zh
        for english in ("cloned from", "published, effective", '{"code"'):
            assert english not in zh
        assert '{"code"' not in en

    def test_a_categorys_own_history_reads_in_each_language(self, web: Client) -> None:
        category = shipped(2025).categories.get(code="cosmetics")
        history = reverse("admin:quotas_category_history", args=[category.pk])

        en, zh = page(web.get(history, headers=EN)), page(web.get(history, headers=ZH))

        assert "shipped as data (migration quotas.0002)" in en
        assert "5. Cosmetics (cosmetics)" in en
        assert "随系统数据提供（迁移 quotas.0002）" in zh
        assert "5. 化妆品 (cosmetics)" in zh
        assert "shipped as data" not in zh

    def test_the_sentences_stored_before_are_data_now(self) -> None:
        reasons = set(Policy.history.values_list("history_change_reason", flat=True)) | set(
            Category.history.values_list("history_change_reason", flat=True)
        )
        assert reasons == {
            '{"code":"shipped","migration":"quotas.0002"}',
            '{"code":"kinds_shipped","migration":"quotas.0010"}',
            '{"code":"fact_confirmed","migration":"quotas.0016"}',
        }

    @pytest.mark.parametrize(
        ("sentence", "english", "chinese"),
        [
            ("cloned from policy 2", "cloned from policy 2", "复制自政策 2"),
            (
                "published, effective 2026-07-01T00:00:00+08:00",
                "published, effective 2026-07-01 00:00 (Asia/Shanghai)",
                "已发布，自 2026-07-01 00:00（北京时间）起生效",
            ),
            ("withdrawn before taking effect", "withdrawn before taking effect", "生效前撤回"),
            ("CSV import", "CSV import", "CSV 导入"),
        ],
    )
    def test_the_migration_turns_each_sentence_into_data(
        self, sentence: str, english: str, chinese: str
    ) -> None:
        migration = importlib.import_module("quotas.migrations.0013_history_reasons_as_data")

        stored = migration.as_data(sentence)

        assert stored.startswith('{"code":')
        with translation.override("en"):
            assert change_reason_text(stored) == english
        with translation.override("zh-hans"):
            assert change_reason_text(stored) == chinese
        assert migration.as_sentence(stored) == sentence

    def test_a_reason_that_is_not_data_is_shown_as_written(self) -> None:
        assert change_reason_text("restored by hand, ticket 88") == "restored by hand, ticket 88"
        assert change_reason_text('{"code": "unknown"}') == '{"code": "unknown"}'
        assert change_reason_text(None) == ""


class TestModelNames:
    """The admin index names every model of ours in the reader's language."""

    def test_the_index_names_our_models_in_chinese(self, web: Client) -> None:
        zh = page(web.get("/admin/", headers=ZH))
        for chinese in ("商品", "销售", "退货", "门店", "收银终端", "购物者", "禁购"):
            assert chinese in zh, chinese
        for english in (">Products<", ">Sales<", ">Returns<", ">Terminals<", ">Stores<"):
            assert english not in zh, english

    def test_and_in_english(self, web: Client) -> None:
        en = page(web.get("/admin/", headers=EN))
        assert ">Products<" in en
        assert "商品" not in en
