"""The event feed end to end in one process: events written with the changes they report (none
for a change rolled back), fanned out to the endpoints that receive them (an operator's own
stores only; customs and the platform every store), POSTed to a real HTTP receiver with
Standard Webhooks signatures that the specification's own library verifies (and PyNaCl the
customs channel's Ed25519 one), retried with backoff, ``Retry-After`` honoured, ``410 Gone``
disabling, given up after the retry window, secrets rotated with both signing for a day."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from nacl.public import SealedBox
from nacl.signing import VerifyKey
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shops.feed import delivery, endpoints
from shops.models import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointKind,
    Event,
    Operator,
    Sale,
)
from tests import support
from tests.support.keys import unique_key

from .conftest import Keys, Receiver

pytestmark = pytest.mark.django_db

CDFG_STORE, HNDF_STORE = "SYA-HTB", "HAK-T1"


@pytest.fixture
def till(db: None) -> dict[str, str]:
    support.product("F-LIP", "cosmetics", "320.00")
    _terminal, key = support.terminal(CDFG_STORE)
    return {"authorization": f"Bearer {key}"}


def sell(client: Client, till: dict[str, str], *, number: int = 1, key: str = "") -> Any:
    body = support.json_basket(support.basket(("F-LIP", 2), number=number))
    answer = client.post(
        "/api/v1/sales",
        json.dumps(body),
        content_type="application/json",
        headers={**till, "idempotency-key": key or unique_key()},
    )
    assert answer.status_code == 201, answer.content
    return answer


def endpoint(
    url: str, name: str = "erp", *, operator: str | None = None, kind: str = "integrator",
    types: list[str] | None = None,
) -> tuple[Endpoint, str]:  # fmt: skip
    made = endpoints.create_endpoint(
        url=url,
        name=name,
        types=types,
        operator=Operator.objects.get(code=operator) if operator else None,
        kind=kind,
        now=timezone.now(),
    )
    return made.endpoint, made.secret


def run_feed(at: datetime | None = None) -> dict[str, int]:
    """One beat round, its deliveries made here and now (or at ``at``)."""
    clock: Callable[[], datetime] = (lambda: at) if at else timezone.now

    def send(endpoint_id: int, token: str) -> None:
        delivery.deliver_endpoint(
            endpoint_id,
            token,
            clock=clock,
            rng=random.Random(7),  # noqa: S311 - jitter
        )

    return delivery.pump(now=clock(), send=send)


def verified(receiver: Receiver, secret: str, n: int = -1) -> dict[str, Any]:
    request = receiver.requests[n]
    return Webhook(secret).verify(request.body, request.headers)  # type: ignore[no-any-return]


# --- Written with the change ------------------------------------------------------------------
def test_a_sale_writes_its_event_with_its_first_answer(client: Client, till: dict) -> None:
    answer = sell(client, till)
    (event,) = Event.objects.all()
    assert event.type == "sale.completed"
    assert event.sale_id == answer.json()["id"]
    assert json.loads(event.data) == answer.json()
    assert event.created_at == Sale.objects.get().sold_at
    assert event.public_id.startswith("evt_")
    assert len(event.public_id) == 36
    assert event.sealed_identity == ""  # no customs channel
    # A replay answers again and writes nothing more.
    key = unique_key()
    sell(client, till, number=2, key=key)
    sell(client, till, number=2, key=key)
    assert Event.objects.count() == 2


def test_a_refused_or_rolled_back_sale_leaves_no_event(client: Client, till: dict) -> None:
    body = support.json_basket(support.basket(("F-LIP", 400)))  # over the cosmetics limit
    refused = client.post(
        "/api/v1/sales", json.dumps(body), content_type="application/json",
        headers={**till, "idempotency-key": unique_key()},
    )  # fmt: skip
    assert refused.status_code == 422
    terminal = support.terminal(CDFG_STORE)[0]
    trip = support.trip(departs_at=timezone.now() - timedelta(hours=1))  # departed: rolled back
    with pytest.raises(Exception):  # noqa: B017, PT011 - whichever refusal, nothing written
        support.commit(terminal, support.basket(("F-LIP", 1), on=trip))
    assert not Event.objects.exists()
    assert not Sale.objects.exists()


def test_returns_voids_pickups_and_departures_write_theirs(client: Client, till: dict) -> None:
    soon = timezone.now() + timedelta(hours=1)
    basket = support.json_basket(support.basket(("F-LIP", 2), departs_at=soon))
    sale = client.post(
        "/api/v1/sales", json.dumps(basket), content_type="application/json",
        headers={**till, "idempotency-key": unique_key()},
    ).json()  # fmt: skip
    line = sale["lines"][0]["id"]

    def post(url: str, body: dict | None = None) -> Any:
        answer = client.post(
            url, json.dumps(body or {}), content_type="application/json",
            headers={**till, "idempotency-key": unique_key()},
        )  # fmt: skip
        assert answer.status_code in {200, 201}, answer.content
        return answer.json()

    returned = post(
        f"/api/v1/sales/{sale['id']}/returns", {"lines": [{"line": line, "quantity": 1}]}
    )
    voided = post(f"/api/v1/sales/{sale['id']}/void")
    departed = post(
        "/api/v1/departures",
        {
            "document": basket["shopper"]["document"],
            "carrier_ref": basket["trip"]["carrier_ref"],
            "departed_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        },
    )
    events = {e.type: e for e in Event.objects.all()}
    assert set(events) == {"sale.completed", "sale.returned", "sale.voided", "departure.recorded"}
    assert json.loads(events["sale.returned"].data) == returned
    assert json.loads(events["sale.voided"].data) == voided
    assert json.loads(events["departure.recorded"].data) == departed
    assert {e.store.code for e in events.values()} == {CDFG_STORE}


# --- Who receives what ------------------------------------------------------------------------
def test_an_operators_endpoint_receives_its_own_stores_events_only(
    client: Client, till: dict, receiver: Receiver
) -> None:
    endpoint(receiver.url, "cdfg-erp", operator="CDFG")
    endpoint(receiver.url, "hndf-erp", operator="HNDF")
    endpoint(receiver.url, "platform")
    endpoint(receiver.url, "returns-only", types=["sale.returned"])
    sell(client, till)
    assert run_feed()["events"] == 1
    got = set(Delivery.objects.values_list("endpoint__name", flat=True))
    assert got == {"cdfg-erp", "platform"}
    assert len(receiver.requests) == 2


# --- Delivered and verified -------------------------------------------------------------------
def test_a_delivery_is_signed_as_the_specification_says(
    client: Client, till: dict, receiver: Receiver
) -> None:
    _, secret = endpoint(receiver.url)
    answer = sell(client, till)
    run_feed()
    payload = verified(receiver, secret)
    event = Event.objects.get()
    assert payload == {
        "id": event.public_id,
        "type": "sale.completed",
        "created_at": timezone.localtime(event.created_at).isoformat(),
        "data": answer.json(),
    }
    headers = receiver.requests[0].headers
    assert headers["webhook-id"] == event.public_id
    assert headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoints.signing.new_secret()).verify(receiver.requests[0].body, headers)
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
    assert Endpoint.objects.get().last_success_at is not None
    (attempt,) = Attempt.objects.all()
    assert attempt.status_code == 200
    assert attempt.response_head == '{"ok": true}'


def test_the_customs_channel_signs_with_ed25519_and_seals_the_identity(
    client: Client, till: dict, receiver: Receiver, feed_keys: Keys
) -> None:
    _, secret = endpoint(receiver.url, "customs", kind=EndpointKind.CUSTOMS)
    sell(client, till)
    run_feed()
    request = receiver.requests[0]
    payload = Webhook(secret).verify(request.body, request.headers)
    v1a = [s for s in request.headers["webhook-signature"].split(" ") if s.startswith("v1a,")]
    signed = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
        + request.body
    )
    public = VerifyKey(bytes(feed_keys.signing.verify_key))
    public.verify(signed, base64.b64decode(v1a[0][4:]))  # raises when it does not match
    data = payload["data"]
    sale = Sale.objects.get()
    assert data["receipt_no"] == sale.receipt_no
    assert data["store"] == CDFG_STORE
    assert data["lines"][0]["category"] == {"code": "cosmetics", "number": data["lines"][0][
        "category"]["number"]}  # fmt: skip
    assert isinstance(data["lines"][0]["category"]["number"], int)
    assert data["total"] == "640.00"
    assert data["trip"]["carrier_ref"]
    sealed = base64.b64decode(data["shopper"]["identity_sealed"])
    identity = json.loads(SealedBox(feed_keys.customs).decrypt(sealed))
    assert identity["document"]["number"] == support.resident_id(1)
    assert identity["name"] == "张三"
    # The database holds the sealed box only: no number in clear anywhere in the event.
    event = Event.objects.get()
    assert support.resident_id(1) not in event.sealed_identity + event.data


def test_a_customs_endpoint_needs_both_keys(receiver: Receiver) -> None:
    with pytest.raises(endpoints.EndpointRefused, match="keys"):
        endpoint(receiver.url, "customs", kind=EndpointKind.CUSTOMS)


# --- Failures ---------------------------------------------------------------------------------
def test_a_failure_is_retried_within_a_minute_and_then_delivered(
    client: Client, till: dict, receiver: Receiver
) -> None:
    receiver.script = [(500, {})]
    ep, secret = endpoint(receiver.url)
    sell(client, till)
    now = timezone.now()
    run_feed(now)
    ep.refresh_from_db()
    assert ep.failures_in_row == 1
    assert now < ep.retry_at <= now + timedelta(seconds=60)
    run_feed(now + timedelta(seconds=5))  # in the backoff: nothing sent
    assert len(receiver.requests) == 1
    run_feed(now + timedelta(seconds=61))
    assert len(receiver.requests) == 2
    verified(receiver, secret)
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("delivered", 2)
    assert [a.status_code for a in Attempt.objects.order_by("at")] == [500, 200]
    assert Endpoint.objects.get().failures_in_row == 0


def test_retry_after_is_honoured(client: Client, till: dict, receiver: Receiver) -> None:
    receiver.script = [(503, {"Retry-After": "600"})]
    ep, _ = endpoint(receiver.url)
    sell(client, till)
    now = timezone.now()
    run_feed(now)
    ep.refresh_from_db()
    assert ep.retry_at >= now + timedelta(seconds=600)
    run_feed(now + timedelta(seconds=300))
    assert len(receiver.requests) == 1


def test_a_dead_endpoint_is_retried_and_its_error_kept(client: Client, till: dict) -> None:
    ep, _ = endpoint("http://127.0.0.1:9/nobody-listens")
    sell(client, till)
    run_feed()
    row = Delivery.objects.get()
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error
    assert Attempt.objects.get().status_code is None
    assert Endpoint.objects.get(pk=ep.pk).failures_in_row == 1


def test_410_gone_disables_the_endpoint(client: Client, till: dict, receiver: Receiver) -> None:
    receiver.script = [(410, {})]
    ep, _ = endpoint(receiver.url)
    sell(client, till)
    run_feed()
    ep.refresh_from_db()
    assert not ep.enabled
    assert ep.disabled_reason.startswith("410 Gone")
    sell(client, till, number=2)
    run_feed()
    assert len(receiver.requests) == 1  # a disabled endpoint receives nothing more


def test_after_the_retry_window_a_delivery_is_marked_failed(
    client: Client, till: dict, receiver: Receiver
) -> None:
    receiver.default = (500, {})
    endpoint(receiver.url)
    sell(client, till)
    start = timezone.now()
    run_feed(start)
    run_feed(start + timedelta(hours=72))  # still within three days: still pending
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    run_feed(start + timedelta(hours=74))
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED
    assert row.failed_at is not None
    assert row.attempts == 3


def test_the_backoff_doubles_to_hourly_with_jitter() -> None:
    rng = random.Random(1)  # noqa: S311 - jitter
    delays = [delivery.retry_delay(n, None, rng) for n in range(1, 16)]
    assert 10 <= delays[0] <= 20
    assert all(d <= 3600 for d in delays)
    assert delays[-1] >= 1800
    assert delivery.retry_delay(1, 7200.0, rng) == 7200.0
    assert delivery.retry_delay(1, 10**9, rng) == 86400.0


def test_a_stale_lease_delivers_nothing(client: Client, till: dict, receiver: Receiver) -> None:
    _ep, _ = endpoint(receiver.url)
    sell(client, till)
    delivery.dispatch(now=timezone.now())
    ((endpoint_id, token),) = delivery.queue_due(now=timezone.now(), lease=timedelta(minutes=2))
    assert delivery.queue_due(now=timezone.now(), lease=timedelta(minutes=2)) == []  # leased
    assert delivery.deliver_endpoint(endpoint_id, "not-the-lease", clock=timezone.now) is None
    assert receiver.requests == []
    assert delivery.deliver_endpoint(endpoint_id, token, clock=timezone.now) is not None
    assert len(receiver.requests) == 1


# --- Secrets ----------------------------------------------------------------------------------
def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(
    client: Client, till: dict, receiver: Receiver
) -> None:
    ep, old = endpoint(receiver.url)
    new = endpoints.rotate(name=ep.name, now=timezone.now()).secret
    sell(client, till)
    run_feed()
    assert len(receiver.requests[0].headers["webhook-signature"].split(" ")) == 2
    verified(receiver, old)
    verified(receiver, new)
    sell(client, till, number=2)
    run_feed(timezone.now() + timedelta(hours=25))
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(receiver.requests[-1].body, receiver.requests[-1].headers)


# --- Commands ---------------------------------------------------------------------------------
def test_create_webhook_prints_the_secret_alone_on_its_last_line(receiver: Receiver) -> None:
    out = io.StringIO()
    call_command("create_webhook", receiver.url, "--operator", "CDFG", "--name", "erp", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    ep = Endpoint.objects.get(name="erp")
    assert ep.secret == secret
    assert ep.operator.code == "CDFG"
    out = io.StringIO()
    call_command("create_webhook", "--rotate", "erp", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] != secret


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.org/hooks"], "only http and https"),
        (["file:///etc/passwd"], "only http and https"),
        (["https://example.org/h", "--events", "sale.exploded"], "unknown event type"),
        (["https://example.org/h", "--operator", "NOPE"], "No operator 'NOPE'"),
        (["https://example.org/h", "--kind", "customs"], "keys"),
        (["--rotate", "nobody"], "no endpoint named"),
    ],
)
def test_create_webhook_refuses_clearly(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("create_webhook", *args, stdout=io.StringIO())
    assert not Endpoint.objects.exists()


def test_feed_key_generates_and_shows_the_public_half(settings: Any) -> None:
    out = io.StringIO()
    call_command("feed_key", "--generate", stdout=out)
    private = out.getvalue().strip().splitlines()[-1]
    assert private.startswith("whsk_")
    settings.FEED_SIGNING_KEY = private
    out = io.StringIO()
    call_command("feed_key", "--public", stdout=out)
    public = out.getvalue().strip().splitlines()[-1]
    seed = base64.b64decode(private[5:])
    from nacl.signing import SigningKey

    assert base64.b64decode(public[5:]) == bytes(SigningKey(seed).verify_key)
    settings.FEED_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="no feed signing key"):
        call_command("feed_key", "--public", stdout=io.StringIO())


def test_a_pickup_writes_its_event(client: Client, till: dict) -> None:
    support.product("F-SUN", "eyewear", "1450.00", immediate_kind="sunglasses")
    basket = support.json_basket(support.basket(("F-SUN", 1), pickup="immediate"))
    sale = client.post(
        "/api/v1/sales", json.dumps(basket), content_type="application/json",
        headers={**till, "idempotency-key": unique_key()},
    )  # fmt: skip
    assert sale.status_code == 201, sale.content
    picked = client.post(
        f"/api/v1/sales/{sale.json()['id']}/pickup", "{}", content_type="application/json",
        headers={**till, "idempotency-key": unique_key()},
    )  # fmt: skip
    assert picked.status_code == 200, picked.content
    event = Event.objects.get(type="sale.picked_up")
    assert json.loads(event.data) == picked.json()
    assert event.sale_id == sale.json()["id"]


def test_a_failure_after_a_success_in_one_run_counts_from_that_success(
    client: Client, till: dict, receiver: Receiver
) -> None:
    receiver.script = [(200, {}), (500, {})]
    ep, _ = endpoint(receiver.url)
    Endpoint.objects.filter(pk=ep.pk).update(failures_in_row=5)  # an outage before
    sell(client, till)
    sell(client, till, number=2)
    now = timezone.now()
    run_feed(now)
    ep.refresh_from_db()
    assert ep.failures_in_row == 1
    assert ep.retry_at <= now + timedelta(seconds=60)


def test_a_receiver_down_for_a_while_gets_everything_after(
    client: Client, till: dict, receiver: Receiver
) -> None:
    receiver.default = (503, {})
    endpoint(receiver.url)
    for number in range(1, 6):
        sell(client, till, number=number)
    now = timezone.now()
    run_feed(now)
    run_feed(now + timedelta(minutes=1))
    assert Delivery.objects.filter(status="pending").count() == 5
    receiver.default = (200, {})  # back
    run_feed(now + timedelta(minutes=10))
    assert Delivery.objects.filter(status="delivered").count() == 5
    # The last five requests, answered 200 (signed ten minutes ahead: read, not verified).
    ids = {json.loads(r.body)["id"] for r in receiver.requests[-5:]}
    assert ids == set(Event.objects.values_list("public_id", flat=True))


def test_a_receiver_hanging_past_the_timeout_is_a_failure(
    client: Client, till: dict, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "TIMEOUT", 0.5)
    receiver.delay = 2.0
    ep, _ = endpoint(receiver.url)
    sell(client, till)
    run_feed()
    row = Delivery.objects.get()
    assert row.status == "pending"
    # urllib3's read timeout or, when it wins the race under load, the wall-clock watchdog
    # shutting the socket (RemoteDisconnected): either way it is told as the timeout.
    assert row.last_error.startswith("timed out after 0.5 s: ")
    assert Attempt.objects.get().status_code is None
    assert Endpoint.objects.get(pk=ep.pk).failures_in_row == 1


def test_a_sale_rolled_back_after_its_write_takes_its_event_along(
    client: Client, till: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shops.pos import checkout

    written = checkout.write_sale

    def write_then_fail(**kwargs: Any) -> Any:
        written(**kwargs)
        assert Event.objects.count() == 1  # written with the sale, in its transaction
        raise RuntimeError("the commit fails after the write")

    monkeypatch.setattr(checkout, "write_sale", write_then_fail)
    terminal = support.terminal(CDFG_STORE)[0]
    with pytest.raises(RuntimeError):
        support.commit(terminal, support.basket(("F-LIP", 1)))
    assert not Event.objects.exists()
    assert not Sale.objects.exists()


def test_attempts_are_kept_thirty_days(client: Client, till: dict, receiver: Receiver) -> None:
    endpoint(receiver.url)
    sell(client, till)
    run_feed()
    at = Attempt.objects.get().at
    assert delivery.prune_attempts(now=at + timedelta(days=29)) == 0
    assert delivery.prune_attempts(now=at + timedelta(days=31)) == 1


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("CUSTOMS_SEAL_PUBLIC_KEY", "not base64!", "shops.E101"),
        ("CUSTOMS_SEAL_PUBLIC_KEY", base64.b64encode(b"short").decode(), "shops.E101"),
        ("FEED_SIGNING_KEY", "whsk_AAAA", "shops.E102"),
        ("FEED_SIGNING_KEY", "no-prefix", "shops.E102"),
    ],
)
def test_a_malformed_key_is_named_by_check_and_never_fails_a_sale(
    settings: Any, client: Client, till: dict, name: str, value: str, code: str
) -> None:
    from django.core.checks import run_checks

    setattr(settings, name, value)
    assert code in {e.id for e in run_checks()}
    sell(client, till)  # the sale goes on
    assert Event.objects.get().sealed_identity == ""


def test_a_disabled_customs_endpoint_still_gets_every_sale_once_enabled(
    client: Client, till: dict, receiver: Receiver, feed_keys: Keys
) -> None:
    ep, _ = endpoint(receiver.url, "customs", kind=EndpointKind.CUSTOMS)
    endpoints.set_enabled(ep, enabled=False, reason="maintenance")
    sell(client, till)
    run_feed()
    assert receiver.requests == []
    endpoints.set_enabled(ep, enabled=True)
    run_feed()
    payload = json.loads(receiver.requests[0].body)
    assert payload["data"]["shopper"]["identity_sealed"]  # sealed though it was disabled


def test_events_sent_again_are_retried_for_the_whole_window_from_then(
    client: Client, till: dict, receiver: Receiver
) -> None:
    receiver.default = (500, {})
    ep, _ = endpoint(receiver.url)
    sell(client, till)
    start = timezone.now()
    run_feed(start)
    run_feed(start + timedelta(hours=74))  # past the window: given up
    assert Delivery.objects.get().status == "failed"
    later = start + timedelta(hours=81)
    endpoints.replay(endpoint=ep, now=later)
    run_feed(later)
    assert Delivery.objects.get().status == "pending"  # three more days from the replay


def test_a_receiver_trickling_its_answer_is_cut_at_the_timeout(
    client: Client, till: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each byte in time for a per-read timeout, the whole answer far too slow: the POST is cut
    after its timeout of wall-clock time, recorded as a failure."""
    import socket
    import threading
    import time

    monkeypatch.setattr(delivery, "TIMEOUT", 1.0)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def trickle() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        with contextlib.suppress(OSError):
            for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok":
                conn.send(bytes([byte]))
                time.sleep(0.3)  # under the per-read timeout, 15 s in all
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    endpoint(f"http://127.0.0.1:{server.getsockname()[1]}/hooks")
    sell(client, till)
    began = time.monotonic()
    run_feed()
    assert time.monotonic() - began < 4
    row = Delivery.objects.get()
    assert row.status == "pending"
    assert row.last_error.startswith("timed out after 1 s")
    server.close()
