"""Soak run: mixed traffic at half the measured capacity, for 10 minutes, on loopback.

    .venv/bin/python bench/soak.py [--minutes 10] [--connections 8] [--capacity-seconds 20]
        [--warmup-seconds 5] [--database dutyfree_bench] [--template NAME] [--out DIR] [--port N]

Starts the app under gunicorn on PostgreSQL (as bench/pos_load.py does), measures the
capacity of the mix — of every 20 requests 14 quotes, 5 sales, 1 quota look-up (70 / 25 / 5 %)
— flat out for 20 s, then offers half of it (each connection pauses between requests) for the
soak. Writes bench/results/soak.json: offered and achieved rate, p50/p99/max, statuses, socket
errors, and the resident memory (RSS) of every gunicorn process at the start and the end of
the soak. Goals: p99 under 100 ms, memory flat, zero errors. Bounded in time; loopback only.
The test suite runs it for seconds (tests/bench/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
from pos_load import BENCH, DB, PORT, RESULTS, ROOT, children, setup, wrk


def rss_kib(pids: list[int]) -> dict[str, int]:
    found = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[str(pid)] = int(line.split()[1])
        except OSError:
            continue
    return found


def figures(result: dict, seconds: float) -> dict:
    return {
        "requests": result["requests"],
        "requests_per_s": round(result["requests"] / (result["duration_us"] / 1e6), 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "max_ms": round(result["max_us"] / 1000, 2),
        "statuses": result["statuses"],
        "socket_errors": {k: result[k] for k in result if k.startswith("errors_")},
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--capacity-seconds", type=int, default=20, help="flat out, measured")
    parser.add_argument("--warmup-seconds", type=int, default=5, help="flat out, first")
    parser.add_argument("--database", default=DB)
    parser.add_argument("--template", help="copy this migrated database instead of migrating")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results")
    parser.add_argument("--port", type=int, default=PORT)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    database = bench_db.checked_name(args.database)
    port = args.port
    env = {
        **os.environ,
        "DATABASE_URL": bench_db.url(database),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "BENCH_DIR": str(BENCH),
        "RUN_ID": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
        "DEPARTS_AT": (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:00:00+00:00"),
        # One client address sends every look-up here: lift the per-address limit.
        "QUOTA_LOOKUP_RATE": "100000000/60",
    }
    env.pop("REDIS_URL", None)
    keys, skus = setup(env, database, args.template)
    mix_env = {**env, "TERMINAL_KEYS": ",".join(keys[:8]), "SKUS": ",".join(skus)}
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "dutyfree.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        server = children(gunicorn.pid)
        wrk(path="/", script="soak.lua", connections=args.connections,
            seconds=args.warmup_seconds, port=port,
            env={**mix_env, "DELAY_MS": "0", "RUN_ID": env["RUN_ID"] + "w"})  # fmt: skip
        capacity = figures(
            wrk(
                path="/",
                script="soak.lua",
                connections=args.connections,
                seconds=args.capacity_seconds,
                port=port,
                env={**mix_env, "DELAY_MS": "0", "RUN_ID": env["RUN_ID"] + "c"},
            ),
            args.capacity_seconds,
        )
        print(f"capacity: {capacity['requests_per_s']} req/s", flush=True)
        target = capacity["requests_per_s"] / 2
        # Each connection offers target / connections requests a second: it pauses so long
        # between requests, less about the time a request takes at this load.
        delay_ms = max(1, round(1000 * args.connections / target - capacity["p50_ms"] / 2))
        seconds = round(args.minutes * 60)
        rss_start = rss_kib(server)
        soak = figures(
            wrk(
                path="/",
                script="soak.lua",
                connections=args.connections,
                seconds=seconds,
                port=port,
                env={**mix_env, "DELAY_MS": str(delay_ms), "RUN_ID": env["RUN_ID"] + "s"},
            ),
            seconds,
        )
        rss_end = rss_kib(server)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)

    errors = sum(soak["socket_errors"].values()) + sum(
        n for status, n in soak["statuses"].items() if not status.startswith("2")
    )
    growth = {
        pid: round((rss_end.get(pid, 0) - start) / 1024, 1) for pid, start in rss_start.items()
    }
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python bench/soak.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "server": f"gunicorn gthread, {args.workers} workers x {args.threads} threads",
        "mix": "70 % quotes, 25 % sales, 5 % quota look-ups",
        "capacity": capacity,
        "offered_requests_per_s": round(target, 1),
        "delay_ms_per_connection": delay_ms,
        "soak": soak,
        "errors": errors,
        "rss_kib_start": rss_start,
        "rss_kib_end": rss_end,
        "rss_growth_mib": growth,
        "goals": {"p99_ms_max": 100, "errors": 0, "memory": "flat"},
        "goals_met": {"p99": soak["p99_ms"] < 100, "errors": errors == 0},
    }
    args.out.mkdir(exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("soak", "errors", "rss_growth_mib")}, indent=2))


if __name__ == "__main__":
    main()
