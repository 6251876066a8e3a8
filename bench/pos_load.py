"""Point-of-sale load benchmark: the app under gunicorn on PostgreSQL, driven by wrk on loopback.

In one run, on one server:
  (a) GET /ping — a plain Django view returning a small JSON (the yardstick);
  (b) POST /api/v1/sales from 8 terminals over distinct shoppers (3-line baskets);
  (c) POST /api/v1/sales from 16 terminals on one hot shopper.
Writes bench/results/pos.json: requests/s, p50/p99, CPU per request (gunicorn, PostgreSQL),
the ratio of (b) to (a), of (c) to (b), and the books of the hot shopper (zero overspend).

    .venv/bin/python bench/pos_load.py [--seconds 20] [--workers 4] [--threads 4]
        [--database dutyfree_bench] [--template NAME] [--out DIR] [--port 8765]

Needs PostgreSQL (bench_db.py's server, ``BENCH_SERVER``: default 127.0.0.1:5432, user
postgres, trust) and Debian's wrk. Bounded in time; traffic only to 127.0.0.1. The test suite
runs it with one-second phases (tests/bench/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_db

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PORT = 8765
DB = "dutyfree_bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def run(
    cmd: list[str], env: dict[str, str] | None = None, timeout: int = 600, **kwargs: object
) -> str:
    return subprocess.run(
        cmd, env=env, check=True, capture_output=True, text=True, timeout=timeout, **kwargs
    ).stdout


def manage(env: dict[str, str], *args: str) -> str:
    return run([sys.executable, "manage.py", *args], env=env, cwd=ROOT)


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each live process."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    return found


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots, counting processes that started in between in full."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def children(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        for child in map(int, text):
            found.extend(children(child))
    return found


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def setup(
    env: dict[str, str], database: str = DB, template: str | None = None
) -> tuple[list[str], list[str]]:
    """A fresh ``database`` (migrated, or a copy of ``template``) with three products and 16
    terminals; the terminals' keys and the SKUs."""
    bench_db.fresh(database, template=template, env=env)
    script = """
from decimal import Decimal
from shops.models import Product, Store
from shops.pos.terminals import terminal_create
stores = list(Store.objects.order_by("code"))
for n, price in enumerate(["1.00", "2.00", "3.00"]):
    Product.objects.create(sku=f"BENCH-TEA-{n}", name_zh="茶", name_en="Tea", brand="Bench",
                           category_code="tea", retail_price=Decimal(price))
for n in range(16):
    _, key = terminal_create(store=stores[n % len(stores)], name=f"bench-{n}")
    print("KEY", key)
"""
    out = manage(env, "shell", "-c", script)
    keys = [line.split()[1] for line in out.splitlines() if line.startswith("KEY ")]
    return keys, ["BENCH-TEA-0", "BENCH-TEA-1", "BENCH-TEA-2"]


def wrk(
    path: str,
    script: str,
    *,
    connections: int,
    seconds: int,
    env: dict[str, str],
    port: int = PORT,
) -> dict:
    out = run(
        [
            "wrk",
            "-t",
            str(connections),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(BENCH / script),
            f"http://127.0.0.1:{port}{path}",
        ],
        env=env,
        timeout=seconds + 120,
    )
    report = json.loads(re.search(r"^REPORT (.*)$", out, re.M).group(1))  # type: ignore[union-attr]
    statuses = re.search(r"^STATUSES (.*)$", out, re.M)
    report["statuses"] = json.loads(statuses.group(1)) if statuses else {}
    return report


def phase(name: str, server: list[int], **wrk_args: object) -> dict:
    app_before, pg_before = cpu_by_pid(server), cpu_by_pid(postgres_pids())
    result = wrk(**wrk_args)  # type: ignore[arg-type]
    app_cpu = cpu_spent(app_before, cpu_by_pid(server))
    pg_cpu = cpu_spent(pg_before, cpu_by_pid(postgres_pids()))
    seconds = result["duration_us"] / 1e6
    requests = result["requests"]
    figures = {
        "requests": requests,
        "requests_per_s": round(requests / seconds, 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p90_ms": round(result["p90_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "max_ms": round(result["max_us"] / 1000, 2),
        "app_cpu_ms_per_request": round(app_cpu * 1000 / max(requests, 1), 3),
        "postgres_cpu_ms_per_request": round(pg_cpu * 1000 / max(requests, 1), 3),
        "statuses": result["statuses"],
        "socket_errors": {k: result[k] for k in result if k.startswith("errors_")},
    }
    print(
        f"{name:>22}: {figures['requests_per_s']:8.1f} req/s  p50 {figures['p50_ms']} ms  "
        f"p99 {figures['p99_ms']} ms  app {figures['app_cpu_ms_per_request']} ms/req  "
        f"statuses {figures['statuses']}",
        flush=True,
    )
    return figures


def books(env: dict[str, str]) -> dict:
    script = """
import json
from django.db.models import Sum
from quotas.models import QuotaAccount, QuotaEntry
from quotas.identity import document_key
from shops.models import Sale
key = document_key(doc_type="passport", country="CHN", number="E00000001")
account = QuotaAccount.objects.get(shopper__document_key=key)
ledger = QuotaEntry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"]
sales = Sale.objects.filter(account=account, status="completed").aggregate(t=Sum("total"))["t"]
print("BOOKS", json.dumps({"limit": str(account.limit), "used": str(account.used),
      "ledger": str(ledger), "sales": str(sales),
      "sale_count": Sale.objects.filter(account=account).count()}))
"""
    out = manage(env, "shell", "-c", script)
    return json.loads(out.split("BOOKS ", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="per phase")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of the plain view first")
    parser.add_argument("--database", default=DB)
    parser.add_argument("--template", help="copy this migrated database instead of migrating")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results")
    parser.add_argument("--port", type=int, default=PORT)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    database = bench_db.checked_name(args.database)

    env = {
        **os.environ,
        "DATABASE_URL": bench_db.url(database),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "BENCH_DIR": str(BENCH),
        "RUN_ID": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
        "DEPARTS_AT": (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:00:00+00:00"),
    }
    env.pop("REDIS_URL", None)  # the sale path never touches Redis
    keys, skus = setup(env, database, args.template)
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "dutyfree.wsgi",
            "-b",
            f"127.0.0.1:{args.port}",
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            args.worker_class,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        server = children(gunicorn.pid)
        common = {"seconds": args.seconds, "port": args.port}
        wrk(path="/ping", script="ping.lua", connections=8, seconds=args.warmup, env=env,
            port=args.port)  # fmt: skip
        plain = phase(
            "(a) plain view",
            server,
            path="/ping",
            script="ping.lua",
            connections=8,
            env=env,
            **common,
        )
        sales_env = {
            **env,
            "TERMINAL_KEYS": ",".join(keys[:8]),
            "MODE": "distinct",
            "SKUS": ",".join(skus),
        }
        distinct = phase(
            "(b) 8 terminals",
            server,
            path="/api/v1/sales",
            script="sales.lua",
            connections=8,
            env=sales_env,
            **common,
        )
        hot_env = {
            **env,
            "TERMINAL_KEYS": ",".join(keys[:16]),
            "MODE": "hot",
            "SKUS": ",".join(skus),
            "RUN_ID": env["RUN_ID"] + "h",
        }
        hot = phase(
            "(c) 16 on one shopper",
            server,
            path="/api/v1/sales",
            script="sales.lua",
            connections=16,
            env=hot_env,
            **common,
        )
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)

    hot_books = books(env)
    # wrk stops counting at the deadline while up to one request per connection is still
    # being served: the books may hold up to 16 more sales than 201 answers were counted.
    answered = int(hot.get("statuses", {}).get("201", 0))
    overspend = not (
        float(hot_books["used"]) <= float(hot_books["limit"])
        and hot_books["used"] == hot_books["ledger"] == hot_books["sales"]
        and 0 <= hot_books["sale_count"] - answered <= 16
    )
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python bench/pos_load.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "server": f"gunicorn {args.worker_class}, {args.workers} workers x {args.threads} threads",
        "seconds_per_phase": args.seconds,
        "plain_view": plain,
        "sales_8_terminals_distinct_shoppers": distinct,
        "sales_16_terminals_one_shopper": hot,
        "ratio_sales_to_plain": round(distinct["requests_per_s"] / plain["requests_per_s"], 3),
        "ratio_hot_to_distinct": round(hot["requests_per_s"] / distinct["requests_per_s"], 3),
        "hot_shopper_books": hot_books,
        "hot_shopper_overspend": overspend,
        "goals": {
            "ratio_sales_to_plain_min": 0.15,
            "p99_ms_8_terminals_max": 30,
            "ratio_hot_to_distinct_min": 0.6,
        },
    }
    result["goals_met"] = {
        "ratio_sales_to_plain": result["ratio_sales_to_plain"] >= 0.15,
        "p99_8_terminals": distinct["p99_ms"] <= 30,
        "ratio_hot_to_distinct": result["ratio_hot_to_distinct"] >= 0.6,
        "zero_overspend": not overspend,
    }
    args.out.mkdir(exist_ok=True)
    (args.out / "pos.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {k: result[k] for k in ("ratio_sales_to_plain", "ratio_hot_to_distinct", "goals_met")},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
