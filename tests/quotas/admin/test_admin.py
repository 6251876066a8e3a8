"""The policy admin through the test client: read-only published versions, clone → edit →
publish → withdraw, CSV export/import and history.

Every refusal is checked twice: the response (status, errors on the page) and the database
(nothing written, history included).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from quotas import services
from quotas.category_csv import COLUMNS
from quotas.errors import PolicyImmutable
from quotas.models import Category, Policy
from tests.conftest import SHANGHAI, local
from tests.support.admin_forms import Data, change_form_data, row, url
from tests.support.policies import shipped

pytestmark = pytest.mark.django_db

EDITOR = "policy_editor_ann"


# --- helpers ----------------------------------------------------------------------------------
def policy_row(policy: Policy) -> Data:
    return Policy.objects.filter(pk=policy.pk).values().get()


def categories(policy: Policy) -> list[Data]:
    """Every CSV-visible field of the policy's categories, by number."""
    return list(policy.categories.order_by("number").values(*COLUMNS))


def state(policy: Policy) -> tuple[Data, list[Data], int, int]:
    """What a refused request must leave as it was, history tables included."""
    return (
        policy_row(policy),
        categories(policy),
        Policy.history.count(),
        Category.history.count(),
    )


def error_keys(response: Any) -> set[str]:
    """Where the change form put its errors: policy fields, ``code@row`` or ``inline``."""
    keys = set(response.context["adminform"].form.errors)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        if formset.non_form_errors():
            keys.add("inline")
        for form in formset.forms:
            keys |= {f"{field}@{form.prefix}" for field in form.errors}
    return keys


def history_table(response: Any) -> str:
    """The history records table only (the page header greets the logged-in user, too)."""
    page = response.content.decode()
    start = page.index('<table id="change-history"')
    return page[start : page.index("</table>", start)]


def to_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def upload(client: Client, policy: Policy, content: bytes) -> Any:
    file = SimpleUploadedFile("categories.csv", content, content_type="text/csv")
    return client.post(url("quotas_policy_import", policy), {"file": file})


def export_rows(client: Client, policy: Policy) -> list[list[str]]:
    response = client.get(url("quotas_policy_export", policy))
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture
def editor() -> AbstractBaseUser:
    # No password: hashing one would cost a third of a second per test.
    return get_user_model().objects.create_superuser(EDITOR, "ann@example.com", None)


@pytest.fixture
def web(client: Client, editor: AbstractBaseUser) -> Client:
    # English pages: the tests read the admin's messages (test_admin_i18n.py: in Chinese).
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(editor)
    return client


@pytest.fixture
def draft() -> Policy:
    """A draft of the 2025 version, cloned outside any request (no history user)."""
    return services.policy_clone(policy=shipped(2025))


# --- 1. published policies are read-only --------------------------------------------------------
class TestPublishedIsReadOnly:
    def test_changelist_lists_both_versions(self, web: Client) -> None:
        response = web.get(url("quotas_policy_changelist"))

        assert response.status_code == 200
        assert {p.pk for p in response.context["cl"].result_list} == {
            shipped(2023).pk,
            shipped(2025).pk,
        }

    def test_change_page_renders_without_a_save_button(self, web: Client, draft: Policy) -> None:
        response = web.get(url("quotas_policy_change", shipped(2025)))
        editable = web.get(url("quotas_policy_change", draft))

        assert (response.status_code, editable.status_code) == (200, 200)
        assert response.context["has_change_permission"] is False
        assert not response.context["inline_admin_formsets"][0].has_change_permission
        page = response.content.decode()
        assert 'name="traveller_kinds"' not in page
        assert 'name="categories-0-name_en"' not in page
        assert 'name="_save"' not in page
        assert "Clone to draft" in page
        assert "Publish…" not in page
        assert 'name="_save"' in editable.content.decode()  # the checks above can fail
        assert 'name="traveller_kinds"' in editable.content.decode()
        assert 'name="categories-0-name_en"' in editable.content.decode()

    def test_posting_a_change_is_refused(self, web: Client, draft: Policy) -> None:
        published = shipped(2025)
        data = change_form_data(web, draft) | {"name_en": "Hacked"}
        data = {k: v for k, v in data.items() if not k.startswith("categories-")}
        before = state(published)

        response = web.post(url("quotas_policy_change", published), data)

        assert response.status_code == 403
        assert state(published) == before
        assert policy_row(published)["name_en"] != "Hacked"

    def test_delete_page_is_refused_with_the_reason(self, web: Client) -> None:
        published = shipped(2025)

        reason = (
            "Published versions are never deleted; withdraw a scheduled one or clone to a draft."
        )
        for answer in (
            web.get(url("quotas_policy_delete", published), follow=True),
            web.post(url("quotas_policy_delete", published), {"post": "yes"}, follow=True),
        ):
            assert answer.redirect_chain == [(url("quotas_policy_change", published), 302)]
            assert [str(m) for m in answer.context["messages"]] == [reason]
            assert "permission" not in answer.content.decode()
        assert Policy.objects.filter(pk=published.pk).exists()
        assert published.categories.count() == 47

    def test_no_delete_where_it_cannot_work(self, web: Client, draft: Policy) -> None:
        published = web.get(url("quotas_policy_change", shipped(2025))).content.decode()
        editable = web.get(url("quotas_policy_change", draft)).content.decode()
        listed = web.get(url("quotas_policy_changelist"))

        assert url("quotas_policy_delete", shipped(2025)) not in published
        assert url("quotas_policy_delete", draft) in editable  # the check above can fail
        # Django's bulk delete blamed a missing permission: only the drafts' action is offered.
        assert set(listed.context["action_form"].fields["action"].choices) == {
            ("", "---------"),
            ("delete_drafts", "Delete selected drafts"),
        }

    def test_the_reason_is_in_the_pages_language(self, web: Client, draft: Policy) -> None:
        web.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
        selected = [draft.pk, shipped(2025).pk]

        single = web.get(url("quotas_policy_delete", shipped(2025)), follow=True)
        bulk = web.post(
            url("quotas_policy_changelist"),
            {"action": "delete_drafts", "_selected_action": selected},
            follow=True,
        )

        assert [str(m) for m in single.context["messages"]] == [
            "已发布的版本永不删除；可撤回尚未生效的版本，或复制为草稿。"
        ]
        said = [str(m) for m in bulk.context["messages"]]
        assert said[0] == "已删除 1 个草稿。"
        assert said[1].startswith("保留了 1 个政策版本。已发布的版本永不删除")
        assert list(Policy.objects.values_list("status", flat=True)) == ["published"] * 2

    def test_category_of_published_policy_cannot_be_changed(self, web: Client) -> None:
        category = shipped(2025).categories.get(number=1)

        response = web.post(url("quotas_category_change", category), {"name_en": "Hacked"})

        assert response.status_code == 403
        category.refresh_from_db()
        assert category.name_en == "Jewellery"

    def test_delete_drafts_action_keeps_published(self, web: Client, draft: Policy) -> None:
        other = services.policy_clone(policy=shipped(2023))
        selected = [draft.pk, other.pk, shipped(2023).pk, shipped(2025).pk]

        response = web.post(
            url("quotas_policy_changelist"),
            {"action": "delete_drafts", "_selected_action": selected},
        )

        assert response.status_code == 302
        assert list(Policy.objects.values_list("status", flat=True)) == ["published"] * 2
        assert not Category.objects.filter(policy_id__in=[draft.pk, other.pk]).exists()
        assert shipped(2025).categories.count() == 47


# --- 2. clone -----------------------------------------------------------------------------------
class TestClone:
    def test_get_shows_a_confirm_page_and_writes_nothing(self, web: Client) -> None:
        response = web.get(url("quotas_policy_clone", shipped(2025)))

        assert response.status_code == 200
        assert "Create draft" in response.content.decode()
        assert Policy.objects.count() == 2

    def test_post_creates_a_draft_with_the_same_categories(
        self, web: Client, editor: AbstractBaseUser
    ) -> None:
        source = shipped(2025)
        before = state(source)[:2]

        response = web.post(url("quotas_policy_clone", source))

        new = Policy.objects.get(cloned_from=source)
        assert response.status_code == 302
        assert response["Location"] == url("quotas_policy_change", new)
        assert (new.status, new.effective_from, new.published_by) == ("draft", None, None)
        # Its source's name: a status in the name would still say "draft" once published.
        assert new.name == source.name
        assert categories(new) == categories(source)
        assert len(categories(new)) == 47
        assert new.annual_limit == source.annual_limit
        assert new.traveller_kinds == source.traveller_kinds
        assert new.history.get().history_user == editor
        assert state(source)[:2] == before


# --- 3./4. edit a draft with the inline formset ---------------------------------------------------
class TestEditDraft:
    def test_change_a_category_through_the_inline(
        self, web: Client, draft: Policy, editor: AbstractBaseUser
    ) -> None:
        data = change_form_data(web, draft)
        cosmetics = row(data, "cosmetics")
        data[cosmetics + "name_en"] = "Cosmetics and skin care"
        data[cosmetics + "per_trip_limit_value"] = "25"

        response = web.post(url("quotas_policy_change", draft), data)

        assert response.status_code == 302, error_keys(response)
        category = draft.categories.get(code="cosmetics")
        assert (category.name_en, category.per_trip_limit_value) == ("Cosmetics and skin care", 25)
        last = category.history.latest()
        assert (last.history_type, last.history_user) == ("~", editor)
        assert draft.categories.count() == 47
        assert categories(shipped(2025))[4]["name_en"] == "Cosmetics"

    @pytest.mark.parametrize(
        ("code", "field", "value", "errors"),
        [
            pytest.param(
                "handicrafts", "code", "jewellery", {"inline", "__all__@handicrafts"}, id="dup-code"
            ),
            pytest.param(
                "jewellery",
                "per_trip_limit_unit",
                "piece",
                {"per_trip_limit_value@jewellery"},
                id="unit-without-value",
            ),
            pytest.param(
                "cosmetics",
                "per_trip_limit_value",
                "0",
                {"per_trip_limit_value@cosmetics"},
                id="value-zero",
            ),
            pytest.param(
                "cosmetics",
                "per_trip_limit_value",
                "-3",
                {"per_trip_limit_value@cosmetics"},
                id="value-negative",
            ),
            pytest.param(
                "cosmetics",
                "per_trip_limit_unit",
                "kg",
                {"per_trip_limit_unit@cosmetics"},
                id="unknown-unit",
            ),
            pytest.param("", "min_age", "500", {"min_age"}, id="min-age-500"),
            pytest.param("", "annual_limit", "0", {"annual_limit"}, id="annual-limit-0"),
        ],
    )
    def test_invalid_input_is_a_form_error_and_writes_nothing(
        self, web: Client, draft: Policy, code: str, field: str, value: str, errors: set[str]
    ) -> None:
        data = change_form_data(web, draft)
        # "field@code" names the inline row by its category code; error_keys by its prefix.
        expected = {
            f"{name}@{row(data, at).rstrip('-')}" if at else name
            for name, _, at in (error.partition("@") for error in errors)
        }
        data[(row(data, code) if code else "") + field] = value
        before = state(draft)

        response = web.post(url("quotas_policy_change", draft), data)

        assert response.status_code == 200
        assert error_keys(response) == expected
        assert state(draft) == before


# --- 5. publish and withdraw ---------------------------------------------------------------------
def publish(client: Client, policy: Policy, date: str = "", time: str = "") -> Any:
    return client.post(
        url("quotas_policy_publish", policy), {"effective_from_0": date, "effective_from_1": time}
    )


class TestPublish:
    def test_publish_now_locks_the_policy(
        self, web: Client, draft: Policy, editor: AbstractBaseUser
    ) -> None:
        edit = change_form_data(web, draft) | {"name_en": "Too late"}
        start = timezone.now()

        response = publish(web, draft)

        assert response.status_code == 302
        assert response["Location"] == url("quotas_policy_change", draft)
        draft.refresh_from_db()
        assert (draft.status, draft.published_by) == ("published", editor)
        assert start <= draft.effective_from <= timezone.now()
        before = state(draft)
        assert web.post(url("quotas_policy_change", draft), edit).status_code == 403
        assert state(draft) == before
        draft.name_en = "Too late"
        with pytest.raises(PolicyImmutable):
            draft.save()
        with pytest.raises(PolicyImmutable):
            Policy.objects.get(pk=draft.pk).delete()
        with pytest.raises(PolicyImmutable):
            draft.categories.first().save()
        assert state(draft) == before

    def test_publish_in_the_past_is_a_form_error(self, web: Client, draft: Policy) -> None:
        yesterday = timezone.localtime() - timedelta(days=1)
        before = state(draft)

        response = publish(web, draft, f"{yesterday:%Y-%m-%d}", f"{yesterday:%H:%M:%S}")

        assert response.status_code == 200
        assert "never in the past" in str(response.context["form"].non_field_errors())
        assert state(draft) == before
        assert policy_row(draft)["status"] == "draft"

    def test_publish_later_then_withdraw(
        self, web: Client, draft: Policy, editor: AbstractBaseUser
    ) -> None:
        day = (timezone.localtime() + timedelta(days=30)).date()

        assert web.get(url("quotas_policy_publish", draft)).status_code == 200
        response = publish(web, draft, day.isoformat(), "09:30:00")

        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.status == "published"
        assert draft.effective_from == local(day.year, day.month, day.day, 9, 30)
        assert draft.effective_from.astimezone(SHANGHAI).hour == 9

        confirm = web.get(url("quotas_policy_withdraw", draft))
        withdrawn = web.post(url("quotas_policy_withdraw", draft))

        assert (confirm.status_code, withdrawn.status_code) == (200, 302)
        draft.refresh_from_db()
        assert (draft.status, draft.withdrawn_by) == ("withdrawn", editor)
        assert draft.withdrawn_at is not None
        assert draft.categories.count() == 47

    def test_a_published_policy_cannot_be_published_again(self, web: Client) -> None:
        published = shipped(2025)
        before = state(published)

        response = publish(web, published, "2099-01-01", "00:00:00")

        assert response.status_code == 403
        assert state(published) == before

    @pytest.mark.parametrize("which", ["shipped-2023", "published-now"])
    def test_withdraw_in_effect_is_refused(self, web: Client, draft: Policy, which: str) -> None:
        policy = shipped(2023)
        if which == "published-now":
            assert publish(web, draft).status_code == 302
            policy = draft
        before = state(policy)

        response = web.post(url("quotas_policy_withdraw", policy))

        assert response.status_code == 200
        assert "taken effect" in response.context["error"]
        assert "taken effect" in response.content.decode()
        assert state(policy) == before
        assert policy_row(policy)["status"] == "published"


def scheduled(draft: Policy) -> Policy:
    """``draft`` published to take effect in a month: the one state a policy can be withdrawn
    from."""
    return services.policy_publish(
        policy=draft,
        effective_from=timezone.now() + timedelta(days=30),
        now=timezone.now(),
    )


def member_of(role: str) -> AbstractBaseUser:
    """A staff user whose only permissions are a role's (shops/migrations/0004_roles.py)."""
    user = get_user_model().objects.create_user(role.replace(" ", "_"), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def tools(client: Client, policy: Policy) -> list[str]:
    """The change page's tool buttons, as a person reads them."""
    response = client.get(url("quotas_policy_change", policy))
    assert response.status_code == 200
    tools = response.content.decode().split('<ul class="object-tools">')[1].split("</ul>")[0]
    return [text.strip() for text in re.findall(r"<a [^>]*>([^<]+)</a>", tools)]


EXPORTS = ["Export categories (CSV)", "Export immediate-pickup kinds (CSV)"]
DRAFT_TOOLS = ["Import categories (CSV)", "Import immediate-pickup kinds (CSV)", "Publish…"]
# Whoever may ask for a policy preview (not the auditor, who reads them).
PREVIEW = "Preview against recorded sales"


class TestToolsOffered:
    """Each button on a policy's page is there exactly when its action would work."""

    @pytest.mark.parametrize("which", ["in force", "superseded", "withdrawn"])
    def test_withdraw_is_not_offered_once_in_force_or_withdrawn(
        self, web: Client, draft: Policy, which: str
    ) -> None:
        policy = {"in force": shipped(2025), "superseded": shipped(2023)}.get(which)
        if policy is None:
            policy = services.policy_withdraw(policy=scheduled(draft), now=timezone.now())

        offered = tools(web, policy)

        assert offered == ["Clone to draft", *EXPORTS, PREVIEW, "History"]
        # And had it been offered, it would not have worked:
        refused = web.post(url("quotas_policy_withdraw", policy))
        assert refused.status_code == 200
        assert refused.context["error"]

    def test_withdraw_is_offered_before_a_published_version_takes_effect(
        self, web: Client, draft: Policy
    ) -> None:
        policy = scheduled(draft)

        assert tools(web, policy) == ["Clone to draft", *EXPORTS, PREVIEW, "Withdraw…", "History"]
        assert web.post(url("quotas_policy_withdraw", policy)).status_code == 302
        assert policy_row(policy)["status"] == "withdrawn"

    def test_a_draft_offers_import_and_publish_not_withdraw(
        self, web: Client, draft: Policy
    ) -> None:
        assert tools(web, draft) == ["Clone to draft", *EXPORTS, *DRAFT_TOOLS, PREVIEW, "History"]

    def test_a_policy_editor_gets_the_same_tools(self, client: Client, draft: Policy) -> None:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        client.force_login(member_of("policy editor"))

        assert tools(client, draft) == [
            "Clone to draft", *EXPORTS, *DRAFT_TOOLS, PREVIEW, "History"
        ]  # fmt: skip
        assert "Withdraw…" in tools(client, scheduled(services.policy_clone(policy=draft)))

    def test_an_auditor_is_offered_only_what_reads(self, client: Client, draft: Policy) -> None:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        client.force_login(member_of("auditor"))
        published = scheduled(services.policy_clone(policy=draft))

        assert tools(client, draft) == [*EXPORTS, "History"]
        assert tools(client, published) == [*EXPORTS, "History"]
        # What is not offered would have been refused:
        for view in ("clone", "publish", "import", "withdraw"):
            target = published if view in ("clone", "withdraw") else draft
            assert client.post(url(f"quotas_policy_{view}", target)).status_code == 403, view


# --- 6. CSV export and import ------------------------------------------------------------------
class TestCsv:
    def test_export_of_a_published_policy(self, web: Client) -> None:
        response = web.get(url("quotas_policy_export", shipped(2025)))

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == list(COLUMNS)
        assert len(rows) == 48
        assert [r[:2] for r in rows[1:3]] == [["1", "jewellery"], ["2", "handicrafts"]]
        assert rows[5][4:6] == ["piece", "30"]

    def test_round_trip_changes_nothing(self, web: Client, draft: Policy) -> None:
        content = web.get(url("quotas_policy_export", draft)).content
        before = state(draft)
        pks = set(draft.categories.values_list("pk", flat=True))

        response = upload(web, draft, content)

        assert response.status_code == 302
        assert state(draft)[1:] == before[1:]  # categories, no history rows for unchanged ones
        assert set(draft.categories.values_list("pk", flat=True)) == pks
        assert web.get(url("quotas_policy_export", draft)).content == content

    def test_import_a_modified_file(
        self, web: Client, draft: Policy, editor: AbstractBaseUser
    ) -> None:
        rows = export_rows(web, draft)
        rows[1][3] = "Fine jewellery"  # rename number 1
        rows[5][5] = "20"  # cosmetics: 30 → 20 pieces
        del rows[10]  # drop number 10
        rows.append(["48", "test_gadgets", "测试", "Gadgets", "piece", "2", "no", "", ""])
        expected = categories(draft)
        expected[0]["name_en"] = "Fine jewellery"
        expected[4]["per_trip_limit_value"] = 20
        del expected[9]
        expected.append(
            {
                "number": 48,
                "code": "test_gadgets",
                "name_zh": "测试",
                "name_en": "Gadgets",
                "per_trip_limit_unit": "piece",
                "per_trip_limit_value": 2,
                "verified": "no",
                "added": "",
                "note": "",
            }
        )

        response = upload(web, draft, to_csv(rows))

        assert response.status_code == 302
        assert categories(draft) == expected
        assert draft.categories.get(code="jewellery").history.latest().history_user == editor
        assert shipped(2025).categories.count() == 47

    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            pytest.param(
                lambda rows: rows[2].__setitem__(1, rows[1][1]),
                "line 3: code jewellery repeats line 2",
                id="duplicate-code",
            ),
            pytest.param(
                lambda rows: rows[5].__setitem__(4, "kg"),
                "line 6: per_trip_limit_unit must be piece, ml or empty",
                id="bad-unit",
            ),
            pytest.param(
                lambda rows: rows[4].__setitem__(slice(4, 6), ["piece", "abc"]),
                "line 5: per_trip_limit_value must be a positive whole number",
                id="value-abc",
            ),
            pytest.param(
                lambda rows: [r.pop(3) for r in rows],
                "line 1: missing columns: name_en",
                id="missing-column",
            ),
        ],
    )
    def test_a_bad_file_lists_its_lines_and_writes_nothing(
        self, web: Client, draft: Policy, mutate: Callable[[list[list[str]]], Any], message: str
    ) -> None:
        rows = export_rows(web, draft)
        mutate(rows)
        before = state(draft)

        response = upload(web, draft, to_csv(rows))

        assert response.status_code == 200
        assert response.context["errors"] == [message]
        assert message in response.content.decode()
        assert state(draft) == before

    def test_a_file_that_is_not_utf8_writes_nothing(self, web: Client, draft: Policy) -> None:
        rows = export_rows(web, draft)
        content = to_csv(rows).replace("首饰".encode(), "首饰".encode("gbk"))
        before = state(draft)

        response = upload(web, draft, content)

        assert response.status_code == 200
        # 首饰 is category 1: the second line of the file, after the header.
        assert response.context["errors"][0].startswith("line 2: the file is not UTF-8")
        assert state(draft) == before

    def test_import_into_a_published_policy_is_refused(self, web: Client) -> None:
        published = shipped(2025)
        content = web.get(url("quotas_policy_export", published)).content.replace(
            b"Jewellery", b"Hacked"
        )
        before = state(published)

        response = upload(web, published, content)

        assert response.status_code == 403
        assert state(published) == before


# --- 7. history --------------------------------------------------------------------------------
class TestHistory:
    def test_history_page_names_the_editor(
        self, web: Client, draft: Policy, editor: AbstractBaseUser
    ) -> None:
        assert EDITOR not in history_table(web.get(url("quotas_policy_history", draft)))
        data = change_form_data(web, draft) | {"notes": "Reviewed against the annex."}
        assert web.post(url("quotas_policy_change", draft), data).status_code == 302

        response = web.get(url("quotas_policy_history", draft))

        assert response.status_code == 200
        assert EDITOR in history_table(response)
        assert "Reviewed against the annex." in history_table(response)
        assert draft.history.latest().history_user == editor

    @pytest.mark.parametrize(
        ("language", "status", "effective"),
        [
            (
                "zh-hans",
                "状态: 草稿 → 已发布",
                "生效时间: — → {year}年1月1日 00:00",
            ),
            (
                "en",
                "Status: draft → published",
                "Effective from: — → Jan. 1, {year}, midnight",
            ),
        ],
    )
    def test_a_publication_shows_local_time_and_the_status_change(
        self, web: Client, draft: Policy, language: str, status: str, effective: str
    ) -> None:
        """Entered as next New Year's Day, 00:00 Beijing time: shown so, not as UTC."""
        year = timezone.localdate().year + 1
        assert publish(web, draft, f"{year}-01-01", "00:00:00").status_code == 302
        web.defaults["HTTP_ACCEPT_LANGUAGE"] = language

        table = history_table(web.get(url("quotas_policy_history", draft)))

        published = table.split("<tr>")[2]  # newest first, after the heading row
        changes = html.unescape(
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", published.split("<ul>")[1]))
        )
        assert effective.format(year=year) in changes
        assert status in changes
        assert "None" not in changes
        assert "+00:00" not in changes
