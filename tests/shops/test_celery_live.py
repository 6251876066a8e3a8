"""A real Celery worker with beat, on a Redis of its own and the test's PostgreSQL database:
a sale made through the API shows in the statistics within two beat periods without anyone
calling a rebuild; with Redis stopped, sales still commit, and when Redis is back the
statistics catch up with nothing lost."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from shops.models import RollupState
from shops.reporting.stats import sales_stats
from tests import support
from tests.conftest import database_url
from tests.support.redis_server import RedisServer

PERIOD = 2  # seconds between beat refreshes in this test (STATS_REFRESH_SECONDS)
ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def worker(redis: RedisServer, tmp_path: Path, settings: Any) -> Iterator[subprocess.Popen]:
    """``celery worker -B`` on the test database (committed data: a transactional test).
    This process plays the web process of such a deployment: no refresh of its own after a
    sale (as with ``REDIS_URL`` set), so what reaches the stats is the worker's doing."""
    settings.STATS_REFRESH_ON_COMMIT = False
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "STATS_REFRESH_SECONDS": str(PERIOD),
        "DJANGO_SETTINGS_MODULE": "dutyfree.settings",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dutyfree",
            "worker",
            "-B",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process
    with contextlib.suppress(ProcessLookupError):  # a test may have killed it already
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def _wait(condition, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def _sales_today() -> int:
    today = timezone.localdate()
    return sales_stats(start=today, end=today)["totals"]["sales"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_folds_sales_into_the_stats_and_catches_up_after_redis_returns(
    redis: RedisServer, worker: subprocess.Popen, client: Client, tmp_path: Path
) -> None:
    support.product("LIVE-LIP", "cosmetics", "300.00")
    _, key = support.terminal("SYA-HTB")

    def sell(n: int) -> None:
        body = support.json_basket(
            support.basket(
                ("LIVE-LIP", 1),
                who=support.shopper(support.resident_id(n)),
                on=support.trip(departs_at=timezone.now() + timedelta(days=2)),
            )
        )
        response = client.post(
            "/api/v1/sales",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
            HTTP_IDEMPOTENCY_KEY=f"live-{n}",
        )
        assert response.status_code == 201, response.content

    # The worker is up once beat's first refresh has run.
    _wait(lambda: RollupState.objects.exists(), 60)
    assert _sales_today() == 0

    sell(1)
    waited = _wait(lambda: _sales_today() == 1, 2 * PERIOD + 1)
    assert waited <= 2 * PERIOD + 1

    redis.stop()
    for n in range(2, 5):
        sell(n)  # the sale path never touches Redis
    time.sleep(2 * PERIOD)
    assert _sales_today() == 1  # no refresh without the broker
    redis.start()
    _wait(lambda: _sales_today() == 4, 60)
    stats = sales_stats(start=timezone.localdate(), end=timezone.localdate())["totals"]
    assert (stats["amount"], stats["shoppers"]) == ("1200.00", 4)
    assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_rebuild_then_a_rerun_gives_identical_rollups(
    redis: RedisServer, worker: subprocess.Popen
) -> None:
    import io
    from datetime import date

    from dutyfree.celery import app
    from shops.imports.batching import import_sales
    from shops.models import DailyStoreSales
    from shops.reporting import rollups
    from tests.support.books import rollup_snapshot
    from tests.support.legacy import legacy_history

    days = 150
    assert import_sales(io.StringIO(legacy_history(days)), now=timezone.now()).imported == days * 12
    rollups.rebuild_all(now=timezone.now())
    clean = rollup_snapshot()
    DailyStoreSales.objects.all().delete()
    from shops.models import DailyCategorySales

    DailyCategorySales.objects.all().delete()
    end = (date(2026, 1, 1) + timedelta(days=days - 1)).isoformat()
    with app.connection_for_write(f"redis://127.0.0.1:{redis.port}/0") as broker:
        app.send_task(
            "shops.tasks.rebuild_stats",
            args=["2026-01-01", end],
            kwargs={"step_days": 1},
            connection=broker,
        )
    _wait(lambda: DailyStoreSales.objects.exists(), 60)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker dies mid-rebuild
    worker.wait(timeout=10)
    partial = rollup_snapshot()
    assert 0 < len(partial[1]) < len(clean[1]), "killed half-way"

    rollups.rebuild(
        start=date(2026, 1, 1), end=date.fromisoformat(end), now=timezone.now()
    )  # the rerun
    assert rollup_snapshot() == clean
