"""The event feed end to end, with real parts only: a private redis-server, a real ``celery
beat`` and ``celery worker`` as subprocesses on the test's PostgreSQL database, sales through
the terminal API, and real HTTP receivers (``http.server`` in threads of this process) that
record every request and check every signature with the Standard Webhooks library itself,
never with the project's code.

What it shows: a sale reaches a good receiver within seconds, signed, with the API's answer as
its ``data``; dead and slow endpoints never hold a good one up; a worker killed mid-delivery, a
broker message lost and Redis down each delay a delivery (until the endpoint's lease runs out,
or Redis is back) but never lose it.

Timing: beat pumps every ``PUMP`` second; an endpoint's lease is ``LEASE`` seconds. The lease
must be longer than the delivery's own margin (``delivery.TIMEOUT`` + 5 s = 15 s): a run starts
an attempt only while ``now + 15 s`` is within the lease, so with a lease of 15 s or less nothing
would ever be sent."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from shops.feed import delivery
from shops.feed.endpoints import create_endpoint
from shops.models import Attempt, Delivery, DeliveryStatus, Endpoint, EndpointKind, Event
from tests import support
from tests.conftest import database_url, need_service
from tests.support.redis_server import RedisServer, free_port

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    # The worker and beat are other processes: they see committed rows only.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(settings.BASE_DIR)
PUMP = 1  # seconds between beat's feed pumps (FEED_PUMP_SECONDS)
LEASE = 10  # seconds an endpoint stays leased to one delivery task (FEED_QUEUE_LEASE_SECONDS)
PROMPT = 5.0  # seconds: "within a few seconds" of a sale's 201
SLOW = 8.0  # seconds the slow receiver takes to answer (under the sender's 10 s timeout)
SKU = "FEED-LIP"


def _wait(
    condition: Callable[[], Any], seconds: float, what: str, logs: Callable[[], str]
) -> float:
    """Poll ``condition`` until it holds; the seconds it took. Fails naming ``what``, with the
    processes' logs, when ``seconds`` pass first."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{what}: not within {seconds} s\n{logs()}")
        time.sleep(0.1)


# --- Receivers ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hook:
    """One request as it arrived: when, its headers (lower-cased) and its raw body."""

    at: datetime
    headers: dict[str, str]
    body: bytes

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """An HTTP server on a free port in threads of this process, recording every POST.

    ``status``: what it answers; ``delay``: seconds it takes first; ``hold_first``: the first
    request waits (unanswered) until ``release`` is set."""

    status: int = 200
    delay: float = 0.0
    hold_first: bool = False
    url: str = ""
    hooks: list[Hook] = field(default_factory=list)
    answered: list[datetime] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    closing: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with state.lock:
                    state.hooks.append(Hook(timezone.now(), headers, body))
                    first = len(state.hooks) == 1
                state.arrived.set()
                if state.hold_first and first:
                    state.release.wait(timeout=90)
                if state.delay:
                    state.closing.wait(timeout=state.delay)
                try:
                    answer = b'{"ok":true}' if 200 <= state.status < 300 else b"not now"
                    self.send_response(state.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    with state.lock:
                        state.answered.append(timezone.now())
                except OSError:
                    pass  # the sender is gone (a killed worker): nobody to answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.closing.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def received(self) -> list[Hook]:
        with self.lock:
            return list(self.hooks)

    def unique(self, secret: str) -> dict[str, dict[str, Any]]:
        """The payloads received, deduplicated by ``webhook-id`` as a receiver should; every
        request verified first with the Standard Webhooks library (raises when one fails)."""
        payloads: dict[str, dict[str, Any]] = {}
        for hook in self.received():
            payload = Webhook(secret).verify(hook.body, hook.headers)
            assert payload["id"] == hook.id
            payloads.setdefault(hook.id, payload)
        return payloads


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Make receivers (``Receiver``'s options); every one stopped at the end."""
    made: list[Receiver] = []

    def make(**options: Any) -> Receiver:
        receiver = Receiver(**options)
        receiver.start()
        made.append(receiver)
        return receiver

    try:
        yield make
    finally:
        for receiver in made:
            receiver.stop()


# --- Redis, beat and workers ----------------------------------------------------------------
def _end(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop ``process`` and its process group (a worker's pool children too)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # a pool child left behind, if any
        os.killpg(process.pid, signal.SIGKILL)


class Feed:
    """The feed's processes, as a deployment runs them: ``celery beat`` and ``celery worker``
    (separate, so a worker can die while beat goes on), on the private Redis and this test's
    database. Each process's output goes to a log of its own in ``folder``."""

    def __init__(self, redis: RedisServer, folder: Path) -> None:
        self.redis = redis
        self.folder = folder
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dutyfree.settings",
            "DATABASE_URL": database_url(connection.settings_dict),
            "REDIS_URL": redis.url,
            "FEED_PUMP_SECONDS": str(PUMP),
            "FEED_QUEUE_LEASE_SECONDS": str(LEASE),
            "FEED_PUMP_ON_COMMIT": "0",
        }
        self.beat: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.started: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _spawn(self, name: str, *arguments: str) -> tuple[subprocess.Popen, Path]:
        log = self.folder / f"{name}-{len(self.logs) + 1}.log"
        self.logs.append(log)
        with log.open("w") as out:
            process = subprocess.Popen(  # noqa: S603 - a fixed command line
                [sys.executable, "-m", "celery", "-A", "dutyfree", *arguments],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )
        self.started.append(process)
        return process, log

    def start_beat(self) -> None:
        self.beat, _ = self._spawn(
            "beat",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(self.folder / "beat-schedule"),
            "--pidfile",
            str(self.folder / "beat.pid"),
        )

    def start_worker(self) -> None:
        """A worker with two pool processes (a small machine's), up when it says ``ready``."""
        self.worker, log = self._spawn(
            "worker",
            "worker",
            "-Q",
            "celery,feed",  # the default queue (the pump) and the deliveries' own
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--hostname",
            f"feedlive-{len(self.logs)}@%h",
            "--without-gossip",
            "--without-mingle",
        )
        worker = self.worker
        _wait(
            lambda: " ready." in log.read_text() or worker.poll() is not None,
            60,
            "the worker's start",
            self.tails,
        )
        assert worker.poll() is None, self.tails()

    def stop_worker(self, sig: int = signal.SIGTERM) -> None:
        """Stop the worker: gracefully (SIGTERM), or killed (SIGKILL) with its pool."""
        assert self.worker is not None
        _end(self.worker, sig)
        self.worker = None

    def close(self) -> None:
        for process in reversed(self.started):
            _end(process)

    def tails(self) -> str:
        return "\n".join(
            f"--- {log.name} ---\n{log.read_text(errors='replace')[-2500:]}"
            for log in self.logs
            if log.exists()
        )


@pytest.fixture
def feed(redis: RedisServer, tmp_path: Path, settings: Any) -> Iterator[Feed]:
    """Beat and one worker running. This process plays the web process of such a deployment:
    its cache on the same private Redis, no pump of its own after a commit (what reaches a
    receiver is the worker's doing), the same lease length."""
    need_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL")
    settings.FEED_PUMP_ON_COMMIT = False
    settings.STATS_REFRESH_ON_COMMIT = False
    settings.FEED_QUEUE_LEASE = timedelta(seconds=LEASE)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    processes = Feed(redis, tmp_path)
    try:
        processes.start_beat()
        processes.start_worker()
        yield processes
    finally:
        processes.close()


# --- Sales and endpoints -------------------------------------------------------------------------
@dataclass(frozen=True)
class Sold:
    at: datetime  # when its 201 came back
    answer: dict[str, Any]  # the 201's JSON

    @property
    def event(self) -> Event:
        return Event.objects.get(sale_id=self.answer["id"], type="sale.completed")


class Till:
    """A terminal selling through the API, a new shopper each sale."""

    def __init__(self) -> None:
        support.product(SKU, "cosmetics", "300.00")
        _, self.key = support.terminal("SYA-HTB")
        self.client = Client()
        self.sales = 0

    def sell(self) -> Sold:
        self.sales += 1
        body = support.json_basket(
            support.basket(
                (SKU, 1),
                who=support.shopper(support.resident_id(self.sales)),
                on=support.trip(departs_at=timezone.now() + timedelta(days=2)),
            )
        )
        response = self.client.post(
            "/api/v1/sales",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.key}",
            HTTP_IDEMPOTENCY_KEY=support.unique_key("feed-live"),
        )
        assert response.status_code == 201, response.content
        return Sold(timezone.now(), response.json())


@pytest.fixture
def till() -> Till:
    return Till()


def _endpoint(name: str, url: str) -> tuple[Endpoint, str]:
    """The platform's endpoint (every store, every type) and its secret."""
    made = create_endpoint(
        url=url,
        name=name,
        types=None,
        operator=None,
        kind=EndpointKind.INTEGRATOR,
        now=timezone.now(),
    )
    return made.endpoint, made.secret


def _delivery(endpoint: Endpoint, sold: Sold) -> Delivery | None:
    return Delivery.objects.filter(endpoint=endpoint, event__sale_id=sold.answer["id"]).first()


def _delivered(endpoint: Endpoint, sold: Sold) -> bool:
    found = _delivery(endpoint, sold)
    return found is not None and found.status == DeliveryStatus.DELIVERED


def _arrival(receiver: Receiver, event: Event) -> datetime | None:
    return next((hook.at for hook in receiver.received() if hook.id == event.public_id), None)


# --- The scenarios -------------------------------------------------------------------------------
def test_a_sale_reaches_a_good_receiver_within_seconds_signed_and_once(
    feed: Feed, till: Till, receivers: Callable[..., Receiver]
) -> None:
    """A sale through the API is POSTed to an endpoint made by ``create_webhook`` within a few
    seconds of its 201, by beat's pump and the worker alone: the Standard Webhooks library
    verifies the signature with the secret the command printed, the body is ``sale.completed``
    whose ``data`` is the 201's JSON and whose ``id`` is the ``webhook-id``; deduplicated by
    ``webhook-id``, the receiver has each sale exactly once."""
    good = receivers()
    out = io.StringIO()
    call_command("create_webhook", good.url, "--name", "good", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert secret.startswith("whsec_")

    sales = []
    for _ in range(3):
        sold = till.sell()
        event = sold.event  # committed with the sale
        _wait(lambda e=event: _arrival(good, e), PROMPT, "the sale's delivery", feed.tails)
        assert (_arrival(good, event) - sold.at).total_seconds() < PROMPT
        sales.append(sold)

    payloads = good.unique(secret)  # every request verified
    assert len(payloads) == len(sales)
    for sold in sales:
        payload = payloads[sold.event.public_id]
        assert payload["type"] == "sale.completed"
        assert payload["data"] == sold.answer
    endpoint = Endpoint.objects.get(name="good")
    _wait(
        lambda: Delivery.objects.filter(endpoint=endpoint, status="delivered").count() == 3,
        PROMPT,
        "the deliveries marked delivered",
        feed.tails,
    )
    endpoint.refresh_from_db()
    assert (endpoint.failures_in_row, endpoint.retry_at) == (0, None)
    assert endpoint.last_success_at is not None


def test_dead_and_slow_endpoints_never_delay_a_good_one(
    feed: Feed, till: Till, receivers: Callable[..., Receiver]
) -> None:
    """Four endpoints receive every sale: a good one, one answering 500, one on a port nobody
    listens on, and one that takes 8 s to answer 200. While the slow one's first request is
    still unanswered, more sales each reach the good receiver within a few seconds; the dead
    ones' deliveries stay pending, each failure recorded (``shops_attempt``: the 500, the
    connection error) with the endpoint in backoff (``failures_in_row`` > 0, the first retry
    10–20 s after the failure), not hammered once per delivery; the slow one's answer, within
    the sender's 10 s timeout, counts as delivered."""
    good, failing = receivers(), receivers(status=500)
    slow = receivers(delay=SLOW)
    good_endpoint, good_secret = _endpoint("good", good.url)
    failing_endpoint, failing_secret = _endpoint("failing", failing.url)
    refused_endpoint, _ = _endpoint("refused", f"http://127.0.0.1:{free_port()}/hooks")
    slow_endpoint, slow_secret = _endpoint("slow", slow.url)

    first = till.sell()
    _wait(lambda: _arrival(good, first.event), PROMPT, "the first sale, good", feed.tails)
    _wait(slow.arrived.is_set, PROMPT, "the first sale at the slow receiver", feed.tails)
    _wait(
        lambda: (
            Attempt.objects.filter(delivery__endpoint=refused_endpoint).exists()
            and failing.received()
        ),
        PROMPT,
        "the dead endpoints' first attempts",
        feed.tails,
    )

    more = [till.sell() for _ in range(3)]
    for sold in more:
        event = sold.event
        _wait(lambda e=event: _arrival(good, e), PROMPT, "a later sale, good", feed.tails)
        assert (_arrival(good, event) - sold.at).total_seconds() < PROMPT
    assert not slow.answered, "the slow receiver answered before the good one had every sale"
    assert len(good.unique(good_secret)) == 4

    # The dead endpoints: everything pending, each failure kept, the endpoint backing off.
    for endpoint in (failing_endpoint, refused_endpoint):
        endpoint.refresh_from_db()
        deliveries = Delivery.objects.filter(endpoint=endpoint)
        assert deliveries.count() == 4
        assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
        attempts = list(Attempt.objects.filter(delivery__endpoint=endpoint).order_by("at"))
        assert 1 <= len(attempts) < 4, "one attempt per backoff, not one per delivery"
        assert endpoint.failures_in_row == len(attempts)
        assert endpoint.retry_at is not None
        assert endpoint.retry_at > endpoint.last_failure_at
        if endpoint.failures_in_row == 1:
            backoff = (endpoint.retry_at - endpoint.last_failure_at).total_seconds()
            assert 10 <= backoff <= 20
        oldest = _delivery(endpoint, first)
        assert oldest is not None
        assert oldest.attempts >= 1
        if endpoint == failing_endpoint:
            assert {a.status_code for a in attempts} == {500}
            assert (oldest.last_status_code, oldest.last_error) == (500, "HTTP 500")
            assert len(failing.received()) == len(attempts)
            failing.unique(failing_secret)  # signed all the same
        else:
            assert {a.status_code for a in attempts} == {None}
            assert all("Connection refused" in a.error for a in attempts)
            assert oldest.last_status_code is None
            assert "Connection refused" in oldest.last_error

    # The slow endpoint: its 8 s answer is a delivery, after the good one had them all.
    _wait(lambda: _delivered(slow_endpoint, first), SLOW + PROMPT, "the slow one", feed.tails)
    good_done = _delivery(good_endpoint, more[-1]).delivered_at
    assert good_done < _delivery(slow_endpoint, first).delivered_at
    assert first.event.public_id in slow.unique(slow_secret)


def test_a_worker_killed_mid_delivery_is_covered_by_the_lease(
    feed: Feed, till: Till, receivers: Callable[..., Receiver]
) -> None:
    """The receiver holds the first request unanswered while the worker sending it is killed
    (SIGKILL, pool and all); a new worker starts. Nothing is sent again while the dead task's
    lease lasts; once it runs out, beat's pump queues the endpoint again and the event is
    delivered: twice at the receiver (at least once, same ``webhook-id``, both verified), once
    after deduplication, and the delivery row ends ``delivered`` — the killed attempt left no
    attempt row, since none is written before the answer."""
    held = receivers(hold_first=True)
    endpoint, secret = _endpoint("held", held.url)

    sold = till.sell()
    event = sold.event
    _wait(held.arrived.is_set, PROMPT, "the first request", feed.tails)
    endpoint.refresh_from_db()
    lease_ends = endpoint.queued_until
    assert lease_ends is not None
    assert endpoint.lease_token

    feed.stop_worker(signal.SIGKILL)  # mid-delivery: the request is still unanswered
    held.release.set()  # nobody is left to answer
    feed.start_worker()
    _wait(lambda: len(held.received()) >= 2, LEASE + 20, "the delivery again", feed.tails)
    again = held.received()[1]
    assert again.at >= lease_ends, "sent again only once the killed task's lease ran out"
    _wait(lambda: _delivered(endpoint, sold), PROMPT, "the delivery row", feed.tails)

    hooks = held.received()
    assert {hook.id for hook in hooks} == {event.public_id}
    assert list(held.unique(secret)) == [event.public_id]
    assert held.unique(secret)[event.public_id]["data"] == sold.answer
    row = _delivery(endpoint, sold)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
    assert Attempt.objects.filter(delivery=row).count() == 1


def test_a_lost_broker_message_is_covered_by_the_lease(
    feed: Feed, redis: RedisServer, till: Till, receivers: Callable[..., Receiver]
) -> None:
    """With the worker stopped, a sale's endpoint is leased and its ``feed_deliver`` message
    queued (beat's ``feed_pump`` runs on a worker, so with none running the test runs the same
    pump, publishing the same task to the private broker); then Redis loses every message
    (FLUSHDB). A worker started again finds nothing to do until the lease runs out; then the
    pump queues the endpoint again and the event is delivered."""
    from dutyfree.celery import app

    good = receivers()
    endpoint, secret = _endpoint("good", good.url)
    feed.stop_worker()

    sold = till.sell()
    with app.connection_for_write(redis.url) as broker:

        def send(endpoint_id: int, token: str) -> None:
            app.send_task("shops.tasks.feed_deliver", args=[endpoint_id, token], connection=broker)

        pumped = delivery.pump(now=timezone.now(), send=send)
    assert pumped == {"events": 1, "endpoints": 1}
    endpoint.refresh_from_db()
    lease_ends = endpoint.queued_until
    assert lease_ends is not None
    store = redis.client()
    queued = [json.loads(m)["headers"]["task"] for m in store.lrange("feed", 0, -1)]
    assert "shops.tasks.feed_deliver" in queued
    store.flushdb()  # the message is lost
    assert store.llen("feed") == 0

    feed.start_worker()
    _wait(lambda: good.received(), LEASE + 20, "the delivery after the lease", feed.tails)
    assert good.received()[0].at >= lease_ends, "sent only once the lost task's lease ran out"
    _wait(lambda: _delivered(endpoint, sold), PROMPT, "the delivery row", feed.tails)
    payloads = good.unique(secret)
    assert list(payloads) == [sold.event.public_id]
    assert payloads[sold.event.public_id]["data"] == sold.answer


def test_with_redis_down_a_sale_commits_and_is_delivered_when_redis_is_back(
    feed: Feed, redis: RedisServer, till: Till, receivers: Callable[..., Receiver]
) -> None:
    """With the private redis-server stopped (the broker of beat and the worker, and this web
    process's cache), a sale still answers 201 and its event row is committed with it; nothing
    is delivered while Redis is down; once Redis is back (empty) the worker and beat reconnect
    (or, should the worker not survive the outage, the new one its supervisor starts) and the
    event is delivered, verified, once."""
    good = receivers()
    endpoint, secret = _endpoint("good", good.url)
    warm = till.sell()  # the whole chain works before Redis goes
    _wait(lambda: _delivered(endpoint, warm), PROMPT, "a sale before the outage", feed.tails)

    redis.stop()
    sold = till.sell()
    event = sold.event
    assert event.type == "sale.completed"
    assert json.loads(event.data) == sold.answer
    time.sleep(2 * PUMP + 1)  # a few beats' worth of nothing
    assert _arrival(good, event) is None
    assert not _delivered(endpoint, sold)

    redis.start()
    try:
        _wait(lambda: _arrival(good, event), 30, "the delivery after Redis returned", feed.tails)
    except AssertionError:
        # Seen once in a full run under load: kombu failed restoring the worker's unacked
        # messages as the broker vanished, and that worker delivered nothing more. A worker
        # runs under a supervisor (README); the one it starts delivers what was left.
        feed.stop_worker(signal.SIGKILL)
        feed.start_worker()
        _wait(lambda: _arrival(good, event), 30, "the delivery after a new worker", feed.tails)
    _wait(lambda: _delivered(endpoint, sold), PROMPT, "the delivery row", feed.tails)
    payloads = good.unique(secret)
    assert set(payloads) == {warm.event.public_id, event.public_id}
    assert payloads[event.public_id]["data"] == sold.answer
    assert feed.worker is not None
    assert feed.worker.poll() is None, feed.tails()
