"""Faults: the database restarting under load, Redis gone, a rebuild killed half-way.

- PostgreSQL "restarts" (every connection cut, new ones refused for a while: a TCP proxy
  between gunicorn and the server is closed and reopened) while terminals sell: every answer
  is 201 or a clean 503 problem+json, no sale is half written, gunicorn recovers without a
  restart, and a retry with the same Idempotency-Key settles every 503 exactly once.
- Redis does not answer: sales and look-ups go on (the throttle counts in process).
- A rebuild killed with SIGKILL half-way: running it again gives the same rollups as a clean
  rebuild.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from shops import rollups
from shops.importer import COLUMNS, import_sales
from shops.models import DailyCategorySales, DailyStoreSales, Sale, SaleLine
from tests.shops import helpers

ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proxy:
    """127.0.0.1:port → 127.0.0.1:5432. ``restart()`` cuts every connection and refuses new
    ones for a while, as a restarting server does."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def restart(self, down_seconds: float) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


@pytest.fixture
def proxy(require_postgres: None) -> Iterator[Proxy]:
    database = connection.settings_dict
    server = Proxy((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gunicorn(proxy: Proxy, tmp_path: Path) -> Iterator[str]:
    database = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@127.0.0.1:{proxy.port}/{database['NAME']}"
        ),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "dutyfree.settings",
    }
    env.pop("REDIS_URL", None)
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "dutyfree.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--threads",
            "2",
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/ping", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            time.sleep(0.1)
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


def _post(url: str, body: dict, key: str, idempotency: str) -> tuple[int, str, dict]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/api/v1/sales",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key}",
            "Idempotency-Key": idempotency,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read() or b"{}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_restart_under_load_fails_cleanly_and_recovers(
    proxy: Proxy, gunicorn: str
) -> None:
    helpers.product("FAULT-LIP", "cosmetics", "100.00")
    _, key = helpers.terminal("SYA-HTB")

    def body(n: int) -> dict:
        return helpers.json_basket(
            helpers.basket(
                ("FAULT-LIP", 1),
                who=helpers.shopper(helpers.resident_id(n)),
                on=helpers.trip(departs_at=timezone.now() + timedelta(days=2)),
            )
        )

    answers: dict[str, tuple[int, str, dict]] = {}
    bodies: dict[str, dict] = {}  # a retry sends the very same body under the same key
    stop = threading.Event()

    def terminal(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            idempotency = f"fault-{worker}-{n}"
            bodies[idempotency] = body(worker * 2_000 + n)
            answers[idempotency] = _post(gunicorn, bodies[idempotency], key, idempotency)

    threads = [threading.Thread(target=terminal, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    proxy.restart(down_seconds=2)  # the database goes away and comes back
    time.sleep(3)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    statuses = [status for status, _, _ in answers.values()]
    assert statuses.count(201) > 0
    assert set(statuses) <= {201, 503}, sorted(set(statuses))
    failed = {k: v for k, v in answers.items() if v[0] == 503}
    assert failed, "the restart must have cut some requests"
    for _, content_type, problem in failed.values():
        assert content_type == "application/problem+json"
        assert problem["code"] == "service_unavailable"

    # Recovered without a restart: new sales go through.
    after = [_post(gunicorn, body(9_000 + n), key, f"after-{n}") for n in range(6)]
    assert [status for status, _, _ in after] == [201] * 6
    # Every 503 settles with a retry under the same key: at most one sale each.
    for idempotency in failed:
        status, _, answer = _post(gunicorn, bodies[idempotency], key, idempotency)
        assert status == 201, answer

    # No half-written sale: every sale has its line and its ledger entry, and the books hold.
    sales = Sale.objects.count()
    assert sales == len(answers) + len(after)
    assert SaleLine.objects.count() == sales
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM quotas_quotaentry WHERE reference LIKE 'sale:%%'")
        assert cursor.fetchone()[0] == sales
        cursor.execute(
            "SELECT COUNT(*) FROM quotas_quotaaccount a WHERE a.used <> "
            "(SELECT COALESCE(SUM(e.amount), 0) FROM quotas_quotaentry e WHERE e.account_id = a.id)"
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_with_redis_gone_sales_and_look_ups_go_on(client: Client) -> None:
    from dutyfree import throttle

    helpers.product("FAULT-TEA", "tea", "50.00")
    _, key = helpers.terminal("SYA-HTB")
    throttle.reset_fallback()
    dead = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    who = helpers.shopper(helpers.resident_id(4242))
    with override_settings(CACHES=caches, QUOTA_LOOKUP_RATE="3/60"):
        sale = client.post(
            "/api/v1/sales",
            helpers.json_basket(helpers.basket(("FAULT-TEA", 1), who=who)),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
            HTTP_IDEMPOTENCY_KEY="redis-gone-1",
        )
        assert sale.status_code == 201
        lookup = {"document": {"type": "resident_id", "number": who.number}, "name": who.name}
        answers = [
            client.post("/api/v1/quota-lookup", lookup, content_type="application/json")
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]  # counted in process
        assert answers[0].json()["used"] == "50.00"
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["checks"]["cache"]["ok"] is False


def _legacy_history(days: int) -> str:
    rows = [",".join(COLUMNS)]
    first = date(2026, 1, 1)
    for n in range(days * 12):
        day = first + timedelta(days=n % days)
        rows.append(
            f"KILL-{n:05d},{['SYA-HTB', 'SYA-AIR', 'HAK-MH'][n % 3]},"
            f"{day.isoformat()}T12:00:00+08:00,"
            f"passport,K{n % 700:08d},Kill Test {n % 700},1980-01-01,false,domestic,air,"
            f"HU{n},{day.isoformat()}T23:00:00+08:00,departure,,cosmetics,1,{100 + n % 50}.00"
        )
    return "\n".join(rows) + "\n"


def _snapshot() -> tuple[list, list]:
    categories = sorted(
        DailyCategorySales.objects.values_list(
            "day", "store_id", "category_code", "traveller_kind", "amount", "items", "sales"
        )
    )
    stores = sorted(
        (d, s, k, a, i, n, bytes(sh), bytes(tr), bytes(tl))
        for d, s, k, a, i, n, sh, tr, tl in DailyStoreSales.objects.values_list(
            "day", "store_id", "traveller_kind", "amount", "items", "sales", "shoppers",
            "trips", "tripless_shoppers",
        )
    )  # fmt: skip
    return categories, stores


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuild_killed_half_way_then_run_again_gives_the_same_rollups(
    require_postgres: None,
) -> None:
    days = 150
    assert import_sales(io.StringIO(_legacy_history(days))).imported == days * 12
    rollups.rebuild_all()
    clean = _snapshot()
    DailyCategorySales.objects.all().delete()
    DailyStoreSales.objects.all().delete()

    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "DJANGO_SETTINGS_MODULE": "dutyfree.settings",
    }
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        [
            sys.executable,
            "manage.py",
            "rebuild_stats",
            "--start",
            "2026-01-01",
            "--end",
            str(date(2026, 1, 1) + timedelta(days=days - 1)),
            "--step-days",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not DailyStoreSales.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)  # a worker killed mid-rebuild
    process.wait(timeout=10)
    partial = _snapshot()
    assert 0 < len(partial[1]) < len(clean[1]), "killed half-way"

    call_command(
        "rebuild_stats", "--start", "2026-01-01", "--end",
        str(date(2026, 1, 1) + timedelta(days=days - 1)), stdout=io.StringIO(),
    )  # fmt: skip
    assert _snapshot() == clean
