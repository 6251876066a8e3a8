"""The admin as an operator's people see it: their own stores,
terminals, sales and returns listed and opened; another operator's a 404, as one that does not
exist; the platform's people see every one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.test import Client
from django.utils import timezone

from shops.models import Operator, Return, Sale, Store, Terminal
from shops.operators.services import set_operator
from shops.pos.returns import sale_return
from tests import support

pytestmark = pytest.mark.django_db


def person(username: str, role: str, operator: str | None) -> AbstractUser:
    user = get_user_model().objects.create_user(username, password="pw-tests", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    if operator is not None:
        set_operator(user, Operator.objects.get(code=operator))
    return user


@pytest.fixture
def world(db: None) -> dict[str, object]:
    support.product("S-LIP", "cosmetics", "100.00")
    htb, _ = support.terminal("SYA-HTB")
    t1, _ = support.terminal("HAK-T1")
    mine = support.sell(htb, ("S-LIP", 2), number=1, departs_after=timedelta(days=1))
    theirs = support.sell(t1, ("S-LIP", 3), number=1, departs_after=timedelta(days=1))
    sales = {
        "CDFG": Sale.objects.get(pk=mine.sale_id),
        "HNDF": Sale.objects.get(pk=theirs.sale_id),
    }
    for who, terminal in (("CDFG", htb), ("HNDF", t1)):
        sale = sales[who]
        sale_return(
            terminal=terminal, sale_id=sale.pk, idempotency_key=f"r-{who}", fingerprint="f" * 64,
            lines=[(sale.lines.get().pk, 1)], reason="changed mind", now=timezone.now(),
        )  # fmt: skip
    return {
        "sales": sales,
        "returns": {who: Return.objects.get(sale=sale) for who, sale in sales.items()},
        "terminals": {"CDFG": htb, "HNDF": t1},
        "stores": {
            "CDFG": Store.objects.get(code="SYA-HTB"),
            "HNDF": Store.objects.get(code="HAK-T1"),
        },
    }


PAGES = {
    "stores": "shops/store",
    "terminals": "shops/terminal",
    "sales": "shops/sale",
    "returns": "shops/return",
}


@pytest.mark.parametrize("role", ["store manager", "auditor"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_an_operators_people_open_their_own_and_never_find_anothers(
    world: dict, client: Client, role: str, kind: str
) -> None:
    client.force_login(person("hndf-staff", role, "HNDF"))
    own, other = world[kind]["HNDF"], world[kind]["CDFG"]
    listing = client.get(f"/admin/{PAGES[kind]}/")
    assert listing.status_code == 200
    shown = {obj.pk for obj in listing.context["cl"].result_list}
    assert own.pk in shown
    assert other.pk not in shown
    assert client.get(f"/admin/{PAGES[kind]}/{own.pk}/change/").status_code == 200
    assert client.get(f"/admin/{PAGES[kind]}/{other.pk}/change/").status_code == 404
    missing = max(type(own).objects.values_list("pk", flat=True)) + 1000
    assert client.get(f"/admin/{PAGES[kind]}/{missing}/change/").status_code == 404
    assert client.get(f"/admin/{PAGES[kind]}/{other.pk}/history/").status_code == 404


@pytest.mark.parametrize("kind", list(PAGES))
def test_the_platforms_people_see_every_operators(world: dict, client: Client, kind: str) -> None:
    client.force_login(person("customs", "auditor", None))
    shown = {obj.pk for obj in client.get(f"/admin/{PAGES[kind]}/").context["cl"].result_list}
    assert {world[kind]["HNDF"].pk, world[kind]["CDFG"].pk} <= shown
    for who in ("HNDF", "CDFG"):
        assert client.get(f"/admin/{PAGES[kind]}/{world[kind][who].pk}/change/").status_code == 200


def test_an_operators_store_manager_cannot_move_a_store_to_another_operator(
    world: dict, client: Client
) -> None:
    client.force_login(person("hndf-manager", "store manager", "HNDF"))
    store = world["stores"]["HNDF"]
    page = client.get(f"/admin/shops/store/{store.pk}/change/")
    assert "operator" not in page.context["adminform"].form.fields
    client.post(f"/admin/shops/store/{store.pk}/change/", {
        "code": store.code, "name_zh": store.name_zh, "name_en": store.name_en, "city": store.city,
        "channel": store.channel, "active": "on", "operator": Operator.objects.get(code="CDFG").pk,
    })  # fmt: skip
    assert Store.objects.get(pk=store.pk).operator.code == "HNDF"
    # A store the manager adds is their operator's.
    client.post("/admin/shops/store/add/", {
        "code": "HAK-NEW", "name_zh": "新店", "name_en": "New", "city": "Haikou",
        "channel": "physical", "active": "on",
    })  # fmt: skip
    assert Store.objects.get(code="HAK-NEW").operator.code == "HNDF"


def test_the_terminal_filter_offers_only_the_operators_stores(world: dict, client: Client) -> None:
    client.force_login(person("hndf-staff", "auditor", "HNDF"))
    text = client.get("/admin/shops/terminal/").content.decode()
    assert "HAK-T1" in text
    assert "SYA-HTB" not in text
    assert Terminal.objects.count() == 2


def test_a_store_filter_naming_another_operators_store_finds_as_a_missing_store_does(
    world: dict, client: Client
) -> None:
    client.force_login(person("hndf-staff", "auditor", "HNDF"))
    theirs = world["stores"]["CDFG"].pk
    missing = max(Store.objects.values_list("pk", flat=True)) + 1000
    found = []
    for store in (theirs, missing):
        answer = client.get("/admin/shops/sale/", {"store__id__exact": store})
        assert answer.status_code == 200
        found.append([sale.pk for sale in answer.context["cl"].result_list])
    assert found[0] == found[1]
    assert world["sales"]["CDFG"].pk not in found[0]
