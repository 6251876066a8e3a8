"""What the feed tells people: each sale's customs status in its API answer, ``reconcile_feed``
(exit 1 when something is late), ``replay_feed``, ``check_books``' "every change has its event",
and the admin's pages of endpoints (health, disable, enable, a time range sent again), events
(sent again) and deliveries — an operator's people seeing their own only."""

from __future__ import annotations

import io
import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from shops.feed import delivery, endpoints
from shops.models import Delivery, Endpoint, EndpointKind, Event, Operator
from shops.operators.services import set_operator
from shops.reporting.audit import check_books
from tests import support
from tests.support.keys import unique_key

from .conftest import Keys, Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(db: None) -> dict[str, str]:
    support.product("R-LIP", "cosmetics", "320.00")
    return {"authorization": f"Bearer {support.terminal('SYA-HTB')[1]}"}


def sell(client: Client, till: dict[str, str], number: int = 1) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/sales",
        json.dumps(support.json_basket(support.basket(("R-LIP", 1), number=number))),
        content_type="application/json",
        headers={**till, "idempotency-key": unique_key()},
    )
    assert answer.status_code == 201, answer.content
    return answer.json()  # type: ignore[no-any-return]


def customs_of(client: Client, till: dict[str, str], sale_id: int) -> dict[str, Any]:
    return client.get(f"/api/v1/sales/{sale_id}", headers=till).json()["customs"]  # type: ignore[no-any-return]


def run_feed(at: datetime | None = None) -> None:
    clock = (lambda: at) if at else timezone.now
    delivery.pump(
        now=clock(),
        send=lambda e, t: delivery.deliver_endpoint(
            e,
            t,
            clock=clock,
            rng=random.Random(3),  # noqa: S311 - jitter
        ),
    )


def customs_endpoint(url: str) -> Endpoint:
    return endpoints.create_endpoint(
        url=url, name="customs", types=None, operator=None, kind=EndpointKind.CUSTOMS,
        now=timezone.now(),
    ).endpoint  # fmt: skip


# --- A sale's customs status ------------------------------------------------------------------
def test_without_a_customs_channel_a_sale_says_not_configured(client: Client, till: dict) -> None:
    sale = sell(client, till)
    assert "customs" not in sale  # the 201 is the first answer (and the event's data)
    assert customs_of(client, till, sale["id"]) == {"status": "not_configured", "at": None}


def test_a_sale_is_pending_then_delivered_to_customs(
    client: Client, till: dict, receiver: Receiver, feed_keys: Keys
) -> None:
    customs_endpoint(receiver.url)
    sale = sell(client, till)
    assert customs_of(client, till, sale["id"]) == {"status": "pending", "at": None}
    run_feed()
    shown = customs_of(client, till, sale["id"])
    assert shown["status"] == "delivered"
    delivered_at = Delivery.objects.get().delivered_at
    assert shown["at"] == timezone.localtime(delivered_at).isoformat()


def test_a_sale_customs_never_received_says_failed(
    client: Client, till: dict, receiver: Receiver, feed_keys: Keys
) -> None:
    receiver.default = (500, {})
    customs_endpoint(receiver.url)
    sale = sell(client, till)
    start = timezone.now()
    run_feed(start)
    run_feed(start + timedelta(hours=74))
    assert customs_of(client, till, sale["id"])["status"] == "failed"


# --- reconcile_feed ---------------------------------------------------------------------------
def reconcile(*args: str) -> tuple[str, bool]:
    out = io.StringIO()
    try:
        call_command("reconcile_feed", *args, stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def test_reconcile_names_what_customs_has_not_received_and_fails_when_late(
    client: Client, till: dict, receiver: Receiver, feed_keys: Keys
) -> None:
    receiver.default = (500, {})
    customs_endpoint(receiver.url)
    sale = sell(client, till)
    run_feed()
    text, ok = reconcile("--max-age", "60")
    assert ok, text  # pending, but younger than an hour
    assert "customs [customs]: 1 pending, 0 failed" in text
    text, ok = reconcile("--max-age", "0")
    assert not ok
    assert sale["receipt_no"] in text
    receiver.default = (200, {})
    run_feed(timezone.now() + timedelta(minutes=2))  # past the backoff
    text, ok = reconcile("--max-age", "0")
    assert ok, text
    assert "customs [customs]: 0 pending, 0 failed" in text


def test_reconcile_refuses_a_negative_age() -> None:
    with pytest.raises(CommandError, match="0 or more"):
        call_command("reconcile_feed", "--max-age", "-1", stdout=io.StringIO())


# --- replay_feed ------------------------------------------------------------------------------
def test_replay_sends_an_event_or_a_range_again(
    client: Client, till: dict, receiver: Receiver
) -> None:
    endpoints.create_endpoint(
        url=receiver.url, name="erp", types=None, operator=Operator.objects.get(code="CDFG"),
        kind="integrator", now=timezone.now(),
    )  # fmt: skip
    sell(client, till)
    sell(client, till, number=2)
    run_feed()
    assert len(receiver.requests) == 2
    event = Event.objects.order_by("pk").first()
    assert event is not None
    out = io.StringIO()
    call_command("replay_feed", "--event", event.public_id, stdout=out)
    assert "1 endpoint" in out.getvalue()
    run_feed()
    assert json.loads(receiver.requests[-1].body)["id"] == event.public_id
    out = io.StringIO()
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    call_command("replay_feed", "--endpoint", "erp", "--since", since, stdout=out)
    assert "2 event(s)" in out.getvalue()
    run_feed()
    assert len(receiver.requests) == 5
    with pytest.raises(CommandError, match="No event"):
        call_command("replay_feed", "--event", "evt_nope", stdout=io.StringIO())


# --- check_books ------------------------------------------------------------------------------
def test_the_books_name_a_change_without_its_event(client: Client, till: dict) -> None:
    sale = sell(client, till)
    assert check_books(rollups=False).differences == []
    Event.objects.filter(sale_id=sale["id"]).delete()
    differences = check_books(rollups=False).differences
    assert differences == [f"sale {sale['receipt_no']}: no sale.completed event"]


# --- The admin --------------------------------------------------------------------------------
def person(role: str, operator: str | None) -> AbstractUser:
    user = get_user_model().objects.create_user(
        f"{role}-{operator}".replace(" ", "-"), password="pw-tests", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    if operator:
        set_operator(user, Operator.objects.get(code=operator))
    return user


@pytest.fixture
def two_endpoints(receiver: Receiver) -> dict[str, Endpoint]:
    made = {}
    for code in ("CDFG", "HNDF"):
        made[code] = endpoints.create_endpoint(
            url=receiver.url, name=f"{code.lower()}-erp", types=None,
            operator=Operator.objects.get(code=code), kind="integrator", now=timezone.now(),
        ).endpoint  # fmt: skip
    return made


def test_the_endpoint_list_shows_health_and_an_operator_its_own(
    client: Client, till: dict, receiver: Receiver, two_endpoints: dict[str, Endpoint]
) -> None:
    receiver.default = (500, {})
    sell(client, till)
    run_feed()
    client.force_login(person("auditor", None))
    page = client.get("/admin/shops/endpoint/")
    assert page.status_code == 200
    rows = {e.name: e for e in page.context["cl"].result_list}
    assert set(rows) == {"cdfg-erp", "hndf-erp"}
    assert rows["cdfg-erp"].backlog_count == 1
    assert rows["cdfg-erp"].failures_in_row == 1
    assert "whsec_" not in page.content.decode()  # never a secret
    client.force_login(person("store manager", "HNDF"))
    page = client.get("/admin/shops/endpoint/")
    assert [e.name for e in page.context["cl"].result_list] == ["hndf-erp"]
    other = two_endpoints["CDFG"].pk
    assert client.get(f"/admin/shops/endpoint/{other}/change/").status_code == 404
    assert client.get("/admin/shops/event/").context["cl"].result_count == 0  # CDFG's sale


def test_a_store_manager_disables_enables_and_replays_a_range(
    client: Client, till: dict, receiver: Receiver, two_endpoints: dict[str, Endpoint]
) -> None:
    sell(client, till)
    run_feed()
    mine = two_endpoints["CDFG"]
    client.force_login(person("store manager", "CDFG"))
    page = "/admin/shops/endpoint/"
    client.post(page, {"action": "disable", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert not mine.enabled
    assert "store-manager-CDFG" in mine.disabled_reason  # who, in their language
    client.post(page, {"action": "enable", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.enabled
    asked = client.post(page, {"action": "replay_range", "_selected_action": [mine.pk]})
    assert asked.status_code == 200
    assert "form" in asked.context
    local = timezone.localtime()
    start, end = local - timedelta(hours=1), local + timedelta(minutes=1)
    done = client.post(
        page,
        {
            "action": "replay_range", "_selected_action": [mine.pk], "apply": "1",
            "start_0": start.strftime("%Y-%m-%d"), "start_1": start.strftime("%H:%M:%S"),
            "end_0": end.strftime("%Y-%m-%d"), "end_1": end.strftime("%H:%M:%S"),
        },
    )  # fmt: skip
    assert done.status_code == 302
    assert Delivery.objects.get(endpoint=mine).status == "pending"
    run_feed()
    assert len(receiver.requests) == 2


def test_an_auditor_cannot_send_events_again(
    client: Client, till: dict, receiver: Receiver, two_endpoints: dict[str, Endpoint]
) -> None:
    sell(client, till)
    run_feed()
    event = Event.objects.get()
    client.force_login(person("auditor", None))
    client.post("/admin/shops/event/", {"action": "send_again", "_selected_action": [event.pk]})
    assert Delivery.objects.get().status == "delivered"
    client.force_login(person("store manager", "CDFG"))
    client.post("/admin/shops/event/", {"action": "send_again", "_selected_action": [event.pk]})
    assert Delivery.objects.get().status == "pending"


def test_an_operators_event_page_shows_only_its_own_endpoints_deliveries(
    client: Client, till: dict, receiver: Receiver, two_endpoints: dict[str, Endpoint]
) -> None:
    endpoints.create_endpoint(
        url=receiver.url, name="platform", types=None, operator=None, kind="integrator",
        now=timezone.now(),
    )  # fmt: skip
    sell(client, till)
    run_feed()
    event = Event.objects.get()
    client.force_login(person("store manager", "CDFG"))
    page = client.get(f"/admin/shops/event/{event.pk}/change/")
    assert page.status_code == 200
    (inline,) = page.context["inline_admin_formsets"]
    assert [f.original.endpoint.name for f in inline] == ["cdfg-erp"]
    client.force_login(person("auditor", None))
    page = client.get(f"/admin/shops/event/{event.pk}/change/")
    (inline,) = page.context["inline_admin_formsets"]
    assert sorted(f.original.endpoint.name for f in inline) == ["cdfg-erp", "platform"]
