"""Instructions per sale in the Python process, counted by valgrind's callgrind.

``../shared``'s ``ratio.sh`` rates move by ±20 % from round to round on this shared 2-core
machine; an instruction count does not move with the load. For each checkout given (default:
this one) this makes a fresh database on ``BENCH_SERVER`` migrated by that checkout (Redis on
``REDIS_URL``, default ``redis://127.0.0.1:6379/13`` as ``ratio.sh``), a store,
the products of ``bench/data/sale_products.csv`` and a terminal, then runs ``bench/sale_loop.py``
(this checkout's) in that checkout under callgrind with 0 and with N sales; the difference over
N is the Python process's instructions per sale (PostgreSQL's own work is not counted). Both
kinds of sale are counted: fresh shoppers with 3 lines, and one hot shopper with 1 line.

    apt-get install valgrind     # once
    .venv/bin/python bench/sale_instructions.py --checkout /path/to/before --checkout . \
        [--refapp /path/to/perf/refapp]

About two minutes per checkout and kind (callgrind runs Python some 50 times slower). Writes
``bench/results/sale-instructions.json``.
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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_db

ROOT = Path(__file__).resolve().parent.parent
LOOP = ROOT / "bench" / "sale_loop.py"
PRODUCTS = ROOT / "bench" / "data" / "sale_products.csv"
RESULT = ROOT / "bench" / "results" / "sale-instructions.json"
# The reference app's loop: its POST /sale, 3 lines, a shopper of the 100,000 seeded.
REF_LOOP = """
import io, os, random, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quotasvc.settings")
import django; django.setup()
from django.core.handlers.wsgi import WSGIHandler
app, status = WSGIHandler(), []
for n in range(20 + int(sys.argv[1])):
    body = ('{"shopper_id":%d,"terminal_id":1,"store_id":1,"lines":[{"sku":1,"category":4,'
        '"qty":1,"amount":"1200.00"},{"sku":2,"category":6,"qty":2,"amount":"20.00"},{"sku":3,'
        '"category":7,"qty":1,"amount":"800.00"}]}' % random.randint(1, 100000)).encode()
    answer = app({"REQUEST_METHOD": "POST", "PATH_INFO": "/sale", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json", "wsgi.errors": sys.stderr,
        "REMOTE_ADDR": "127.0.0.1"}, lambda code, headers, exc=None: status.append(code))
    b"".join(answer); answer.close()
    if not status[-1].startswith("201"): raise SystemExit(status[-1])
"""


def _env(checkout: Path, database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": bench_db.url(database),
        # As ratio.sh: a real broker, so the rollups' task is queued (with none, Celery runs
        # it eagerly in the sale's process and it would be counted with the sale).
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13",
        "SECRET_KEY": "bench", "DJANGO_SECRET_KEY": "bench", "IDENTITY_HMAC_KEY": "bench",
        "DEBUG": "0", "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": str(checkout), "PYTHONHASHSEED": "0", "PYTHONWARNINGS": "ignore",
    }  # fmt: skip


def _python(checkout: Path) -> str:
    own = checkout / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def _prepare(checkout: Path, database: str) -> str:
    """A migrated database with a store, the products and a terminal; the terminal's key."""
    env, python = _env(checkout, database), _python(checkout)
    bench_db.psql(f"DROP DATABASE IF EXISTS {bench_db.checked_name(database)} WITH (FORCE)")
    bench_db.psql(f"CREATE DATABASE {database}")

    def manage(*args: str) -> str:
        return subprocess.run(
            [python, "manage.py", *args], cwd=checkout, env=env, check=True,
            capture_output=True, text=True, timeout=900,
        ).stdout  # fmt: skip

    manage("migrate", "--noinput", "-v0")
    manage("create_store", "PERF-A", "--name", "Perf A", "--city", "Haikou")
    manage("import_products", str(PRODUCTS))
    return manage("create_terminal", "--store", "PERF-A", "--name", "perf").strip().splitlines()[-1]


def _instructions(checkout: Path, database: str, key: str, sales: int, hot: bool) -> int:
    """Instructions of one run of the loop with ``sales`` sales, the whole process."""
    with tempfile.TemporaryDirectory() as folder:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
             _python(checkout), str(LOOP), str(sales), *(["hot"] if hot else [])],
            cwd=checkout, env={**_env(checkout, database), "KEY": key},
            capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed in {checkout}:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def per_sale(checkout: Path, sales: int, hot: bool) -> int:
    database = bench_db.checked_name(f"bench_instructions_{os.getpid()}")
    try:
        key = _prepare(checkout, database)
        base = _instructions(checkout, database, key, 0, hot)
        loaded = _instructions(checkout, database, key, sales, hot)
    finally:
        bench_db.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return round((loaded - base) / sales)


def refapp_per_sale(refapp: Path, sales: int) -> int:
    """The same count for the team's reference app (``perf/refapp``: the least a sale can do in
    Django + DRF), its loop as ``bench/pg_instructions.py`` runs it."""
    database = bench_db.checked_name(f"bench_instructions_ref_{os.getpid()}")
    env = {**_env(refapp, database), "REF_DB_NAME": database, "PYTHONPATH": str(refapp)}
    bench_db.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    bench_db.psql(f"CREATE DATABASE {database}")
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=refapp, env=env,
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        bench_db.psql(
            "INSERT INTO quota SELECT g, 2026, 0, 100000000 FROM generate_series(1, 100000) g",
            database,
        )
        counts = []
        for count in (0, sales):
            with tempfile.TemporaryDirectory() as folder:
                run = subprocess.run(
                    ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
                     sys.executable, "-c", REF_LOOP, str(count)],
                    cwd=refapp, env=env, capture_output=True, text=True, timeout=3600,
                )  # fmt: skip
            found = re.search(r"Collected : (\d+)", run.stderr)
            if run.returncode != 0 or found is None:
                raise SystemExit(f"callgrind run failed in {refapp}:\n{run.stderr[-2000:]}")
            counts.append(int(found.group(1)))
    finally:
        bench_db.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return round((counts[1] - counts[0]) / sales)


def revision(checkout: Path) -> str:
    """The checkout's commit, as the results name it."""
    return subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()[:100]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", action="append", type=Path, help="a checkout's root")
    parser.add_argument("--sales", type=int, default=300)
    parser.add_argument(
        "--refapp", type=Path, help="also count the reference app (perf/refapp), 3-line sales"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    runs: list[dict[str, object]] = []
    for checkout in args.checkout or [ROOT]:
        checkout = checkout.resolve()
        figures = {
            kind: per_sale(checkout, args.sales, hot=kind == "hot") for kind in ("distinct", "hot")
        }
        runs.append({"checkout": str(checkout), "revision": revision(checkout), **figures})
        print(json.dumps(runs[-1]), flush=True)
    if args.refapp:
        distinct = refapp_per_sale(args.refapp.resolve(), args.sales)
        runs.append({"checkout": "refapp: the least a sale can do in Django + DRF",
                     "distinct": distinct})  # fmt: skip
        print(json.dumps(runs[-1]), flush=True)
    write_result(
        RESULT,
        what="instructions per sale in the Python process (callgrind), distinct shoppers with 3 "
        "lines and one hot shopper with 1 line",
        script="bench/sale_instructions.py",
        sales=args.sales,
        runs=runs,
    )


def write_result(
    path: Path, *, what: str, script: str, sales: int, runs: list[dict[str, object]]
) -> None:
    """The figures as ``bench/results/`` keeps them: when, what, the command, the runs."""
    path.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "what": what,
                "command": " ".join([".venv/bin/python", script, *sys.argv[1:]]),
                "sales": sales,
                "runs": runs,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
