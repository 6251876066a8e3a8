"""Policy previews live: real threads, a real Celery worker and PostgreSQL's own view of locks,
on committed data (transactional tests; the reader of a preview is a connection of its own).

What it shows: a preview paused mid-stream holds no lock a till could wait on (a sale for the
same shopper and trip, a return and a void all commit under a 2 s lock timeout) and finishes
with the one snapshot it started with; in zero-config mode a request answers 202 at once and a
thread of the process runs the preview to its end, leaving no connection behind; with a broker,
a real worker runs it; a preview abandoned mid-run is replaced when asked for again; two
requests at the same moment get one preview."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from quotas.models import Policy
from quotas.rules import LOCAL_TZ
from quotas.services import policy_clone
from shops.models import PolicyPreview, Sale
from shops.previews import judging, reading
from shops.previews.services import preview_request, preview_run
from tests.conftest import database_url
from tests.support.redis_server import RedisServer
from tests.support.sales import sell
from tests.support.shop import shopper, terminal, trip

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("catalogue")]

# Other threads and processes see committed rows only; the policies and stores the migrations
# wrote are put back after each test.
LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(settings.BASE_DIR)
URL = "/api/v1/policy-previews"


# --- Helpers --------------------------------------------------------------------------------------
def in_force() -> Policy:
    return Policy.objects.filter(status="published").latest("effective_from")


def refusing_everyone() -> Policy:
    """A draft of the version in force that refuses every sale of these tests (their shoppers
    are in their thirties): each judged sale is one of the result's examples."""
    policy = policy_clone(policy=in_force())
    policy.min_age = 60
    policy.save()
    return policy


def today() -> date:
    return timezone.now().astimezone(LOCAL_TZ).date()


def staff_client() -> Client:
    """A client with a token of the platform's staff (``create_staff_token``)."""
    out = io.StringIO()
    call_command("create_staff_token", "previewer", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    return Client(headers={"authorization": f"Token {key}"})


def ask(client: Client, policy: Policy) -> Any:
    return client.post(
        URL,
        {"policy": policy.pk, "start": today().isoformat(), "end": today().isoformat()},
        content_type="application/json",
    )


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll ``condition`` until it answers something true; that answer."""
    deadline = time.monotonic() + seconds
    while True:
        answer = condition()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.1)


class Pause:
    """``module.name`` patched: its first call waits until ``release`` (at most ``HELD``
    seconds; then the paused run fails)."""

    HELD = 20

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        original = getattr(module, name)

        def paused(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                self.reached.set()
                if not self.release.wait(timeout=self.HELD):
                    raise RuntimeError(f"the test never released the paused {name}")
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, paused)


def midstream(monkeypatch: pytest.MonkeyPatch) -> Pause:
    """A preview paused on its first sale: its snapshot open, its server-side cursor part-read
    (one sale a round trip)."""
    monkeypatch.setattr(reading, "BATCH", 1)
    return Pause(monkeypatch, judging, "judge_sale")


def other_backends() -> list[tuple[int, str, str | None, str]]:
    """(pid, state, backend_xid, query) of this database's client backends but this one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, backend_xid::text, query FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def locks_of(pid: int) -> list[tuple[str, str, bool, str | None]]:
    """(locktype, mode, granted, relation) of every lock ``pid`` holds or waits for."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.locktype, l.mode, l.granted, c.relname FROM pg_locks AS l"
            " LEFT JOIN pg_class AS c ON c.oid = l.relation WHERE l.pid = %s",
            [pid],
        )
        return cursor.fetchall()


# --- 1. Never a lock a till waits on --------------------------------------------------------------
def till_writes(
    till: Any, key: str, *, who: Any, on: Any, returned: int, voided: int
) -> tuple[int, float]:
    """From this thread's own connection, under a 2 s lock timeout: a sale for ``who`` on
    ``on``, a return of one piece of ``returned`` and the void of ``voided`` (either may be 0:
    none), through the checkout and the terminal API. The new sale's id, and the seconds the
    writes took."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '2s'")
    started = time.monotonic()
    made = sell(till, ("LIP", 1), who=who, on=on)
    api = Client(headers={"authorization": f"Bearer {key}"})
    if returned:
        line = api.get(f"/api/v1/sales/{returned}").json()["lines"][0]["id"]
        answer = api.post(
            f"/api/v1/sales/{returned}/returns",
            {"lines": [{"line": line, "quantity": 1}]},
            content_type="application/json",
            headers={"idempotency-key": f"live-return-{returned}"},
        )
        assert answer.status_code == 201, answer.content
    if voided:
        answer = api.post(
            f"/api/v1/sales/{voided}/void",
            {},
            content_type="application/json",
            headers={"idempotency-key": f"live-void-{voided}"},
        )
        assert answer.status_code == 200, answer.content
    took = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("2s",)  # the writes ran under it
    assert made.sale_id is not None
    return made.sale_id, took


@LIVE
def test_a_paused_preview_holds_no_lock_a_sale_return_or_void_waits_on_and_keeps_its_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    till, key = terminal()
    same_shopper, same_trip = shopper(), trip("HU7181")
    before = {
        "kept": sell(till, ("LIP", 1), who=same_shopper, on=same_trip).sale_id,
        "returned": sell(till, ("LIP", 2), number=2, on=trip("HU2")).sale_id,
        "voided": sell(till, ("LIP", 1), number=3, on=trip("HU3")).sale_id,
        "other": sell(till, ("WINE750", 1), number=4, on=trip("HU4")).sale_id,
    }
    policy = refusing_everyone()
    asked, created = preview_request(
        policy_id=policy.pk, start=today(), end=today(), now=timezone.now(), dispatch=False
    )
    assert created

    # Two pauses: after the counts are read and before the sales' cursor is opened (the
    # quotas' relations are asked for in between), then on the first sale judged.
    between = Pause(monkeypatch, reading, "preview_relations")
    paused = midstream(monkeypatch)
    readers: list[int] = []
    snapshot = reading._snapshot

    @contextlib.contextmanager
    def recorded_snapshot() -> Iterator[Any]:
        with snapshot() as raw:
            readers.append(raw.info.backend_pid)
            yield raw

    monkeypatch.setattr(reading, "_snapshot", recorded_snapshot)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            preview_run(asked.pk, clock=timezone.now)
        except BaseException as exc:  # told to the test below
            failures.append(exc)
        finally:
            connection.close()

    runner = threading.Thread(target=run, name="preview-under-test")
    runner.start()
    try:
        assert between.reached.wait(timeout=20), failures
        # Counted, not yet streamed: a sale for the same shopper and trip commits.
        first, took = till_writes(till, key, who=same_shopper, on=same_trip, returned=0, voided=0)
        assert took < 2, "a write waited"
        between.release.set()

        assert paused.reached.wait(timeout=20), failures
        (reader,) = readers
        running = PolicyPreview.objects.get(pk=asked.pk)
        assert (running.status, running.total, running.done) == ("running", 4, 0)

        # The reader: its own connection, idle in its read-only transaction between two
        # fetches of the server-side cursor, with no transaction id (it wrote and locked no
        # row: a row lock needs one).
        backends = {pid: (state, xid, query) for pid, state, xid, query in other_backends()}
        state, xid, query = backends[reader]
        assert state == "idle in transaction"
        assert xid is None
        assert '"policy_preview"' in query, query

        # Mid-stream: another sale for the same shopper and trip, a return and a void of
        # sales the preview is judging all commit.
        second, took = till_writes(
            till,
            key,
            who=same_shopper,
            on=same_trip,
            returned=before["returned"],
            voided=before["voided"],
        )
        assert took < 2, "a write waited"

        # Every lock of the preview's connections (the reader, and the runner's own, idle
        # between progress writes): a relation's ACCESS SHARE (which only DROP, TRUNCATE
        # and the like wait on) and its own transaction's virtual id; no tuple lock, no
        # transaction id (a row lock), no advisory lock.
        preview_pids = {pid for pid, *_ in other_backends()}
        assert reader in preview_pids
        for pid in preview_pids:
            for locktype, mode, granted, relation in locks_of(pid):
                assert granted, (pid, locktype, mode, relation)
                if locktype == "relation":
                    assert mode == "AccessShareLock", (pid, relation, mode)
                else:
                    assert locktype == "virtualxid", (pid, locktype, mode)
        read = {relation for _, _, _, relation in locks_of(reader)}
        assert {"shops_sale", "shops_saleline"} <= read, read
        assert paused.calls == 1  # still mid-stream
    finally:
        between.release.set()
        paused.release.set()
        runner.join(timeout=30)
    assert not runner.is_alive()
    assert not failures, failures

    done = PolicyPreview.objects.get(pk=asked.pk)
    assert done.status == "done", done.error
    result = done.result
    assert result is not None
    receipts = dict(Sale.objects.values_list("pk", "receipt_no"))
    # One snapshot, taken by the counts: the counts and the stream agree, and neither has a
    # sale committed during the run; the void and the return made then are not seen either.
    assert result["sales"] == 4
    assert result["quota"]["shoppers"] == 4
    assert result["refused"]["sales"] == 4
    examples = {example["receipt_no"] for example in result["refused"]["examples"]}
    assert examples == {receipts[pk] for pk in before.values()}
    assert Sale.objects.get(pk=before["voided"]).status == "voided"

    # Asked again, a new preview sees what was committed since: the new sales, not the void.
    again, created = preview_request(
        policy_id=policy.pk, start=today(), end=today(), now=timezone.now(), dispatch=False
    )
    assert created
    later = preview_run(again.pk, clock=timezone.now)
    assert later is not None
    assert later.result is not None
    assert {e["receipt_no"] for e in later.result["refused"]["examples"]} == {
        receipts[pk] for pk in (before["kept"], before["returned"], before["other"], first, second)
    }


# --- 2. Zero-config mode: a thread of the process -------------------------------------------------
@LIVE
def test_in_process_a_request_answers_202_at_once_and_a_thread_runs_the_preview_to_done(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.PREVIEW_IN_PROCESS = True
    till, _ = terminal()
    for n in range(1, 4):
        sell(till, ("LIP", 1), number=n, on=trip(f"HU{n}"))
    policy = refusing_everyone()
    client = staff_client()
    pause = midstream(monkeypatch)
    try:
        answer = ask(client, policy)
        # Answered while the preview's thread is held on its first sale: the request never
        # waits for the run.
        assert answer.status_code == 202, answer.content
        body = answer.json()
        assert body["status"] == "queued"
        assert body["result"] is None
        location = answer["Location"]
        assert location == f"{URL}/{body['id']}"
        assert pause.reached.wait(timeout=20)
        (thread,) = [t for t in threading.enumerate() if t.name == f"policy-preview-{body['id']}"]
        running = client.get(location).json()
        assert (running["status"], running["total"], running["progress"]) == ("running", 3, 0.0)
    finally:
        pause.release.set()

    def finished() -> dict[str, Any] | None:
        answer = client.get(location)
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert body["status"] != "failed", body["error"]
        return body if body["status"] == "done" else None

    done = wait_for(finished, 20, "the preview done")
    assert done["progress"] == 1.0
    assert (done["done"], done["total"]) == (3, 3)
    assert done["result"]["sales"] == 3
    assert done["result"]["refused"]["sales"] == 3
    assert done["finished_at"] is not None

    # The thread ends, and leaves no connection behind (neither its own nor the reader's).
    thread.join(timeout=10)
    assert not thread.is_alive()
    wait_for(lambda: not other_backends(), 5, "the preview's connections closed")


# --- 3. A real worker -----------------------------------------------------------------------------
@pytest.fixture
def worker(redis: RedisServer, tmp_path: Path) -> Iterator[Path]:
    """``celery worker`` (no beat) on the test database and the private Redis; its log."""
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis.url,
        "DJANGO_SETTINGS_MODULE": "dutyfree.settings",
    }
    env.pop("CELERY_BROKER_URL", None)
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                sys.executable,
                *("-m", "celery", "-A", "dutyfree", "worker"),
                *("--concurrency", "1", "--loglevel", "INFO", "--without-heartbeat"),
                *("--without-gossip", "--without-mingle"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield log_path
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def web_on_the_broker(redis: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process as a deployment's web process: tasks sent to the private Redis (the Celery
    app's configuration was read once; its broker pools are made afresh for it)."""
    from dutyfree.celery import app

    app.conf  # noqa: B018 - the configuration read, so that what is set below stays
    monkeypatch.setitem(app.conf, "broker_url", redis.url)
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    try:
        yield
    finally:
        for pool in (app.amqp._producer_pool, app._pool):
            if pool is not None:
                pool.force_close_all()


@pytest.mark.redis
@LIVE
def test_with_a_broker_a_real_worker_runs_the_queued_preview(
    redis: RedisServer, worker: Path, web_on_the_broker: None, settings: Any
) -> None:
    settings.PREVIEW_IN_PROCESS = False
    till, _ = terminal()
    for n in range(1, 3):
        sell(till, ("LIP", 1), number=n, on=trip(f"HU{n}"))
    policy = refusing_everyone()
    client = staff_client()

    answer = ask(client, policy)

    assert answer.status_code == 202, answer.content
    assert answer.json()["status"] == "queued"
    location = answer["Location"]

    def finished() -> dict[str, Any] | None:
        body = client.get(location).json()
        assert body["status"] != "failed", body["error"]
        return body if body["status"] == "done" else None

    try:
        done = wait_for(finished, 60, "the worker's preview done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker.read_text(errors='replace')[-3000:]}") from None
    assert done["progress"] == 1.0
    assert done["result"]["sales"] == 2
    assert done["result"]["refused"]["sales"] == 2
    log = worker.read_text(errors="replace")
    # The worker's doing, not this process's: it received the task and it ended done.
    assert "shops.tasks.run_policy_preview" in log
    assert "succeeded" in log, log[-3000:]
    assert "'done'" in log, log[-3000:]


# --- 4. Abandoned ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_preview_abandoned_mid_run_is_marked_failed_and_replaced_when_asked_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    policy = refusing_everyone()
    client = staff_client()
    abandoned_after = settings.PREVIEW_ABANDONED_AFTER
    first = ask(client, policy)
    assert first.status_code == 202, first.content
    stuck = first.json()["id"]

    # Still within the limit: joined, not replaced.
    PolicyPreview.objects.filter(pk=stuck).update(
        status="running",
        started_at=timezone.now() - abandoned_after,
        updated_at=timezone.now() - abandoned_after + timedelta(minutes=1),
    )
    joined = ask(client, policy)
    assert joined.status_code == 202
    assert joined.json()["id"] == stuck
    assert PolicyPreview.objects.count() == 1

    # No progress for longer than the limit: its process ended mid-run.
    PolicyPreview.objects.filter(pk=stuck).update(
        updated_at=timezone.now() - abandoned_after - timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks() as dispatched:
        again = ask(client, policy)

    assert again.status_code == 202, again.content
    fresh = again.json()
    assert fresh["id"] != stuck
    assert fresh["status"] == "queued"
    assert again["Location"] == f"{URL}/{fresh['id']}"
    assert len(dispatched) == 1  # the new one is sent to run
    old = PolicyPreview.objects.get(pk=stuck)
    assert old.status == "failed"
    assert old.error.startswith("abandoned")
    assert old.finished_at is not None
    assert client.get(f"{URL}/{stuck}").json()["status"] == "failed"
    assert sorted(PolicyPreview.objects.values_list("status", flat=True)) == ["failed", "queued"]


# --- 5. Two requests at once ----------------------------------------------------------------------
@LIVE
def test_two_requests_at_the_same_moment_get_one_preview(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shops.tasks

    policy = refusing_everyone()
    client_a, client_b = staff_client(), staff_client()
    dispatched: list[int] = []
    monkeypatch.setattr(shops.tasks, "start_policy_preview_after_commit", dispatched.append)
    # Each request has found no unfinished preview before either inserts one: both insert,
    # and the unique constraint decides (a check-then-insert without it would make two).
    inserting = threading.Barrier(2)
    inserts: list[int] = []
    create = PolicyPreview.objects.create

    def racing_create(**fields: Any) -> PolicyPreview:
        inserts.append(1)
        if len(inserts) <= 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                inserting.wait(timeout=5)
        return create(**fields)

    # On the manager itself (its __dict__): put back as it was, nothing left on it after.
    monkeypatch.setitem(PolicyPreview.objects.__dict__, "create", racing_create)
    start = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def request(name: str, client: Client) -> None:
        try:
            start.wait(timeout=10)
            answers[name] = ask(client, policy)
        except BaseException as exc:  # told to the test below
            answers[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=request, args=(name, client))
        for name, client in (("a", client_a), ("b", client_b))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    a, b = answers["a"], answers["b"]
    assert not isinstance(a, BaseException), a
    assert not isinstance(b, BaseException), b
    assert a.status_code == 202, a.content
    assert b.status_code == 202, b.content
    assert a.json()["id"] == b.json()["id"]
    assert a["Location"] == b["Location"]
    assert len(inserts) == 2  # both tried: the race was run, not avoided
    assert list(PolicyPreview.objects.values_list("pk", flat=True)) == [a.json()["id"]]
    assert dispatched == [a.json()["id"]]  # and it is run once
