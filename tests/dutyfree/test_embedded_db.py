"""The embedded PostgreSQL that runs with no DATABASE_URL (dutyfree/embedded_db.py): started by
the first process that needs it, stopped cleanly by the last one, never left running by a
process that was killed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    """``kill`` (SIGTERM), as a container stop or a supervisor sends it, runs the exit
    handlers like Ctrl-C: the server is stopped, not left running without its last user."""
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
    assert waiting.wait(timeout=60) == 128 + 15
    assert not (folder / "postmaster.pid").exists()
    assert "database system is shut down" in (folder / "log").read_text()


def test_an_unreadable_list_of_processes_is_mended(tmp_path: Path) -> None:
    (tmp_path / ".handle_pids.json").write_text("")  # a writer killed half-way
    embedded_db._forget_dead_processes(tmp_path)
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == []
