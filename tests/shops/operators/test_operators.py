"""Operators as data: the shipped stores carry their operators,
operators and their stores and people are added by command, the admin lists operators with
their stores, and a user's operator changes only at a platform administrator's hand."""

from __future__ import annotations

import io
import re
from importlib import import_module

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from quotas.models import Policy
from shops.models import Operator, OperatorStaff, Store
from shops.operators.scope import is_platform, operator_of, scoped, visible_store_ids
from shops.operators.services import set_operator
from tests.support.admin_forms import page_form_data

pytestmark = pytest.mark.django_db

SHIPPED = {
    "CDFG": {"SYA-HTB", "SYA-AIR", "HAK-IDFC"},
    "HNDF": {"HAK-T1", "HAK-T2", "HAK-RIYUE", "QHI-BOAO"},
    "HTI": {"SYA-HTDF"},
    "CNSC": {"SYA-CNSC"},
    "HDH": {"HAK-GDF"},
    "SZDF": {"HAK-MH"},
    "WFJ": {"WNG-WFJ"},
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def fail(*args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    return str(excinfo.value)


def staff(username: str, *, operator: str | None = None, superuser: bool = False) -> AbstractUser:
    user = get_user_model().objects.create_user(
        username, password="pw-for-tests-only", is_staff=True, is_superuser=superuser
    )
    if operator is not None:
        set_operator(user, Operator.objects.get(code=operator))
    return user


def test_the_twelve_licensed_stores_belong_to_the_seven_operators() -> None:
    found: dict[str, set[str]] = {}
    for store in Store.objects.select_related("operator").filter(
        code__in=set().union(*SHIPPED.values())
    ):
        assert store.operator is not None, store.code
        found.setdefault(store.operator.code, set()).add(store.code)
    assert found == SHIPPED
    names = dict(Operator.objects.values_list("code", "name_en"))
    assert names["HNDF"] == "Hainan Duty Free"
    assert names["CDFG"] == "China Duty Free Group"
    assert Operator.objects.get(code="WFJ").name_zh == "王府井"


def test_a_store_known_only_by_its_text_gets_an_operator_of_its_own_code() -> None:
    migration = import_module("shops.migrations.0018_operators")
    assert migration._code_for("Sanya Harbour Retail Co.", set()) == "SANYAHARBOUR"
    assert migration._code_for("CDFG", {"CDFG"}) == "CDFG-2"
    assert migration._code_for("三亚", set()) == "OP"  # no Latin letters: a code still
    assert re.fullmatch(r"[A-Z][A-Z0-9\-]{1,15}", migration._code_for("42 Trading", set()))


def test_create_operator_adds_one_and_refuses_a_bad_or_taken_code() -> None:
    out = run("create_operator", "hnx", "--name", "海南新免", "--name-en", "Hainan New DF")
    operator = Operator.objects.get(code="HNX")
    assert (operator.name_zh, operator.name_en) == ("海南新免", "Hainan New DF")
    assert f"Operator HNX created ({operator.pk})." in out
    assert "code" in fail("create_operator", "HNX", "--name", "again")
    assert "code" in fail("create_operator", "1-BAD CODE", "--name", "x")
    run("create_operator", "ZZ", "--name", "只有中文")
    assert Operator.objects.get(code="ZZ").name_en == "只有中文"


def test_create_store_links_its_operator_and_names_an_unknown_code() -> None:
    run("create_store", "HAK-NEW", "--name", "新店", "--city", "Haikou", "--operator", "cdfg")
    assert Store.objects.get(code="HAK-NEW").operator == Operator.objects.get(code="CDFG")
    message = fail(
        "create_store", "HAK-NEW2", "--name", "x", "--city", "Haikou", "--operator", "NOPE"
    )
    assert "No operator 'NOPE'" in message
    assert "CDFG" in message
    assert not Store.objects.filter(code="HAK-NEW2").exists()
    run("create_store", "HAK-PLAT", "--name", "平台店", "--city", "Haikou")
    assert Store.objects.get(code="HAK-PLAT").operator is None


def test_create_staff_token_with_an_operator_makes_that_operators_person() -> None:
    out = run("create_staff_token", "ana", "--operator", "HNDF")
    user = get_user_model().objects.get(username="ana")
    assert operator_of(user) == Operator.objects.get(code="HNDF")
    assert "operator HNDF: its stores only" in out
    assert not is_platform(user)
    hndf = set(Store.objects.filter(code__in=SHIPPED["HNDF"]).values_list("pk", flat=True))
    assert visible_store_ids(user) == hndf
    # Another token for the same person: they stay HNDF's, with or without --operator.
    assert "operator HNDF" in run("create_staff_token", "ana")
    assert "operator HNDF" in run("create_staff_token", "ana", "--operator", "HNDF")
    message = fail("create_staff_token", "ana", "--operator", "CDFG")
    assert "works for HNDF, not CDFG" in message
    assert "admin" in message
    assert operator_of(get_user_model().objects.get(username="ana")).code == "HNDF"
    assert "No operator 'XX'" in fail("create_staff_token", "bob", "--operator", "XX")
    assert not get_user_model().objects.filter(username="bob").exists()


def test_create_staff_token_without_an_operator_makes_the_platforms_person() -> None:
    out = run("create_staff_token", "customs")
    user = get_user_model().objects.get(username="customs")
    assert operator_of(user) is None
    assert is_platform(user)
    assert "platform: all stores" in out
    assert visible_store_ids(user) is None  # every store, those added later too
    # A platform person is not moved to an operator by a token either.
    assert "works for the platform, not CDFG" in fail(
        "create_staff_token", "customs", "--operator", "CDFG"
    )


def test_scoped_cuts_any_queryset_to_the_users_stores() -> None:
    cdfg, platform = staff("c1", operator="CDFG"), staff("p1")
    assert (
        set(scoped(Store.objects.all(), cdfg, "pk").values_list("code", flat=True))
        == SHIPPED["CDFG"]
    )
    assert scoped(Store.objects.all(), platform, "pk").count() == Store.objects.count()


def test_the_admin_lists_operators_with_their_stores(client: Client) -> None:
    client.force_login(staff("root", superuser=True))
    page = client.get("/admin/shops/operator/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "HAK-RIYUE, HAK-T1, HAK-T2, QHI-BOAO" in text
    assert "Hainan Duty Free" in text
    detail = client.get(f"/admin/shops/operator/{Operator.objects.get(code='WFJ').pk}/change/")
    assert detail.status_code == 200
    assert "WNG-WFJ" in detail.content.decode()


def test_an_operators_people_find_their_own_operator_and_no_other(client: Client) -> None:
    auditor = staff("hndf-auditor", operator="HNDF")
    auditor.groups.add(Group.objects.get(name="auditor"))
    client.force_login(auditor)
    page = client.get("/admin/shops/operator/")
    assert page.status_code == 200
    assert [o.code for o in page.context["cl"].result_list] == ["HNDF"]
    own, other = (Operator.objects.get(code=code).pk for code in ("HNDF", "CDFG"))
    assert client.get(f"/admin/shops/operator/{own}/change/").status_code == 200
    assert client.get(f"/admin/shops/operator/{other}/change/").status_code == 404


def test_a_platform_administrator_changes_a_users_operator_in_the_admin(client: Client) -> None:
    person = staff("ana", operator="HNDF")
    client.force_login(staff("root", superuser=True))
    listing = client.get("/admin/auth/user/").content.decode()
    assert "HNDF" in listing
    url = f"/admin/auth/user/{person.pk}/change/"
    data = page_form_data(client.get(url))
    prefix = next(key for key in data if key.endswith("-0-operator"))
    data[prefix] = str(Operator.objects.get(code="CDFG").pk)
    answer = client.post(url, data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert OperatorStaff.objects.get(user=person).operator.code == "CDFG"


def test_nobody_else_changes_a_users_operator(client: Client) -> None:
    person = staff("ana", operator="HNDF")
    # An operator's person and a platform staff user who is no superuser, both given the
    # permission to change users.
    for editor in (staff("ops-admin", operator="CDFG"), staff("clerk")):
        editor.user_permissions.set(
            Permission.objects.filter(codename__in=["view_user", "change_user"])
        )
        client.force_login(editor)
        url = f"/admin/auth/user/{person.pk}/change/"
        page = client.get(url)
        assert page.status_code == 200
        data = page_form_data(page)
        prefix = next((key for key in data if key.endswith("-0-operator")), None)
        if prefix is not None:
            data[prefix] = str(Operator.objects.get(code="CDFG").pk)
        client.post(url, data)
        assert OperatorStaff.objects.get(user=person).operator.code == "HNDF", editor.username


def test_a_superuser_is_the_platforms() -> None:
    root = staff("root", superuser=True)
    with pytest.raises(ValueError, match="superuser"):
        set_operator(root, Operator.objects.get(code="CDFG"))
    assert operator_of(root) is None
    with pytest.raises(ValidationError):
        OperatorStaff(user=root, operator=Operator.objects.get(code="CDFG")).full_clean()


def test_an_operators_people_read_the_policy_and_never_change_it(client: Client) -> None:
    editor = staff("hndf-editor", operator="HNDF")
    editor.groups.add(Group.objects.get(name="policy editor"))
    platform_editor = staff("policy-desk")
    platform_editor.groups.add(Group.objects.get(name="policy editor"))
    assert platform_editor.has_perm("quotas.change_policy")
    editor = get_user_model().objects.get(pk=editor.pk)  # a fresh permission cache
    assert editor.has_perm("quotas.view_policy")
    assert not editor.has_perm("quotas.change_policy")
    assert not editor.has_perm("quotas.add_category")
    client.force_login(editor)
    assert client.get("/admin/quotas/policy/").status_code == 200
    assert client.get("/admin/quotas/policy/add/").status_code == 403
    policy = Policy.objects.order_by("pk").first()
    page = client.get(f"/admin/quotas/policy/{policy.pk}/change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
