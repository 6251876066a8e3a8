"""Asking for a policy preview and reading it: the API (the platform's staff), the command, and
the admin's pages (a policy's button, the window, progress, the tables in both languages, the
CSV, earlier previews)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from quotas.models import Category, Policy
from quotas.rules import LOCAL_TZ
from quotas.services import policy_clone
from shops.models import Operator, PolicyPreview
from shops.operators.services import set_operator
from shops.previews.services import preview_request, preview_run
from tests.support.sales import sell
from tests.support.shop import terminal, trip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]


def in_force() -> Policy:
    return Policy.objects.filter(status="published").order_by("-effective_from").first()


def cosmetics_draft(limit: int = 15) -> Policy:
    draft = policy_clone(policy=in_force())
    Category.objects.filter(policy=draft, code="cosmetics").update(per_trip_limit_value=limit)
    return draft


def token(username: str, *operator: str) -> str:
    out = io.StringIO()
    call_command("create_staff_token", username, *operator, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def api(key: str, language: str = "en") -> Client:
    return Client(headers={"authorization": f"Token {key}", "accept-language": language})


def post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/policy-previews", body, content_type="application/json")


def today() -> str:
    return timezone.now().astimezone(LOCAL_TZ).date().isoformat()


@pytest.fixture
def sales() -> None:
    till, _ = terminal()
    on = trip("HU7777")
    sell(till, ("LIP", 10), on=on)
    sell(till, ("LIP", 10), on=on)  # 20 on the trip: over 15


class TestApi:
    def test_asked_then_read_when_done(self, sales: None) -> None:
        staff = api(token("customs-officer"))
        draft = cosmetics_draft()

        asked = post(staff, {"policy": draft.pk, "start": today(), "end": today()})

        assert asked.status_code == 202, asked.content
        body = asked.json()
        assert asked["Location"] == f"/api/v1/policy-previews/{body['id']}"
        assert body["status"] == "queued"
        assert body["progress"] == 0.0
        assert body["result"] is None
        preview_run(body["id"], clock=timezone.now)  # as the worker would
        read = staff.get(asked["Location"])
        assert read.status_code == 200
        done = read.json()
        assert done["status"] == "done"
        assert done["progress"] == 1.0
        assert done["done"] == done["total"] == 2
        result = done["result"]
        assert result["sales"] == 2
        assert result["refused"]["sales"] == 1
        assert result["refused"]["amount"] == "3200.00"
        assert result["refused"]["by_code"]["per_trip_limit_exceeded"]["sales"] == 1
        assert result["refused"]["by_store"] == {
            "SYA-HTB": {"sales": 1, "lines": 1, "amount": "3200.00"}
        }
        assert result["policy"]["id"] == draft.pk
        assert result["quota"]["annual_limit"] == "100000.00"
        assert done["stale"] is False

    def test_a_preview_still_running_is_answered_again_and_a_finished_one_is_not(
        self, sales: None
    ) -> None:
        staff = api(token("customs-officer"))
        draft = cosmetics_draft()
        body = {"policy": draft.pk, "start": today(), "end": today()}

        first = post(staff, body).json()
        again = post(staff, body).json()
        other_window = post(staff, {**body, "start": "2026-01-01"}).json()

        assert again["id"] == first["id"]
        assert other_window["id"] != first["id"]
        preview_run(first["id"], clock=timezone.now)
        assert post(staff, body).json()["id"] not in (first["id"], other_window["id"])

    def test_the_window_defaults_to_the_last_30_days(self) -> None:
        staff = api(token("customs-officer"))
        answer = post(staff, {"policy": in_force().pk})
        assert answer.status_code == 202
        end = timezone.now().astimezone(LOCAL_TZ).date()
        assert answer.json()["end"] == end.isoformat()
        assert answer.json()["start"] == (end - timedelta(days=29)).isoformat()

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"policy": 999999}, "policy", "There is no policy 999999."),
            ({"start": "2026-03-02", "end": "2026-03-01"}, "end", "end is before start."),
            ({"start": "1999-12-31", "end": "2000-01-31"}, "start", "Dates from 2000-01-01"),
            ({"start": "2020-01-01", "end": "2026-03-01"}, "end", "at most"),
            ({"start": "2026-02-30"}, "start", "date"),
            ({"policy": "3"}, "policy", "integer"),
            ({"extra": 1}, "extra", "not part of the request"),
        ],
    )
    def test_bad_input_names_its_field_in_the_persons_language(
        self, body: dict[str, Any], field: str, message: str
    ) -> None:
        staff = api(token("customs-officer"))
        answer = post(staff, {"policy": in_force().pk, **body})
        assert answer.status_code == 400, answer.content
        errors = answer.json()["errors"]
        assert field in errors, errors
        assert message in " ".join(errors[field])
        assert PolicyPreview.objects.count() == 0

    def test_in_chinese(self) -> None:
        staff = api(token("customs-officer"), "zh-hans")
        answer = post(staff, {"policy": 999999})
        assert answer.json()["errors"]["policy"] == ["没有编号为 999999 的政策。"]

    def test_an_operators_staff_are_refused_and_a_missing_preview_is_404(self) -> None:
        operator = api(token("hndf-person", "--operator", "HNDF"))
        refused = post(operator, {"policy": in_force().pk})
        assert refused.status_code == 403
        assert "platform" in refused.json()["detail"]
        staff = api(token("customs-officer"))
        for missing in ("999", "99999999999999999999"):
            answer = staff.get(f"/api/v1/policy-previews/{missing}")
            assert answer.status_code == 404, answer.content
            assert answer.json()["detail"] == "There is no such policy preview."


class TestARunTakenForAbandoned:
    def test_writes_nothing_over_what_replaced_it(self, sales: None) -> None:
        asked, _ = preview_request(
            policy_id=in_force().pk,
            start=timezone.localdate(),
            end=timezone.localdate(),
            now=timezone.now(),
            dispatch=False,
        )

        def taken_for_abandoned(done: int, total: int) -> None:
            # Meanwhile another request found it silent too long and marked it failed.
            PolicyPreview.objects.filter(pk=asked.pk).update(status="failed", error="abandoned")

        preview_run(asked.pk, clock=timezone.now, progress=taken_for_abandoned)

        left = PolicyPreview.objects.get(pk=asked.pk)
        assert left.status == "failed"
        assert left.error == "abandoned"
        assert left.result is None


class TestCommand:
    def test_prints_the_result_as_json_on_its_last_line(self, sales: None) -> None:
        draft = cosmetics_draft()
        out = io.StringIO()
        call_command(
            "preview_policy", str(draft.pk), "--start", today(), "--end", today(), stdout=out
        )
        last = out.getvalue().strip().splitlines()[-1]
        result = json.loads(last)
        assert result["sales"] == 2
        assert result["refused"]["sales"] == 1
        assert PolicyPreview.objects.get().status == "done"

    def test_an_unknown_policy_and_a_bad_date_are_told(self) -> None:
        with pytest.raises(CommandError, match="policy"):
            call_command("preview_policy", "999999", stdout=io.StringIO())
        with pytest.raises(CommandError, match="Not a date"):
            call_command("preview_policy", str(in_force().pk), "--end", "2026-13-01")


# --- The admin --------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client: Client) -> Client:
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(root)
    return client


def page(client: Client, url: str, language: str) -> str:
    answer = client.get(url, headers={"accept-language": language})
    assert answer.status_code == 200, answer.status_code
    return answer.content.decode()


class TestAdmin:
    def test_the_policy_page_offers_a_preview_and_the_form_takes_its_window(
        self, admin_client: Client, sales: None
    ) -> None:
        draft = cosmetics_draft()
        policy_page = page(admin_client, f"/admin/quotas/policy/{draft.pk}/change/", "en")
        link = f"/admin/shops/policypreview/add/?policy={draft.pk}"
        assert link in policy_page
        assert "Preview against recorded sales" in policy_page

        form = page(admin_client, link, "en")
        end = timezone.now().astimezone(LOCAL_TZ).date()
        assert f'value="{(end - timedelta(days=29)).isoformat()}"' in form
        assert f'value="{end.isoformat()}"' in form
        assert f'<option value="{draft.pk}" selected>' in form

        asked = admin_client.post(link, {"policy": draft.pk, "start": today(), "end": today()})
        preview = PolicyPreview.objects.get()
        assert asked.status_code == 302
        assert asked["Location"] == f"/admin/shops/policypreview/{preview.pk}/change/"
        assert preview.requested_by is not None

    def test_a_bad_window_is_told_beside_its_field(self, admin_client: Client) -> None:
        answer = admin_client.post(
            "/admin/shops/policypreview/add/",
            {"policy": in_force().pk, "start": "2026-03-02", "end": "2026-03-01"},
            headers={"accept-language": "zh-hans"},
        )
        assert answer.status_code == 200
        assert answer.context["form"].errors == {"end": ["end 早于 start。"]}
        assert PolicyPreview.objects.count() == 0

    def test_progress_while_it_runs(self, admin_client: Client) -> None:
        preview, _ = preview_request(
            policy_id=in_force().pk,
            start=timezone.localdate(),
            end=timezone.localdate(),
            now=timezone.now(),
            dispatch=False,
        )
        PolicyPreview.objects.filter(pk=preview.pk).update(status="running", done=40, total=160)
        shown = page(admin_client, f"/admin/shops/policypreview/{preview.pk}/change/", "en")
        assert '<meta http-equiv="refresh" content="2">' in shown
        assert '<progress max="100" value="25">' in shown
        assert "Judging: 40 of 160 sales." in shown
        chinese = page(admin_client, f"/admin/shops/policypreview/{preview.pk}/change/", "zh-hans")
        assert "判定中：已判定 40 / 160 笔销售。" in chinese

    def test_the_result_in_both_languages_with_its_csv_and_earlier_previews(
        self, admin_client: Client, sales: None
    ) -> None:
        draft = cosmetics_draft()
        earlier, _ = preview_request(
            policy_id=draft.pk, start=timezone.localdate() - timedelta(days=3),
            end=timezone.localdate(), now=timezone.now(), dispatch=False,
        )  # fmt: skip
        preview_run(earlier.pk, clock=timezone.now)
        preview, _ = preview_request(
            policy_id=draft.pk, start=timezone.localdate(), end=timezone.localdate(),
            now=timezone.now(), dispatch=False,
        )  # fmt: skip
        preview_run(preview.pk, clock=timezone.now)
        url = f"/admin/shops/policypreview/{preview.pk}/change/"

        english = page(admin_client, url, "en")
        assert "refresh" not in english
        assert "Per-trip limit exceeded" in english
        assert "Cosmetics" in english
        assert "3,200.00" in english
        assert f"/admin/shops/policypreview/{earlier.pk}/change/" in english
        chinese = page(admin_client, url, "zh-hans")
        assert "超出每次离岛限购" in chinese
        assert "化妆品" in chinese
        assert "该版本以前的预演" in chinese

        exported = admin_client.get(
            f"/admin/shops/policypreview/{preview.pk}/export.csv",
            headers={"accept-language": "zh-hans"},
        )
        assert exported.status_code == 200
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[0] == ["表", "代码", "名称", "销售", "商品行", "金额"]
        assert [
            "按原因",
            "per_trip_limit_exceeded",
            "超出每次离岛限购",
            "1",
            "1",
            "3200.00",
        ] in rows

    def test_a_draft_changed_since_is_told(self, admin_client: Client) -> None:
        draft = cosmetics_draft()
        preview, _ = preview_request(
            policy_id=draft.pk, start=timezone.localdate(), end=timezone.localdate(),
            now=timezone.now(), dispatch=False,
        )  # fmt: skip
        preview_run(preview.pk, clock=timezone.now)
        Category.objects.filter(policy=draft, code="cosmetics").update(per_trip_limit_value=12)
        shown = page(admin_client, f"/admin/shops/policypreview/{preview.pk}/change/", "en")
        assert "The draft has been changed since this preview judged it" in shown

    def test_an_operators_staff_see_no_previews(self, client: Client) -> None:
        person = get_user_model().objects.create_user("hndf-person", is_staff=True)
        person.user_permissions.set(
            Permission.objects.filter(
                codename__in=["add_policypreview", "view_policypreview", "view_policy"]
            )
        )
        set_operator(person, Operator.objects.get(code="HNDF"))
        client.force_login(person)
        assert client.get("/admin/shops/policypreview/add/").status_code in (403, 404)
        policy_page = client.get(f"/admin/quotas/policy/{in_force().pk}/change/")
        assert policy_page.status_code == 200
        assert "policypreview/add" not in policy_page.content.decode()
        # The same person at the platform is offered it.
        set_operator(person, None)
        person = get_user_model().objects.get(pk=person.pk)
        client.force_login(person)
        policy_page = client.get(f"/admin/quotas/policy/{in_force().pk}/change/")
        assert "policypreview/add" in policy_page.content.decode()
