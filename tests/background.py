"""Slow jobs that need neither the test database nor the test process — mypy, import-linter,
collectstatic with the production storage — started as subprocesses as soon as the tests that
read them are collected (``pytest_collection_finish`` in tests/conftest.py), so they run on the
machine's other core while the suite goes on; each of those tests then waits for its job.
Nothing is started for a run that does not collect its test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class Job:
    """A command, and the test whose collection starts it."""

    command: list[str]
    test: str
    env: dict[str, str] = field(default_factory=dict)


# collectstatic writes here (a fresh STATIC_ROOT for the run, removed at its end).
STATIC_ROOT = Path(tempfile.gettempdir()) / f"dutyfree-static-{os.getpid()}"

JOBS = {
    "mypy": Job([str(BIN / "mypy")], "tests/code/test_types.py::test_mypy_passes_over_the_apps"),
    "lint-imports": Job(
        [str(BIN / "lint-imports"), "--no-cache"],
        "tests/code/test_layers.py::test_import_contracts_are_kept",
    ),
    "collectstatic": Job(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        "tests/dutyfree/test_static_production.py",
        {"STATIC_ROOT": str(STATIC_ROOT)},
    ),
}

_running: dict[str, subprocess.Popen[str]] = {}
_done: dict[str, subprocess.CompletedProcess[str]] = {}


def start(name: str) -> None:
    if name in _running or name in _done:
        return
    job = JOBS[name]
    _running[name] = subprocess.Popen(  # noqa: S603 - our own venv's programs, fixed arguments
        job.command,
        cwd=ROOT,
        env={**os.environ, **job.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_for(nodeids: Iterable[str]) -> None:
    """Start the job of every collected test that has one.

    Under pytest-xdist every worker collects every test, so every worker would start every
    job: two mypy runs, two collectstatics, beside the two test databases being made (a first
    test's setup took 42 s instead of 6). Only the first worker starts them: its share holds
    tests/code and tests/dutyfree at the start of the collection, where these tests are. If
    another worker runs one of them after all, ``result`` starts its job there."""
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0":
        return
    collected = list(nodeids)
    for name, job in JOBS.items():
        if any(nodeid.startswith(job.test) for nodeid in collected):
            start(name)


def result(name: str) -> subprocess.CompletedProcess[str]:
    """The job's outcome, waiting for it (started now if no collected test started it)."""
    if name not in _done:
        start(name)
        process = _running.pop(name)
        stdout, stderr = process.communicate()
        _done[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return _done[name]


def stop() -> None:
    """At the session's end: no job outlives the run, nor the STATIC_ROOT it wrote."""
    for process in _running.values():
        process.kill()
        process.communicate()
    _running.clear()
    shutil.rmtree(STATIC_ROOT, ignore_errors=True)
