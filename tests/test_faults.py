"""Faults: the database restarting under load, Redis gone, a rebuild killed half-way.

- PostgreSQL is restarted, then crashed, while terminals sell (bench/pg_restart.py on a
  private cluster): every answer is 201 or a clean 503 problem+json, no sale is half written,
  gunicorn recovers without a restart, and a retry with the same Idempotency-Key settles
  every 503 exactly once.
- Redis does not answer: sales and look-ups go on (the throttle counts in process).
- A rebuild killed with SIGKILL half-way: running it again gives the same rollups as a clean
  rebuild.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from shops.imports.batching import import_sales
from shops.models import DailyCategorySales, DailyStoreSales
from shops.reporting import rollups
from tests import support
from tests.conftest import database_url, need_service
from tests.support.books import rollup_snapshot
from tests.support.legacy import legacy_history

ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postgresql_restarted_and_crashed_under_load_fails_cleanly_and_recovers(
    tmp_path: Path,
) -> None:
    """A real PostgreSQL server — a private cluster made with initdb, so the suite's own server
    is not touched — is restarted (``pg_ctl restart -m fast``) and then crashed (``pg_ctl stop
    -m immediate``, down 2 s, started: WAL recovery) while 4 terminals sell through gunicorn:
    bench/pg_restart.py as an operator runs it, its report written to a temporary folder."""
    spec = importlib.util.spec_from_file_location("pg_restart", ROOT / "bench" / "pg_restart.py")
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["pg_restart"] = bench  # its dataclasses look themselves up there
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    try:
        bench.pg_bin()
    except RuntimeError as error:
        need_service("PostgreSQL server programs (initdb, pg_ctl)", False, str(error))
    done = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "bench/pg_restart.py", "--seconds", "9", "--terminals", "4",
         "--workers", "2", "--threads", "2", "--out", str(tmp_path), "--work-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    written = tmp_path / "pg_restart_private.json"
    assert written.exists(), done.stderr[-3000:]
    report = json.loads(written.read_text())

    # Both outages refused some sales, and every answer — first sends and the retries that
    # settled them — was 201 or a clean 503 problem+json with Retry-After; no dropped socket,
    # and nothing refused before the first outage.
    assert [o["kind"] for o in report["outages"]] == ["fast", "crash"]
    assert all(o["refused"] > 0 for o in report["outages"]), report["outages"]
    assert report["refused_cleanly"] == report["refused"] > 0
    assert report["answers_neither_201_nor_clean_503"] == 0
    assert set(report["first_answers"]) == {"201", "503"}
    assert report["dropped_connections"] == 0
    assert report["refused_before_any_outage"] == 0
    # The app recovered by itself: the same gunicorn processes, selling again after each outage.
    assert report["app_pids_same"], report["app_pids"]
    assert all(o["first_sale_after_command_s"] is not None for o in report["outages"])
    # Each key settled to exactly one sale, and no sale is partial: the books balance.
    assert report["settled_201"] == report["sales_sent"]
    assert report["sales_in_database"] == report["sales_sent"] == report["distinct_receipts"]
    assert report["sales_without_their_3_lines"] == 0
    assert report["check_books_exit"] == 0, report["check_books_output"]
    assert report["held"] is True
    assert done.returncode == 0


@pytest.mark.django_db
def test_with_redis_gone_sales_and_look_ups_go_on(client: Client) -> None:
    from dutyfree import throttle

    support.product("FAULT-TEA", "tea", "50.00")
    _, key = support.terminal("SYA-HTB")
    throttle.reset_fallback()
    dead = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    who = support.shopper(support.resident_id(4242))
    with override_settings(CACHES=caches, QUOTA_LOOKUP_RATE="3/60"):
        sale = client.post(
            "/api/v1/sales",
            support.json_basket(support.basket(("FAULT-TEA", 1), who=who)),
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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuild_killed_half_way_then_run_again_gives_the_same_rollups() -> None:
    days = 150
    assert import_sales(io.StringIO(legacy_history(days)), now=timezone.now()).imported == days * 12
    rollups.rebuild_all(now=timezone.now())
    clean = rollup_snapshot()
    DailyCategorySales.objects.all().delete()
    DailyStoreSales.objects.all().delete()

    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": database_url(database),
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
    partial = rollup_snapshot()
    assert 0 < len(partial[1]) < len(clean[1]), "killed half-way"

    call_command(
        "rebuild_stats", "--start", "2026-01-01", "--end",
        str(date(2026, 1, 1) + timedelta(days=days - 1)), stdout=io.StringIO(),
    )  # fmt: skip
    assert rollup_snapshot() == clean
