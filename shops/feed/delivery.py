"""Delivering the outbox: fan each new event out to the endpoints that receive it, and POST each
delivery until its endpoint answers 2xx — at least once, retried with backoff and jitter.

- ``dispatch``: one statement turns a batch of undispatched events into deliveries (one per
  enabled endpoint subscribed to the type, of the event's store's operator or the platform's).
- ``queue_due``: the endpoints with deliveries due, each leased (a token, until a time) so
  that one task at a time works for it (a lost broker message or a killed worker: the lease
  runs out and beat queues it again).
- ``deliver_endpoint``: one endpoint's due deliveries in event order, one at a time, by the
  task holding the endpoint's lease, within the lease's time. A failure (network error,
  timeout, non-2xx) puts the whole endpoint back by the backoff (first retry within a
  minute, then doubling up to hourly, jittered, never sooner than ``Retry-After``): a dead
  endpoint is not hammered and never holds a worker; ``410 Gone`` disables it. Retries last
  at least 3 days from the event, then the delivery is marked failed. Each attempt is kept
  (status, duration, first bytes of the answer) for 30 days.

Nothing here runs on the sale path: the sale writes its event and returns.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dutyfree.db import fetch_all
from shops import sql
from shops.feed import customs, signing
from shops.locks import events_dispatch_locked
from shops.models import Attempt, Delivery, DeliveryStatus, Endpoint, EndpointKind, Event

TIMEOUT = 10.0  # seconds, connect to last byte
FIRST_RETRY = 20.0  # seconds: the first retry comes 10–20 s after the failure
MAX_RETRY = 3600.0  # seconds: retries back off to hourly
MAX_RETRY_AFTER = 86400.0  # a Retry-After is honoured up to a day
HEAD_BYTES = 500  # of an answer, kept with its attempt
USER_AGENT = "dutyfree-feed/1"


def retry_delay(failures: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds before the next attempt after ``failures`` failures in a row: doubling from
    ``FIRST_RETRY`` up to ``MAX_RETRY``, each drawn in its upper half (jitter: endpoints that
    failed together do not retry together), never sooner than ``retry_after``."""
    base = min(MAX_RETRY, FIRST_RETRY * 2 ** max(failures - 1, 0))
    delay = base * rng.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header's wait: delta-seconds or an HTTP date; ``None`` when absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)


# --- Fan-out and queueing ---------------------------------------------------------------------
def dispatch(*, now: datetime, batch: int = 1000) -> int:
    """Deliveries for up to ``batch`` undispatched events (oldest first); the events marked
    dispatched. One statement; concurrent calls take disjoint batches. Returns the events."""
    with transaction.atomic():
        return events_dispatch_locked(batch=batch, now=now)


def queue_due(*, now: datetime, lease: timedelta) -> list[tuple[int, str]]:
    """(endpoint id, lease token) of each endpoint with a delivery due, not in its backoff and
    not leased: each now leased until ``now + lease``."""
    with transaction.atomic():
        return [
            (endpoint_id, token)
            for endpoint_id, token in fetch_all(sql.FEED_QUEUE_DUE, [now + lease, now, now, now])
        ]


def pump(*, now: datetime, send: Callable[[int, str], object]) -> dict[str, int]:
    """Beat's round: fan the new events out, then hand each endpoint with a delivery due to
    ``send`` (endpoint id, lease token): a Celery task, or a call in zero-config mode."""
    events = 0
    while True:
        done = dispatch(now=now)
        events += done
        if done < 1000:
            break
    queued = queue_due(now=now, lease=settings.FEED_QUEUE_LEASE)
    for endpoint_id, token in queued:
        send(endpoint_id, token)
    return {"events": events, "endpoints": len(queued)}


# --- One endpoint's deliveries -----------------------------------------------------------------
def body_of(event: Event, endpoint: Endpoint) -> bytes:
    """The JSON body an endpoint is sent: the event's envelope round its ``data`` (customs'
    as :mod:`shops.feed.customs` says), the data's text as stored."""
    data = customs.customs_data(event) if endpoint.kind == EndpointKind.CUSTOMS else event.data
    head = json.dumps(
        {
            "id": event.public_id,
            "type": event.type,
            "created_at": timezone.localtime(event.created_at).isoformat(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return (head[:-1] + ',"data":' + data + "}").encode()


def headers_of(event: Event, endpoint: Endpoint, body: bytes, now: datetime) -> dict[str, str]:
    """Standard Webhooks' headers for this attempt (its own timestamp), signed with the
    endpoint's secret (and the previous one during a rotation) and, for customs, the
    operator's Ed25519 key."""
    stamp = now.replace(microsecond=0)
    secrets_ = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and now < (endpoint.previous_secret_until)
    ):
        secrets_.append(endpoint.previous_secret)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event.public_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signing.signature_header(
            msg_id=event.public_id,
            timestamp=stamp,
            body=body,
            secrets_=secrets_,
            ed25519=endpoint.kind == EndpointKind.CUSTOMS,
        ),
    }


@dataclass
class Outcome:
    """What one endpoint's run did."""

    delivered: int = 0
    failed: int = 0  # deliveries given up (retries ran out)
    disabled: bool = False
    retry_at: datetime | None = None
    attempts: int = 0


# --- A POST's 10 s are wall-clock seconds ---------------------------------------------------------
# urllib3's timeout bounds each socket operation, so a receiver answering a byte every 9 s would
# hold a thread for ever. Each connection says which thread is using its socket, and a watchdog
# shuts the socket down once that thread's POST has run out of time: the read fails at once.
class _Watchdog:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadlines: dict[int, float] = {}  # thread → monotonic deadline of its POST
        self.sockets: dict[int, socket.socket] = {}  # thread → the socket it is using
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="feed-watchdog", daemon=True)
        self.thread.start()

    def start(self, seconds: float) -> None:
        with self.lock:
            self.deadlines[threading.get_ident()] = time.monotonic() + seconds

    def using(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self.lock:
                self.sockets[threading.get_ident()] = sock

    def done(self) -> None:
        with self.lock:
            self.deadlines.pop(threading.get_ident(), None)
            self.sockets.pop(threading.get_ident(), None)

    def stop(self) -> None:
        self.stopped.set()

    def _watch(self) -> None:
        while not self.stopped.wait(0.25):
            now = time.monotonic()
            with self.lock:
                late = [t for t, end in self.deadlines.items() if end <= now]
                cut = [self.sockets.pop(t) for t in late if t in self.sockets]
                for t in late:
                    del self.deadlines[t]
            for sock in cut:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _watched_pools(watchdog: _Watchdog) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pools whose connections tell ``watchdog`` their socket at each request."""

    def tracked(base: type[HTTPConnection]) -> type[HTTPConnection]:
        class Tracked(base):  # type: ignore[misc, valid-type]  # a urllib3 connection class
            def connect(self) -> None:
                super().connect()
                watchdog.using(self.sock)

            def request(self, *args: Any, **kwargs: Any) -> None:
                watchdog.using(self.sock)  # a kept-alive connection's socket
                super().request(*args, **kwargs)

        return Tracked

    class Plain(HTTPConnectionPool):
        ConnectionCls = tracked(HTTPConnection)

    class Secure(HTTPSConnectionPool):
        ConnectionCls = tracked(HTTPSConnection)  # type: ignore[assignment]  # a subclass of it

    return {"http": Plain, "https": Secure}


def lease_margin(lease: timedelta) -> timedelta:
    """How much of a lease a run leaves unstarted: a POST's timeout and 5 s, or half of a
    lease shorter than twice that (a test's)."""
    return min(timedelta(seconds=TIMEOUT + 5), lease / 2)


IN_FLIGHT = 8  # POSTs to one endpoint at once, once a first one of the run succeeded
CHUNK = 64  # deliveries claimed, sent and recorded together


@dataclass
class Sent:
    """One POST's outcome, before it is recorded."""

    delivery: Delivery
    at: datetime
    status: int | None = None
    head: str = ""
    error: str = ""
    retry_after: float | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def deliver_endpoint(
    endpoint_id: int,
    token: str,
    *,
    clock: Callable[[], datetime],
    client: urllib3.PoolManager | None = None,
    rng: random.Random | None = None,
) -> Outcome | None:
    """POST the endpoint's due deliveries, oldest due first, while the lease ``token`` is
    the endpoint's and has time left for one more round (the timeout and a margin); ``None``
    when the token is not the endpoint's lease (a stale or duplicate task). Each chunk's first
    delivery goes alone; when it succeeds the rest go ``IN_FLIGHT`` at a time (receivers dedupe
    by id and the specification promises no order), each chunk recorded in one transaction.
    Stops at a failure (the endpoint's backoff) or a ``410 Gone`` (the endpoint disabled);
    gives the lease back when done."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    outcome = Outcome()
    own_client = client is None
    watchdog = _Watchdog()
    if client is None:
        client = urllib3.PoolManager(
            num_pools=1, maxsize=IN_FLIGHT, block=True, retries=False,
            timeout=urllib3.Timeout(total=TIMEOUT),
        )  # fmt: skip
        client.pool_classes_by_scheme = _watched_pools(watchdog)
    margin = lease_margin(settings.FEED_QUEUE_LEASE)
    pool = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="feed-post")
    try:
        while True:
            endpoint = Endpoint.objects.filter(pk=endpoint_id, lease_token=token).first()
            now = clock()
            if endpoint is None or endpoint.queued_until is None:
                return outcome if outcome.attempts else None  # not (or no longer) its lease
            if now + margin > endpoint.queued_until:
                break  # the lease ends: beat queues the endpoint again
            if not endpoint.enabled or (endpoint.retry_at and endpoint.retry_at > now):
                break
            due = list(
                Delivery.objects.filter(
                    endpoint=endpoint, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
                )
                .select_related("event")
                .order_by("next_attempt_at", "id")[:CHUNK]
            )
            if not due:
                break
            # Bodies and signatures here, in the thread that holds the database connection.
            try:
                requests = [(d, *_request(d, endpoint, clock())) for d in due]
            except signing.FeedKeyError as exc:  # customs' key gone: a failure, backed off
                failed = Sent(due[0], at=clock(), error=f"feed signing key: {exc}"[:500])
                _record([failed], endpoint, clock, rng, outcome)
                return outcome
            sent = [_post(client, watchdog, endpoint.url, *requests[0], clock)]
            if sent[0].ok and len(requests) > 1:
                last_start = endpoint.queued_until - margin
                sent += _post_all(
                    pool, client, watchdog, endpoint.url, requests[1:], clock, last_start
                )
            if not _record(sent, endpoint, clock, rng, outcome):
                return outcome
        return outcome
    finally:
        pool.shutdown(wait=True)
        watchdog.stop()
        if own_client:
            client.clear()
        Endpoint.objects.filter(pk=endpoint_id, lease_token=token).update(
            queued_until=None, lease_token=""
        )


def _request(delivery: Delivery, endpoint: Endpoint, now: datetime) -> tuple[bytes, dict[str, str]]:
    body = body_of(delivery.event, endpoint)
    return body, headers_of(delivery.event, endpoint, body, now)


def _post(
    client: urllib3.PoolManager,
    watchdog: _Watchdog,
    url: str,
    delivery: Delivery,
    body: bytes,
    headers: dict[str, str],
    clock: Callable[[], datetime],
) -> Sent:
    """One POST; its answer's status, first bytes and ``Retry-After``, or its error."""
    sent = Sent(delivery, at=clock())
    began = time.monotonic()
    head = b""
    watchdog.start(TIMEOUT)
    try:
        answer = client.request(
            "POST", url, body=body, headers=headers, preload_content=False, redirect=False
        )
        try:
            sent.status = answer.status
            sent.retry_after = retry_after_seconds(answer.headers.get("retry-after"), sent.at)
            head = answer.read(HEAD_BYTES + 1)
            sent.head = head[:HEAD_BYTES].decode("utf-8", "replace")
        finally:
            if len(head) > HEAD_BYTES:  # more than kept: the connection is not reused
                answer.close()
            else:
                answer.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        late = time.monotonic() - began >= TIMEOUT
        sent.error = (f"timed out after {TIMEOUT:g} s: " if late else "") + (
            f"{type(exc).__name__}: {exc}"
        )[:500]
    finally:
        watchdog.done()
    sent.duration_ms = round((time.monotonic() - began) * 1000)
    return sent


def _post_all(
    pool: ThreadPoolExecutor,
    client: urllib3.PoolManager,
    watchdog: _Watchdog,
    url: str,
    requests: list[tuple[Delivery, bytes, dict[str, str]]],
    clock: Callable[[], datetime],
    last_start: datetime,
) -> list[Sent]:
    """POST ``requests`` ``IN_FLIGHT`` at a time; once one fails, or ``last_start`` (the
    lease's end less a POST's timeout and a margin) has passed, those not yet begun are not
    sent (they stay due). The outcomes of those sent, in order."""
    failed = threading.Event()

    def post(request: tuple[Delivery, bytes, dict[str, str]]) -> Sent | None:
        if failed.is_set() or clock() > last_start:
            return None
        sent = _post(client, watchdog, url, *request, clock)
        if not sent.ok:
            failed.set()
        return sent

    return [sent for sent in pool.map(post, requests) if sent is not None]


def _record(
    sent: list[Sent],
    endpoint: Endpoint,
    clock: Callable[[], datetime],
    rng: random.Random,
    outcome: Outcome,
) -> bool:
    """Record a chunk's POSTs in one transaction: its attempts, its deliveries, the endpoint's
    health. Whether the run goes on."""
    done = clock()
    delivered = [s for s in sent if s.ok]
    failed = [s for s in sent if not s.ok]
    outcome.attempts += len(sent)
    with transaction.atomic():
        Attempt.objects.bulk_create(
            [
                Attempt(
                    delivery=s.delivery,
                    at=s.at,
                    status_code=s.status,
                    duration_ms=s.duration_ms,
                    response_head=s.head,
                    error=s.error,
                )
                for s in sent
            ]
        )
        for code in sorted({s.status for s in delivered if s.status is not None}):
            Delivery.objects.filter(
                pk__in=[s.delivery.pk for s in delivered if s.status == code]
            ).update(
                status=DeliveryStatus.DELIVERED,
                delivered_at=done,
                last_attempt_at=done,
                last_status_code=code,
                last_error="",
                attempts=F("attempts") + 1,
            )
        if delivered:
            outcome.delivered += len(delivered)
            endpoint.failures_in_row = 0  # a failure after these counts from here
            if not failed:
                Endpoint.objects.filter(pk=endpoint.pk).update(
                    last_success_at=done, failures_in_row=0, retry_at=None
                )
                return True
        if any(s.status == 410 for s in failed):
            _failed_attempts(failed, next_attempt_at=None)
            Endpoint.objects.filter(pk=endpoint.pk).update(
                enabled=False,
                disabled_reason=f"410 Gone at {timezone.localtime(done):%Y-%m-%d %H:%M:%S}",
                last_failure_at=done,
                **({"last_success_at": done} if delivered else {}),
            )
            outcome.disabled = True
            return False
        failures = endpoint.failures_in_row + 1
        retry_after = max((s.retry_after or 0.0 for s in failed), default=0.0) or None
        retry_at = done + timedelta(seconds=retry_delay(failures, retry_after, rng))
        _failed_attempts(failed, next_attempt_at=retry_at)
        Endpoint.objects.filter(pk=endpoint.pk).update(
            failures_in_row=failures,
            last_failure_at=done,
            retry_at=retry_at,
            **({"last_success_at": done} if delivered else {}),
        )
        endpoint.failures_in_row = failures
        # Retries ran out: every pending delivery of the endpoint retried for longer than the
        # window (since it was made, or last sent again) is given up, these among them.
        outcome.failed += Delivery.objects.filter(
            endpoint=endpoint,
            status=DeliveryStatus.PENDING,
            retry_from__lte=done - settings.FEED_RETRY_FOR,
        ).update(status=DeliveryStatus.FAILED, failed_at=done)
        outcome.retry_at = retry_at
    return False


def _failed_attempts(failed: list[Sent], *, next_attempt_at: datetime | None) -> None:
    """Each failed delivery's attempt counted, its status or error kept, and (in a backoff)
    its next attempt set."""
    for s in failed:
        changes: dict[str, object] = {
            "attempts": F("attempts") + 1,
            "last_attempt_at": s.at,
            "last_status_code": s.status,
            "last_error": s.error or f"HTTP {s.status}",
        }
        if next_attempt_at is not None:
            changes["next_attempt_at"] = next_attempt_at
        Delivery.objects.filter(pk=s.delivery.pk).update(**changes)


# --- Housekeeping ------------------------------------------------------------------------------
def prune_attempts(*, now: datetime, keep: timedelta = timedelta(days=30)) -> int:
    """Delete attempts older than ``keep``; how many."""
    deleted, _ = Attempt.objects.filter(at__lt=now - keep).delete()
    return deleted
