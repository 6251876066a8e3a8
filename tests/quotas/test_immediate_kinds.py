"""The immediate-pickup list (即购即提, 公告2023年第25号) on the policy side :
the shipped kinds and their history, immutability once published, clone and publish, the CSV
and its import, the policy page's inline, the policy answer of the API."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from quotas import kind_csv, services
from quotas.change_reasons import (
    CLONED,
    CSV_IMPORT,
    KINDS_SHIPPED,
    change_reason,
    change_reason_text,
)
from quotas.errors import PolicyImmutable, PolicyNotPublishable
from quotas.kind_csv import COLUMNS, export_kinds, parse_kinds
from quotas.models import ImmediatePickupKind, Policy
from tests.conftest import local
from tests.support.admin_forms import change_form_data, url
from tests.support.policies import shipped

pytestmark = pytest.mark.django_db

NOW = local(2026, 5, 1, 9, 0)
# The annex as shipped: code → (number, category, unit_zh, per trip, per variety, counts pieces).
ANNEX = {
    "cosmetics": (1, "cosmetics", "件", 5, 1, True),
    "perfume": (2, "perfume", "瓶", 1, None, False),
    "sunglasses": (3, "eyewear", "副", 1, None, False),
    "clothing": (4, "clothing", "件", 1, None, False),
    "silk_scarves": (5, "silk_scarves", "件", 1, None, False),
    "footwear_hats": (6, "footwear_hats", "件", 1, None, False),
    "bags": (7, "bags_luggage", "件", 1, None, False),
    "diapers": (8, "diapers", "包", 3, None, False),
    "infant_formula": (9, "infant_formula", "罐（包）", 3, None, False),
    "confectionery": (10, "confectionery", "件", 3, None, False),
    "razors": (11, "beauty_health_appliances", "件", 1, None, False),
    "travel_adapters": (12, "", "个", 1, None, False),
    "sporting_goods": (13, "sporting_goods", "个", 1, None, False),
    "toys": (14, "toys", "件（套）", 1, None, False),
    "belts": (15, "belts", "件", 1, None, False),
}


def kinds(policy: Policy) -> list[dict[str, Any]]:
    """Every CSV-visible field of the policy's kinds, by number."""
    return list(policy.immediate_kinds.order_by("number").values(*COLUMNS))


def kind_of(policy: Policy, **fields: Any) -> ImmediatePickupKind:
    values = {
        "number": 16,
        "code": "umbrellas",
        "name_zh": "雨伞",
        "name_en": "Umbrellas",
        "unit_zh": "把",
        "unit_en": "piece",
        "per_trip": 1,
        **fields,
    }
    return ImmediatePickupKind(policy=policy, **values)


def to_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def exported_rows(policy: Policy) -> list[list[str]]:
    return list(csv.reader(io.StringIO(export_kinds(policy.immediate_kinds.all()))))


@pytest.fixture
def draft() -> Policy:
    return services.policy_clone(policy=shipped(2025))


@pytest.fixture
def editor() -> AbstractBaseUser:
    return get_user_model().objects.create_superuser("kinds_editor_wu", "wu@example.com", None)


@pytest.fixture
def web(client: Client, editor: AbstractBaseUser) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(editor)
    return client


# --- the shipped list ---------------------------------------------------------------------------
class TestShipped:
    @pytest.mark.parametrize("year", [2023, 2025])
    def test_each_shipped_policy_carries_the_annex(self, year: int) -> None:
        listed = {
            kind.code: (
                kind.number,
                kind.category_code,
                kind.unit_zh,
                kind.per_trip,
                kind.per_variety,
                kind.counts_pieces,
            )
            for kind in shipped(year).immediate_kinds.all()
        }
        assert listed == ANNEX

    @pytest.mark.parametrize("year", [2023, 2025])
    def test_the_kinds_categories_exist_and_carry_the_derived_flag(self, year: int) -> None:
        policy = shipped(year)
        codes = set(policy.categories.values_list("code", flat=True))
        named = {category for _n, category, *_ in ANNEX.values()} - {""}
        assert named <= codes
        flagged = {c.code for c in policy.categories.all() if c.immediate_pickup}
        assert flagged == named
        eyewear = policy.categories.get(code="eyewear")
        assert [k.code for k in eyewear.immediate_kinds] == ["sunglasses"]
        assert not policy.categories.get(code="jewellery").immediate_pickup

    @pytest.mark.parametrize("year", [2023, 2025])
    def test_the_history_records_the_amendment(self, year: int) -> None:
        policy = shipped(year)
        # The row after the shipped one (later migrations, such as quotas.0016, add their own).
        amended = policy.history.order_by("history_date", "history_id")[1]
        assert amended.history_change_reason == change_reason(
            KINDS_SHIPPED, migration="quotas.0010"
        )
        assert amended.history_type == "~"
        with translation.override("zh-hans"):
            assert "公告2023年第25号" in change_reason_text(amended.history_change_reason)
        with translation.override("en"):
            assert "announcement 2023 No. 25" in change_reason_text(amended.history_change_reason)
        assert amended.status == "published"
        records = ImmediatePickupKind.history.filter(policy_id=policy.pk)
        assert records.count() == 15
        assert {r.history_type for r in records} == {"+"}
        assert {r.history_change_reason for r in records} == {amended.history_change_reason}


# --- a published list is immutable ------------------------------------------------------------
class TestImmutable:
    def test_a_published_kind_cannot_be_saved_or_deleted(self) -> None:
        kind = shipped(2025).immediate_kinds.get(code="cosmetics")
        kind.per_trip = 50
        with pytest.raises(PolicyImmutable):
            kind.save()
        with pytest.raises(PolicyImmutable):
            kind.delete()
        assert shipped(2025).immediate_kinds.get(code="cosmetics").per_trip == 5

    def test_nor_bulk_updated_deleted_or_added_to(self) -> None:
        published = shipped(2025)
        with pytest.raises(PolicyImmutable):
            ImmediatePickupKind.objects.filter(code="perfume").update(per_trip=9)
        with pytest.raises(PolicyImmutable):
            ImmediatePickupKind.objects.filter(policy=published).delete()
        with pytest.raises(PolicyImmutable):
            ImmediatePickupKind.objects.bulk_create([kind_of(published)])
        with pytest.raises(PolicyImmutable):
            kind_of(published).save()
        assert published.immediate_kinds.count() == 15
        assert set(ImmediatePickupKind.objects.filter(code="perfume").values_list("per_trip")) == {
            (1,)
        }

    def test_a_draft_kind_cannot_move_into_a_published_policy(self, draft: Policy) -> None:
        kind = draft.immediate_kinds.get(code="belts")
        kind.policy = shipped(2023)
        with pytest.raises(PolicyImmutable):
            kind.save()
        assert shipped(2023).immediate_kinds.count() == 15

    def test_a_drafts_kinds_are_edited_freely(self, draft: Policy) -> None:
        ImmediatePickupKind.objects.filter(policy=draft, code="perfume").update(per_trip=2)
        kind_of(draft).save()
        assert draft.immediate_kinds.get(code="perfume").per_trip == 2
        assert draft.immediate_kinds.count() == 16
        assert shipped(2025).immediate_kinds.get(code="perfume").per_trip == 1


# --- clone and publish --------------------------------------------------------------------------
class TestCloneAndPublish:
    def test_clone_copies_the_kinds_with_their_history(self) -> None:
        source = shipped(2025)
        user = get_user_model().objects.create_user("cloner")

        clone = services.policy_clone(policy=source, user=user)

        assert kinds(clone) == kinds(source)
        assert not set(clone.immediate_kinds.values_list("pk", flat=True)) & set(
            source.immediate_kinds.values_list("pk", flat=True)
        )
        records = ImmediatePickupKind.history.filter(policy_id=clone.pk)
        assert records.count() == 15
        assert {(r.history_type, r.history_change_reason, r.history_user) for r in records} == {
            ("+", change_reason(CLONED, policy=source.pk), user)
        }
        assert clone.categories.get(code="eyewear").immediate_pickup

    def test_publish_refuses_a_kind_whose_category_is_missing(self, draft: Policy) -> None:
        draft.categories.filter(code="eyewear").delete()
        kind_of(draft, category_code="umbrellas").save()

        with pytest.raises(PolicyNotPublishable) as refused:
            services.policy_publish(policy=draft, effective_from=NOW, now=NOW)

        assert "eyewear, umbrellas" in str(refused.value.detail)
        assert refused.value.extra["categories"] == ["eyewear", "umbrellas"]
        with translation.override("zh-hans"):
            assert "品类不在本政策中：eyewear, umbrellas" in str(refused.value.detail)
        assert Policy.objects.get(pk=draft.pk).status == "draft"

    def test_a_kind_without_a_category_is_published(self, draft: Policy) -> None:
        assert draft.immediate_kinds.get(code="travel_adapters").category_code == ""
        kind_of(draft).save()  # no category either

        published = services.policy_publish(policy=draft, effective_from=NOW, now=NOW)

        assert published.status == "published"
        assert published.immediate_kinds.count() == 16


# --- the CSV ----------------------------------------------------------------------------------
class TestCsv:
    def test_export_lists_the_kinds_by_number(self) -> None:
        rows = exported_rows(shipped(2025))
        assert rows[0] == list(COLUMNS)
        assert len(rows) == 16
        cosmetics = ["1", "cosmetics", "化妆品", "Cosmetics", "cosmetics", "件", "piece"]
        assert rows[1] == [*cosmetics, "true", "5", "1", rows[1][10]]
        assert rows[12][:5] == ["12", "travel_adapters", rows[12][2], "Travel adapters", ""]
        assert rows[12][7:10] == ["false", "1", ""]

    def test_export_then_parse_gives_the_kinds_back(self) -> None:
        policy = shipped(2025)
        parsed = parse_kinds(export_kinds(policy.immediate_kinds.all()).encode())
        assert parsed.errors == []
        assert parsed.rows == kinds(policy)

    def test_yes_no_words_and_a_bom_are_read(self) -> None:
        rows = exported_rows(shipped(2025))
        rows[1][7], rows[2][7] = "是", ""
        parsed = parse_kinds(b"\xef\xbb\xbf" + to_csv(rows))
        assert parsed.errors == []
        assert [row["counts_pieces"] for row in parsed.rows[:2]] == [True, False]

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            pytest.param(
                {2: {1: "Perfume"}},
                "line 3: code 'Perfume' must be lowercase letters, digits and underscores, "
                "starting with a letter",
                id="bad-code",
            ),
            pytest.param(
                {3: {4: "Eye-wear"}},
                "line 4: category_code 'Eye-wear' must be lowercase letters, digits and "
                "underscores, starting with a letter",
                id="bad-category-code",
            ),
            pytest.param({3: {1: "perfume"}}, "line 4: code perfume repeats line 3", id="dup-code"),
            pytest.param({4: {0: "3"}}, "line 5: number 3 repeats line 4", id="dup-number"),
            pytest.param(
                {1: {9: "6"}},
                "line 2: per_variety (6) is more than per_trip (5); a cap per variety is at "
                "most the cap per departure",
                id="per-variety-over-per-trip",
            ),
            pytest.param(
                {8: {8: "three"}},
                "line 9: per_trip must be a whole number from 1 to 999",
                id="per-trip-not-a-number",
            ),
            pytest.param(
                {8: {8: "0"}},
                "line 9: per_trip must be a whole number from 1 to 999",
                id="per-trip-zero",
            ),
            pytest.param(
                {1: {9: "1.5"}},
                "line 2: per_variety must be a whole number from 1 to 999",
                id="per-variety-decimal",
            ),
            pytest.param(
                {5: {0: "x"}},
                "line 6: number must be a whole number from 1 to 999",
                id="number-not-a-number",
            ),
            pytest.param({6: {5: ""}}, "line 7: unit_zh is required", id="missing-unit"),
            pytest.param({7: {8: ""}}, "line 8: per_trip is required", id="missing-per-trip"),
            pytest.param(
                {9: {7: "maybe"}},
                "line 10: counts_pieces must be yes or no (or empty: no)",
                id="counts-pieces-word",
            ),
            pytest.param(
                {10: {6: "u" * 33}},
                "line 11: unit_en is longer than 32 characters",
                id="too-long",
            ),
        ],
    )
    def test_a_bad_row_is_reported_by_its_line(
        self, change: dict[int, dict[int, str]], message: str
    ) -> None:
        rows = exported_rows(shipped(2025))
        for line, cells in change.items():
            for column, value in cells.items():
                rows[line][column] = value
        parsed = parse_kinds(to_csv(rows))
        assert parsed.errors == [message]
        assert parsed.rows == []

    def test_every_bad_row_is_reported_at_once(self) -> None:
        rows = exported_rows(shipped(2025))
        rows[2][8] = "x"
        rows[15][1] = "cosmetics"
        rows.append([*rows[3][:9], "", "", "extra"])
        rows[-1][:2] = ["16", "more"]
        errors = parse_kinds(to_csv(rows)).errors
        assert errors == [
            "line 3: per_trip must be a whole number from 1 to 999",
            "line 16: code cosmetics repeats line 2",
            "line 17: more values than columns",
        ]

    def test_the_header_and_the_file_itself_are_checked(self) -> None:
        rows = exported_rows(shipped(2025))
        unknown = [[*row, "x"] for row in rows]
        unknown[0][-1] = "shelf"
        assert parse_kinds(to_csv(unknown)).errors == ["line 1: unknown columns: shelf"]
        missing = [row[:8] + row[9:] for row in rows]
        assert parse_kinds(to_csv(missing)).errors == ["line 1: missing columns: per_trip"]
        not_utf8 = to_csv(rows).replace("香水".encode(), "香水".encode("gbk"))
        assert parse_kinds(not_utf8).errors[0].startswith("line 3: the file is not UTF-8")
        assert parse_kinds(b"x" * 1_000_001).errors == ["the file is larger than 1,000,000 bytes"]
        assert parse_kinds(to_csv(rows[:1])).errors == ["the file has no immediate-pickup kinds"]


class TestReplace:
    def test_a_round_trip_writes_nothing(self, draft: Policy) -> None:
        before = (kinds(draft), ImmediatePickupKind.history.count())
        rows = parse_kinds(export_kinds(draft.immediate_kinds.all()).encode()).rows

        assert services.policy_kinds_replace(policy=draft, rows=rows) == 15

        assert (kinds(draft), ImmediatePickupKind.history.count()) == before

    def test_changes_renumbering_and_removal(self, draft: Policy) -> None:
        user = get_user_model().objects.create_user("importer")
        rows = parse_kinds(export_kinds(draft.immediate_kinds.all()).encode()).rows
        perfume_pk = draft.immediate_kinds.get(code="perfume").pk
        rows[1]["per_trip"] = 2  # perfume
        rows[13]["number"], rows[14]["number"] = 15, 14  # toys and belts swap
        del rows[11]  # travel adapters

        assert services.policy_kinds_replace(policy=draft, rows=rows, user=user) == 14

        perfume = draft.immediate_kinds.get(code="perfume")
        assert (perfume.pk, perfume.per_trip) == (perfume_pk, 2)
        assert perfume.history.latest().history_user == user
        assert perfume.history.latest().history_change_reason == change_reason(CSV_IMPORT)
        assert [k.code for k in draft.immediate_kinds.filter(number__gte=14)] == ["belts", "toys"]
        assert not draft.immediate_kinds.filter(code="travel_adapters").exists()
        assert shipped(2025).immediate_kinds.count() == 15

    def test_all_or_nothing(self, draft: Policy) -> None:
        rows = parse_kinds(export_kinds(draft.immediate_kinds.all()).encode()).rows
        rows[0]["name_en"] = "Make-up"
        rows[14]["per_variety"] = 2  # belts: more per variety than per departure (1)
        before = (kinds(draft), ImmediatePickupKind.history.count())

        with pytest.raises(ValidationError):
            services.policy_kinds_replace(policy=draft, rows=rows)

        assert (kinds(draft), ImmediatePickupKind.history.count()) == before

    def test_only_drafts(self) -> None:
        with pytest.raises(PolicyImmutable):
            services.policy_kinds_replace(policy=shipped(2025), rows=[])
        assert shipped(2025).immediate_kinds.count() == 15


# --- the policy page --------------------------------------------------------------------------
def upload(client: Client, policy: Policy, content: bytes) -> Any:
    file = SimpleUploadedFile("kinds.csv", content, content_type="text/csv")
    return client.post(url("quotas_policy_kinds_import", policy), {"file": file})


class TestAdmin:
    def test_the_inline_is_read_only_on_a_published_policy(self, web: Client) -> None:
        response = web.get(url("quotas_policy_change", shipped(2025)))

        assert response.status_code == 200
        (inline,) = [
            i
            for i in response.context["inline_admin_formsets"]
            if i.formset.model is ImmediatePickupKind
        ]
        assert not inline.has_change_permission
        assert not inline.has_add_permission
        assert not inline.has_delete_permission
        page = response.content.decode()
        assert 'id="immediate_kinds-group"' in page
        assert 'name="immediate_kinds-0-per_trip"' not in page
        assert "Travel adapters" in page
        assert "Export immediate-pickup kinds (CSV)" in page
        assert "Import immediate-pickup kinds (CSV)" not in page

    def test_the_inline_edits_a_draft(
        self, web: Client, draft: Policy, editor: AbstractBaseUser
    ) -> None:
        data = change_form_data(web, draft)
        prefix = next(
            key.removesuffix("code")
            for key, value in data.items()
            if key.startswith("immediate_kinds-") and key.endswith("-code") and value == "diapers"
        )
        page = web.get(url("quotas_policy_change", draft))
        (inline,) = [
            i
            for i in page.context["inline_admin_formsets"]
            if i.formset.model is ImmediatePickupKind
        ]
        assert inline.has_change_permission
        assert list(inline.formset.forms[0].fields)[: len(COLUMNS)] == list(COLUMNS)
        data[prefix + "per_trip"] = "4"

        response = web.post(url("quotas_policy_change", draft), data)

        assert response.status_code == 302
        diapers = draft.immediate_kinds.get(code="diapers")
        assert diapers.per_trip == 4
        assert diapers.history.latest().history_user == editor
        assert shipped(2025).immediate_kinds.get(code="diapers").per_trip == 3
        page = web.get(url("quotas_policy_change", draft)).content.decode()
        assert "Import immediate-pickup kinds (CSV)" in page

    def test_a_kind_edit_appears_on_its_policys_history(
        self, web: Client, draft: Policy, editor: AbstractBaseUser
    ) -> None:
        data = change_form_data(web, draft)
        prefix = next(
            key.removesuffix("code")
            for key, value in data.items()
            if key.startswith("immediate_kinds-") and key.endswith("-code") and value == "diapers"
        )
        data[prefix + "per_trip"] = "4"
        assert web.post(url("quotas_policy_change", draft), data).status_code == 302

        html = web.get(
            url("quotas_policy_history", draft), headers={"accept-language": "en"}
        ).content.decode()

        table = html[html.index('<table id="kind-history"') :]
        table = table[: table.index("</table>")]
        edit = next(r for r in table.split("<tr>") if "(diapers)" in r and "Changed" in r)
        assert editor.username in edit
        assert re.search(r"cap per departure:</strong>\s*3\s*&rarr;\s*4", edit, re.I), edit
        cloned = [r for r in table.split("<tr>") if f"cloned from policy {shipped(2025).pk}" in r]
        assert len(cloned) == 15
        assert "16 immediate-pickup kind changes" in html  # 15 from the clone, and the edit
        assert "48 category changes" not in html  # the categories' table counts its own
        assert "47 category changes" in html

    def test_the_publish_page_counts_the_kinds_or_warns_of_none(
        self, web: Client, draft: Policy
    ) -> None:
        en = {"accept-language": "en"}
        page = web.get(url("quotas_policy_publish", draft), headers=en).content.decode()
        assert "15 kinds of goods on the immediate-pickup list" in page
        ImmediatePickupKind.objects.filter(policy=draft).delete()
        page = web.get(url("quotas_policy_publish", draft), headers=en).content.decode()
        assert "No immediate-pickup list: nothing can be picked up at once" in page
        zh = web.get(url("quotas_policy_publish", draft), headers={"accept-language": "zh-hans"})
        assert "即购即提" in zh.content.decode()

    @pytest.mark.parametrize(
        ("language", "why"), [("en", "announcement 2023 No. 25"), ("zh-hans", "公告2023年第25号")]
    )
    def test_a_shipped_policys_history_shows_the_amendment(
        self, web: Client, language: str, why: str
    ) -> None:
        html = web.get(
            url("quotas_policy_history", shipped(2023)), headers={"accept-language": language}
        ).content.decode()
        table = html[html.index('<table id="kind-history"') :]
        assert table.count(why) >= 15  # each kind's first record says why
        own = html[
            html.index('<table id="change-history"') : html.index('<table id="kind-history"')
        ]
        assert why in own  # and so does the policy's own history

    def test_the_inline_refuses_a_per_variety_over_per_trip(
        self, web: Client, draft: Policy
    ) -> None:
        data = change_form_data(web, draft)
        prefix = next(
            key.removesuffix("code")
            for key, value in data.items()
            if key.startswith("immediate_kinds-") and key.endswith("-code") and value == "perfume"
        )
        data[prefix + "per_variety"] = "2"

        response = web.post(url("quotas_policy_change", draft), data)

        assert response.status_code == 200
        assert draft.immediate_kinds.get(code="perfume").per_variety is None

    def test_export_and_import(self, web: Client, draft: Policy, editor: AbstractBaseUser) -> None:
        exported = web.get(url("quotas_policy_kinds_export", draft))
        assert exported.status_code == 200
        assert exported["Content-Type"].startswith("text/csv")
        assert f"policy-{draft.pk}-immediate-kinds.csv" in exported["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(exported.content.decode())))
        rows[8][8] = "5"  # diapers

        response = upload(web, draft, to_csv(rows))

        assert response.status_code == 302
        assert draft.immediate_kinds.get(code="diapers").per_trip == 5
        assert draft.immediate_kinds.get(code="diapers").history.latest().history_user == editor

    def test_a_bad_file_is_shown_by_line_and_writes_nothing(
        self, web: Client, draft: Policy
    ) -> None:
        rows = exported_rows(draft)
        rows[2][9], rows[4][1] = "9", "Bad"
        before = (kinds(draft), ImmediatePickupKind.history.count())

        response = upload(web, draft, to_csv(rows))

        assert response.status_code == 200
        errors = response.context["errors"]
        assert [error.split(":")[0] for error in errors] == ["line 3", "line 5"]
        for error in errors:
            assert error.replace("'", "&#x27;") in response.content.decode()
        assert (kinds(draft), ImmediatePickupKind.history.count()) == before

    def test_a_published_policy_takes_no_import(self, web: Client) -> None:
        published = shipped(2025)
        rows = exported_rows(published)
        rows[1][8] = "50"

        assert web.get(url("quotas_policy_kinds_import", published)).status_code == 403
        assert upload(web, published, to_csv(rows)).status_code == 403
        assert published.immediate_kinds.get(code="cosmetics").per_trip == 5

    def test_the_import_page_is_translated(self, web: Client, draft: Policy) -> None:
        page = web.get(
            url("quotas_policy_kinds_import", draft), headers={"accept-language": "zh-hans"}
        ).content.decode()
        assert "整体替换本草稿的即购即提清单" in page
        assert ",".join(kind_csv.COLUMNS) in page

    def test_the_publish_refusal_is_shown_in_the_pages_language(
        self, web: Client, draft: Policy
    ) -> None:
        draft.categories.filter(code="perfume").delete()

        response = web.post(
            url("quotas_policy_publish", draft),
            {"effective_from_0": "", "effective_from_1": ""},
            headers={"accept-language": "zh-hans"},
        )

        assert response.status_code == 200
        assert "品类不在本政策中：perfume" in response.content.decode()
        assert Policy.objects.get(pk=draft.pk).status == "draft"


# --- the API ----------------------------------------------------------------------------------
class TestApi:
    def test_the_policy_answer_lists_the_kinds(self, client: Client) -> None:
        body = client.get("/api/v1/policy", {"at": "2026-01-01T00:00:00+08:00"}).json()

        listing = body["immediate_pickup"]
        assert listing["max_unit_price"] == "20000.00"
        assert [k["code"] for k in listing["kinds"]] == list(ANNEX)
        assert listing["kinds"][0] == {
            "code": "cosmetics",
            "name_zh": "化妆品",
            "name_en": "Cosmetics",
            "category": "cosmetics",
            "unit": "piece",
            "unit_zh": "件",
            "unit_en": "piece",
            "per_trip": 5,
            "per_variety": 1,
        }
        by_code = {k["code"]: k for k in listing["kinds"]}
        assert by_code["travel_adapters"]["category"] is None
        assert (by_code["sunglasses"]["category"], by_code["sunglasses"]["unit"]) == (
            "eyewear",
            "item",
        )
        assert by_code["diapers"]["per_trip"] == 3
        flags = {c["code"]: c["immediate_pickup"] for c in body["categories"]}
        assert flags["eyewear"] is True
        assert flags["jewellery"] is False
        assert sum(flags.values()) == 14

    def test_no_query_per_kind_or_category(self, client: Client) -> None:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/policy", {"at": "2026-01-01T00:00:00+08:00"})
        assert response.status_code == 200
        tables = [q["sql"] for q in queries.captured_queries]
        assert sum('FROM "quotas_immediatepickupkind"' in sql for sql in tables) == 1
        assert sum('FROM "quotas_category"' in sql for sql in tables) == 1
        assert sum('FROM "quotas_policy"' in sql for sql in tables) == 1

    def test_the_schema_describes_the_list(self, client: Client) -> None:
        schema = client.get("/api/schema/?format=json").json()
        components = schema["components"]["schemas"]
        output = components["PolicyOut"]["properties"]
        assert output["immediate_pickup"]["$ref"].endswith("/ImmediatePickupOut")
        listing = components["ImmediatePickupOut"]["properties"]
        assert set(listing) == {"max_unit_price", "kinds"}
        kind = components[listing["kinds"]["items"]["$ref"].rsplit("/", 1)[1]]
        assert list(kind["properties"]) == [
            "code",
            "name_zh",
            "name_en",
            "category",
            "unit",
            "unit_zh",
            "unit_en",
            "per_trip",
            "per_variety",
        ]
        def types(field: dict) -> list[str]:  # a nullable member: one of its types, or null
            return [choice["type"] for choice in field["anyOf"]]

        assert types(kind["properties"]["category"]) == ["string", "null"]
        assert types(kind["properties"]["per_variety"]) == ["integer", "null"]
        unit = components[kind["properties"]["unit"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
        assert unit["enum"] == ["piece", "item"]


def test_the_category_list_shows_the_derived_flag(web: Client) -> None:
    response = web.get(url("quotas_category_changelist"), {"policy__id__exact": shipped(2025).pk})
    assert response.status_code == 200
    rows = {c.code: c.immediate_pickup for c in response.context["cl"].result_list}
    assert rows["eyewear"] is True
    assert rows["jewellery"] is False
    assert sum(rows.values()) == 14
