"""Instructions per sale in PostgreSQL's backend, counted by valgrind's callgrind.

``bench/sale_instructions.py`` counts the Python process; this counts the other half, the
backend that runs the sale's statements, their triggers (foreign-key checks) and the commit.
Like it, a count does not move with the machine's load, where ``ratio.sh``'s rates move by
±20 % from round to round on a shared 2-core machine.

A private cluster is made with ``initdb`` in a temporary folder (the machine's own server is not
touched) and started normally to migrate each checkout's database (a store, the products of
``bench/data/sale_products.csv``, a terminal); then it is restarted under callgrind, and
``bench/sale_loop.py`` makes 0 and N sales through one connection: the difference of the two
backends' counts over N is PostgreSQL's instructions per sale. With ``--refapp`` (the team's
reference app, ``perf/refapp`` beside this repository) the least a sale can do in Django is
counted the same way, for the ratio.

    apt-get install valgrind     # once; PostgreSQL's server binaries (pg_config --bindir)
    .venv/bin/python bench/pg_instructions.py --checkout /path/to/before --checkout . \\
        [--refapp /path/to/perf/refapp] [--sales 200]

About a minute per checkout. Writes ``bench/results/pg-instructions.json``. Run as root it
runs the server as the ``postgres`` user (PostgreSQL refuses root).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sale_instructions import REF_LOOP, revision, write_result

ROOT = Path(__file__).resolve().parent.parent
LOOP = ROOT / "bench" / "sale_loop.py"
PRODUCTS = ROOT / "bench" / "data" / "sale_products.csv"
RESULT = ROOT / "bench" / "results" / "pg-instructions.json"
PORT = 5499


def _bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        return Path(subprocess.check_output([found, "--bindir"], text=True).strip())
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not candidates:
        raise SystemExit("no PostgreSQL server binaries (pg_config --bindir)")
    return candidates[-1]


class Cluster:
    """A private cluster in ``folder``, run as the ``postgres`` user when this runs as root."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.bin = folder, _bindir()
        self.data = folder / "data"
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(folder, "postgres")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"])

    def _run(self, command: list[str]) -> None:
        subprocess.run([*self.as_owner, *command], check=True, capture_output=True, timeout=600)

    def start(self, *, callgrind: bool) -> subprocess.Popen[bytes]:
        prefix = (
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={self.folder}/cg.%p"]
            if callgrind
            else []
        )
        server = subprocess.Popen(
            [*self.as_owner, *prefix, str(self.bin / "postgres"), "-D", str(self.data),
             "-p", str(PORT), "-k", str(self.folder), "-c", "listen_addresses=127.0.0.1",
             "-c", "autovacuum=off", "-c", "shared_buffers=128MB"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(240):
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(PORT)],
                check=False,
            )
            if ready.returncode == 0:
                return server
            time.sleep(0.5)
        server.kill()
        raise SystemExit("the private PostgreSQL did not start")

    def stop(self, server: subprocess.Popen[bytes]) -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "stop", "-m", "fast"])
        server.wait(timeout=300)

    def sql(self, statement: str, database: str = "postgres") -> None:
        subprocess.run(
            [str(self.bin / "psql"), "-q", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres",
             "-d", database, "-c", statement],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip

    def newest_count(self) -> int:
        """Instructions in the callgrind file written last (a backend's, as it ended)."""
        newest = max(self.folder.glob("cg.*"), key=lambda path: path.stat().st_mtime_ns)
        found = re.search(r"^(?:summary|totals): (\d+)", newest.read_text(), re.MULTILINE)
        if found is None:
            raise SystemExit(f"no count in {newest}")
        return int(found.group(1))


def _env(database: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PORT}/{database}",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13",
        "SECRET_KEY": "bench", "DJANGO_SECRET_KEY": "bench", "IDENTITY_HMAC_KEY": "bench",
        "DEBUG": "0", "DJANGO_DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONWARNINGS": "ignore", **extra,
    }  # fmt: skip


def _python(checkout: Path) -> str:
    own = checkout / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def _prepare(cluster: Cluster, checkout: Path, database: str) -> str:
    """A migrated database with a store, the products and a terminal; the terminal's key."""
    cluster.sql(f"CREATE DATABASE {database}")

    def manage(*args: str) -> str:
        return subprocess.run(
            [_python(checkout), "manage.py", *args], cwd=checkout, env=_env(database),
            check=True, capture_output=True, text=True, timeout=900,
        ).stdout  # fmt: skip

    manage("migrate", "--noinput", "-v0")
    manage("create_store", "PERF-A", "--name", "Perf A", "--city", "Haikou")
    manage("import_products", str(PRODUCTS))
    return manage("create_terminal", "--store", "PERF-A", "--name", "perf").strip().splitlines()[-1]


def _prepare_refapp(cluster: Cluster, refapp: Path, database: str) -> None:
    cluster.sql(f"CREATE DATABASE {database}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=refapp,
        env=_env(database, REF_DB_NAME=database, REF_DB_PORT=str(PORT)),
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    cluster.sql(
        "INSERT INTO quota SELECT g, 2026, 0, 100000000 FROM generate_series(1, 100000) g", database
    )


def _per_sale(cluster: Cluster, sales: int, loop: list[str], cwd: Path, env: dict[str, str]) -> int:
    """The backend's instructions per sale: a loop of 0 sales and one of ``sales``."""
    counts = []
    for count in (0, sales):
        subprocess.run(
            [*loop, str(count)], cwd=cwd, env=env, check=True, capture_output=True, timeout=3600
        )
        time.sleep(2)  # the backend writes its count as it ends
        counts.append(cluster.newest_count())
    return round((counts[1] - counts[0]) / sales)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", action="append", type=Path, help="a checkout's root")
    parser.add_argument("--refapp", type=Path, help="the reference app (perf/refapp)")
    parser.add_argument("--sales", type=int, default=200)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    checkouts = [path.resolve() for path in args.checkout or [ROOT]]
    refapp = args.refapp.resolve() if args.refapp else None
    runs: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="pg-instructions-") as folder:
        cluster = Cluster(Path(folder))
        server = cluster.start(callgrind=False)
        keys = {
            checkout: _prepare(cluster, checkout, f"s{n}") for n, checkout in enumerate(checkouts)
        }
        if refapp:
            _prepare_refapp(cluster, refapp, "ref")
        cluster.stop(server)
        server = cluster.start(callgrind=True)
        try:
            for n, checkout in enumerate(checkouts):
                env = _env(f"s{n}", KEY=keys[checkout], PYTHONPATH=str(checkout))
                loop = [_python(checkout), str(LOOP)]
                runs.append({
                    "checkout": str(checkout), "revision": revision(checkout),
                    "per_sale": _per_sale(cluster, args.sales, loop, checkout, env),
                })  # fmt: skip
                print(json.dumps(runs[-1]), flush=True)
            if refapp:
                env = _env("ref", REF_DB_NAME="ref", REF_DB_PORT=str(PORT), PYTHONPATH=str(refapp))
                loop = [sys.executable, "-c", REF_LOOP]
                runs.append({
                    "checkout": "refapp: the least a sale can do in Django + DRF",
                    "per_sale": _per_sale(cluster, args.sales, loop, refapp, env),
                })  # fmt: skip
                print(json.dumps(runs[-1]), flush=True)
        finally:
            cluster.stop(server)
    write_result(
        RESULT,
        what="instructions per sale in PostgreSQL's backend (callgrind): distinct shoppers with 3 "
        "lines; the reference app's sale with 3 lines",
        script="bench/pg_instructions.py",
        sales=args.sales,
        runs=runs,
    )


if __name__ == "__main__":
    main()
