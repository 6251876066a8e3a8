"""The embedded PostgreSQL that runs with no DATABASE_URL (dutyfree/embedded_db.py): started by
the first process that needs it, stopped cleanly by the last one, never left running by a
process that was killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dutyfree import embedded_db

ROOT = Path(__file__).resolve().parents[2]
START = """
import sys
from pathlib import Path
from dutyfree.embedded_db import database_url
print(database_url(Path(sys.argv[1]), "probe"))
"""


def _run(folder: Path) -> str:
    done = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-c", START, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_process_starts_the_server_and_stops_it_cleanly_when_it_exits(tmp_path: Path) -> None:
    folder = tmp_path / "pg"
    url = _run(folder)
    assert url.endswith("/probe")
    assert url.startswith("postgres://postgres@" + str(folder).replace("/", "%2F"))
    assert (folder / "PG_VERSION").read_text().strip() == "18"
    # Stopped by the last process out: no postmaster.pid, and the log says it shut down.
    assert not (folder / "postmaster.pid").exists()
    assert "database system is shut down" in (folder / "log").read_text()
    # The next process starts it again on the same data, the database already there.
    assert _run(folder) == url
    assert not (folder / "postmaster.pid").exists()


def test_a_killed_process_is_forgotten_so_the_server_can_still_stop(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".handle_pids.json").write_text(json.dumps([dead.pid, os.getpid()]))
    embedded_db._forget_dead_processes(tmp_path)
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [os.getpid()]


def test_a_process_ended_by_sigterm_still_stops_the_server(tmp_path: Path) -> None:
    """``kill`` (SIGTERM), as a container stop or a supervisor sends it, leaves like Ctrl-C:
    the server is stopped, not left running without its last user, and the process still
    ends by the signal."""
    folder = tmp_path / "pg"
    waiting = subprocess.Popen(  # noqa: S603 - a fixed command line
        [
            sys.executable,
            "-c",
            START + "print('up', flush=True)\nimport time; time.sleep(60)",
            str(folder),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert waiting.stdout is not None
    while "up" not in waiting.stdout.readline():
        pass
    assert (folder / "postmaster.pid").exists()
    waiting.terminate()
    assert waiting.wait(timeout=60) == -signal.SIGTERM
    assert not (folder / "postmaster.pid").exists()
    assert "database system is shut down" in (folder / "log").read_text()


def test_an_unreadable_list_of_processes_is_mended(tmp_path: Path) -> None:
    (tmp_path / ".handle_pids.json").write_text("")  # a writer killed half-way
    embedded_db._forget_dead_processes(tmp_path)
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize(
    ("signum", "reload"),
    [(signal.SIGTERM, True), (signal.SIGHUP, True), (signal.SIGTERM, False)],
    ids=["sigterm-autoreloader", "sighup-autoreloader", "sigterm-noreload"],
)
def test_a_signal_to_make_runs_process_group_stops_the_server(
    tmp_path: Path, signum: signal.Signals, reload: bool
) -> None:
    """``make run`` is runserver with its autoreloader: a parent and the child that serves, in
    one process group. ``kill -TERM -PGID`` (or a closed terminal's SIGHUP) reaches both; the
    parent's own SIGTERM handler kills the child with SIGKILL, so the last one out must still
    find the server without users and stop it."""
    folder = tmp_path / "pg"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "tests.dutyfree.embedded_settings",
        "EMBEDDED_TEST_FOLDER": str(folder),
        "DEBUG": "1",
    }
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{_free_port()}"]
    server = subprocess.Popen(  # noqa: S603 - a fixed command line
        command if reload else [*command, "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives `make run`
    )
    assert server.stdout is not None
    said = []
    for line in server.stdout:  # the serving process is up once it says how to quit
        said.append(line)
        if "Quit the server" in line:
            break
    assert "Quit the server" in said[-1], "".join(said)
    users = json.loads((folder / ".handle_pids.json").read_text())
    assert len(users) == (2 if reload else 1)
    assert (folder / "postmaster.pid").exists()

    os.killpg(server.pid, signum)
    server.wait(timeout=60)
    deadline = time.monotonic() + 60
    while not _group_gone(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert _group_gone(server.pid)
    assert not (folder / "postmaster.pid").exists()
    assert json.loads((folder / ".handle_pids.json").read_text()) == []
    log = (folder / "log").read_text()
    assert log.rstrip().endswith("database system is shut down")
    # The next start finds no stale pid or user and stops the server again when it is done.
    assert _run(folder).startswith("postgres://")
    assert not (folder / "postmaster.pid").exists()
    assert json.loads((folder / ".handle_pids.json").read_text()) == []
