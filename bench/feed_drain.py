"""The event feed's drain: how fast a backlog of events reaches a local receiver.

    .venv/bin/python bench/feed_drain.py [--events 100000] [--database feed_drain] [--verify]
        [--inline] [--feed-threads 16] [--template NAME] [--timeout SECONDS] [--out DIR] [--keep]
        [--logs DIR]

The goal (the feed's issue): a backlog of 100,000 events drains to a local receiver at
≥ 1,000 events/s.

1. A fresh database (``--database``, dropped and created on bench_db.py's server, migrated; or a
   copy of ``--template``) and in it ``--events`` ``sale.completed`` events of one store
   (``--store``, SYA-HTB), each a realistic sale's 201 body of about 1.2 kB, written by one
   set-based INSERT (not dispatched yet: the backlog a pump finds after an outage).
2. A receiver in a process of its own (asyncio, standard library only): HTTP/1.1 keep-alive,
   answers 200 at once, counts requests and distinct ``webhook-id``s (the rest: duplicates).
   ``--verify``: every body is also checked with the Standard Webhooks library
   (``Webhook(secret).verify``), the failures counted.
3. A private redis-server on a free port (nothing on disk), then the workers as the Makefile
   runs them: ``make worker`` (the default queue: the pump) and ``make feed-worker`` (queue
   ``feed``, a pool of ``--feed-threads`` threads), up before anything is there to pump; then
   one endpoint to the receiver (``manage.py create_webhook URL --name drain``: the platform's,
   every type) and, the clock started, ``celery beat`` with ``FEED_PUMP_SECONDS=1``.
   ``--inline``: no workers nor beat; this process calls ``delivery.pump`` in a loop (every
   second), each endpoint due delivered in the same thread (zero-config mode's way).
4. The clock runs from the endpoint's existence until every delivery is ``delivered`` (the
   database polled every 0.5 s): events/s, the receiver's requests (≥ events; duplicates
   counted). From the database also the first delivery's delay after the endpoint
   (``first_delivery_after_seconds``: beat's start, its first tick, the fan-out) and the rate
   from the first delivery to the last (``delivering_events_per_second``): on a small backlog
   the delay weighs on ``events_per_second``, on 100,000 events hardly.

``--inline`` prints the app's log to stderr, httpx's line per POST among it (``LOG_LEVEL=WARNING``
or ``2>/dev/null`` quiets it); the workers' logs go to a temporary folder, kept with ``--logs DIR``
and when the run fails.

Writes bench/results/feed-drain.json (``--out`` another folder) and prints it last. Every process
it started is ended and the database dropped (``--keep``: kept, to look at) however it ends.
Loopback only; bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GOAL = 1000  # events/s, for a backlog of 100,000
POLL = 0.5  # seconds between the database's polls
PUMP_SECONDS = 1  # FEED_PUMP_SECONDS

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_db  # noqa: E402 - found through the path set above

# A sale's 201 body (docs/API.md: POST /api/v1/sales), five lines, about 1.2 kB of UTF-8:
# "@N@" becomes the event's number (the sale's id, its receipt, its lines' ids).
SALE_BODY = json.dumps(
    {
        "id": "@N@",
        "receipt_no": "SYA-HTB-T01-@N@",
        "store": "SYA-HTB",
        "terminal": "T01",
        "sold_at": "2026-12-07T15:42:18.512034+08:00",
        "status": "completed",
        "pickup": "departure",
        "total": "9279.00",
        "lines": [
            {
                "id": f"@N@{number}",
                "sku": sku,
                "category": {"code": code, "name": zh, "name_zh": zh, "name_en": en},
                "quantity": quantity,
                "unit_price": price,
                "amount": f"{quantity * float(price):.2f}",
            }
            for number, (sku, code, zh, en, quantity, price) in enumerate(
                [
                    ("LANCOME-ABS-50", "cosmetics", "化妆品", "Cosmetics", 1, "1280.00"),
                    ("DIOR-SAUV-100", "perfume", "香水", "Perfume", 1, "890.00"),
                    ("SK2-FTE-230", "cosmetics", "化妆品", "Cosmetics", 2, "1540.00"),
                    ("RAYBAN-RB3025", "sunglasses", "太阳镜", "Sunglasses", 1, "1130.00"),
                    ("MOUTAI-53-500", "alcohol", "酒类", "Alcohol", 1, "2899.00"),
                ],
                start=1,
            )
        ],
        "quota": {"year": 2026, "limit": "100000.00", "used": "23458.00", "remaining": "76542.00"},
    },
    ensure_ascii=False,
    separators=(",", ":"),
)
SALE_BODY = re.sub(r'"(@N@\d?)"', r"\1", SALE_BODY)  # numbers where the API has numbers

INSERT_EVENTS = """
INSERT INTO shops_event (public_id, type, store_id, created_at, data, sealed_identity)
SELECT 'evt_' || md5(g::text), 'sale.completed', %s, now(), replace(%s, '@N@', g::text), ''
FROM generate_series(1, %s) AS g"""

# Undispatched events and pending deliveries: both served by partial indexes (cheap to poll).
PROGRESS = """
SELECT (SELECT count(*) FROM shops_event WHERE dispatched_at IS NULL),
       (SELECT count(*) FROM shops_delivery WHERE status = 'pending')"""

OUTCOME = """
SELECT count(*) FILTER (WHERE d.status = 'delivered'), count(*) FILTER (WHERE d.status = 'failed'),
       count(*), min(d.delivered_at), max(d.delivered_at),
       (SELECT count(*) FROM shops_attempt), (SELECT avg(duration_ms) FROM shops_attempt)
FROM shops_delivery AS d"""


# --- The receiver (a process of its own: --serve-receiver) -------------------------------------
def serve_receiver(verify: bool) -> None:
    """Listen on a free loopback port, print ``port N``, answer every POST 200 at once.
    ``GET /stats``: the counts as JSON. With ``verify``, the endpoint's secret is read from
    stdin (one line) before the first request is answered."""
    asyncio.run(_receiver(verify))


async def _receiver(verify: bool) -> None:
    loop = asyncio.get_running_loop()
    stats: dict[str, Any] = {"requests": 0, "failures": 0, "first_failure": ""}
    seen: set[str] = set()
    secret = loop.run_in_executor(None, sys.stdin.readline) if verify else None
    webhook: Any = None
    ok = b'{"ok":true}'
    answer_ok = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n" + ok
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal webhook
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request, *lines = head.decode("latin-1").split("\r\n")
                method, target = request.split(" ")[:2]
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    body = await _chunked(reader)
                else:
                    body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "GET" and target == "/stats":
                    text = json.dumps({**stats, "distinct": len(seen)}).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n\r\n%s" % (len(text), text)
                    )
                else:
                    stats["requests"] += 1
                    seen.add(headers.get("webhook-id", ""))
                    if secret is not None:
                        if webhook is None:
                            from standardwebhooks.webhooks import Webhook

                            webhook = Webhook((await secret).strip())
                        try:
                            webhook.verify(body, headers)
                        except Exception as exc:  # any failure to verify is counted
                            stats["failures"] += 1
                            stats["first_failure"] = stats["first_failure"] or repr(exc)[:300]
                    writer.write(answer_ok)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with server:
        await stop.wait()


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


def receiver_stats(port: int) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/stats")
        return dict(json.loads(connection.getresponse().read()))
    finally:
        connection.close()


# --- Processes ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def end(process: subprocess.Popen[Any]) -> None:
    """Stop ``process`` and its process group (a worker's pool children too)."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # a pool child left behind, if any
        os.killpg(process.pid, signal.SIGKILL)


class Processes:
    """Every process this run started, each in its process group, its output in ``folder``."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.started: list[subprocess.Popen[Any]] = []
        self.logs: list[Path] = []

    def spawn(self, name: str, command: list[str], **options: Any) -> subprocess.Popen[Any]:
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        with log.open("w") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=options.pop("stdout", out),
                stderr=out,
                start_new_session=True,  # its own process group: ended as one
                **options,
            )
        self.started.append(process)
        return process

    def celery(self, name: str, *arguments: str) -> subprocess.Popen[Any]:
        return self.spawn(name, [sys.executable, "-m", "celery", "-A", "dutyfree", *arguments])

    def wait_ready(self, process: subprocess.Popen[Any], name: str, seconds: float = 90) -> None:
        log = self.folder / f"{name}.log"
        deadline = time.monotonic() + seconds
        while " ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start\n{self.tails()}")
            time.sleep(0.2)

    def close(self) -> None:
        for process in reversed(self.started):
            end(process)

    def tails(self) -> str:
        return "\n".join(
            f"--- {log.name} ---\n{log.read_text(errors='replace')[-2500:]}"
            for log in self.logs
            if log.exists()
        )

    def count(self, name: str, text: str) -> int:
        log = self.folder / f"{name}.log"
        return log.read_text(errors="replace").count(text) if log.exists() else 0


def start_redis(processes: Processes) -> str:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server not found (apt-get install redis)")
    port = free_port()
    processes.spawn(
        "redis",
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def start_receiver(processes: Processes, *, verify: bool) -> tuple[subprocess.Popen[Any], int]:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve-receiver"]
    receiver = processes.spawn(
        "receiver",
        [*command, *(["--verify"] if verify else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = receiver.stdout.readline() if receiver.stdout is not None else ""
    if not line.startswith("port "):
        raise RuntimeError(f"the receiver did not start: {line!r}\n{processes.tails()}")
    return receiver, int(line.split()[1])


# --- The drain ------------------------------------------------------------------------------------
def inline_pump(stop: threading.Event, errors: list[BaseException]) -> None:
    """Zero-config mode's way in this process: pump every second, each endpoint due delivered
    in this thread (the task's own body, called, not sent)."""
    from django.db import connection
    from django.utils import timezone

    from shops.feed import delivery
    from shops.tasks import feed_deliver

    try:
        while not stop.is_set():
            delivery.pump(now=timezone.now(), send=lambda e, t: feed_deliver(e, t))
            stop.wait(PUMP_SECONDS)
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)
    finally:
        connection.close()


def drain(args: argparse.Namespace, database: str, folder: Path) -> dict[str, Any]:
    import psycopg

    db_url = bench_db.url(database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dutyfree.settings",
        "DEBUG": "0",
        "DATABASE_URL": db_url,
        "FEED_PUMP_SECONDS": str(PUMP_SECONDS),
        "FEED_PUMP_ON_COMMIT": "0",
        "STATS_REFRESH_ON_COMMIT": "0",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(folder / "beat-schedule"),
    }
    processes = Processes(folder, env)
    stop = threading.Event()
    pumping: threading.Thread | None = None
    errors: list[BaseException] = []
    try:
        started = time.perf_counter()
        bench_db.fresh(database, template=args.template, env=env)
        with psycopg.connect(db_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT id FROM shops_store WHERE code = %s", [args.store]
            ).fetchone()
            if row is None:
                raise SystemExit(f"no store {args.store} in the migrated database")
            conn.execute(INSERT_EVENTS, [row[0], SALE_BODY, args.events])
            conn.execute("VACUUM ANALYZE shops_event")
        print(f"{args.events:,} events in {time.perf_counter() - started:.1f} s", flush=True)

        env["REDIS_URL"] = start_redis(processes)
        if not args.inline:
            # The workers first (nothing is pumped before beat starts), as the Makefile runs
            # them: `make worker` and `make feed-worker`.
            worker = processes.celery("worker", "worker", "--loglevel=info")
            feed = processes.celery(
                "feed-worker", "worker", "-Q", "feed", "--pool", "threads",
                "--concurrency", str(args.feed_threads), "-n", "feed@%h", "--loglevel=info",
            )  # fmt: skip
            processes.wait_ready(worker, "worker")
            processes.wait_ready(feed, "feed-worker")
        else:  # this process pumps: Django set up before the clock starts
            os.environ.update(env)
            import django

            django.setup()
        receiver, port = start_receiver(processes, verify=args.verify)
        url = f"http://127.0.0.1:{port}/hooks"

        made = subprocess.run(
            [sys.executable, "manage.py", "create_webhook", url, "--name", "drain"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        began = time.monotonic()  # the endpoint exists
        secret = made.stdout.strip().splitlines()[-1]
        if args.verify and receiver.stdin is not None:
            receiver.stdin.write(secret + "\n")
            receiver.stdin.close()

        if args.inline:
            pumping = threading.Thread(target=inline_pump, args=(stop, errors), daemon=True)
            pumping.start()
        else:
            processes.celery(
                "beat", "beat", "--loglevel=info", "--schedule", str(folder / "beat-schedule"),
                "--pidfile", str(folder / "beat.pid"),
            )  # fmt: skip

        with psycopg.connect(db_url, autocommit=True) as conn:
            shown = began
            while True:
                time.sleep(POLL)
                elapsed = time.monotonic() - began
                undispatched, pending = conn.execute(PROGRESS).fetchone() or (0, 0)
                if undispatched == 0 and pending == 0:
                    break
                if errors:
                    raise RuntimeError(f"the inline pump failed: {errors[0]!r}")
                if any(p.poll() is not None for p in processes.started):
                    raise RuntimeError(f"a process ended\n{processes.tails()}")
                if elapsed > args.timeout:
                    raise RuntimeError(
                        f"not drained within {args.timeout} s: {undispatched:,} events "
                        f"undispatched, {pending:,} deliveries pending\n{processes.tails()}"
                    )
                if time.monotonic() - shown >= 5:
                    shown = time.monotonic()
                    got = receiver_stats(port)["requests"]
                    print(
                        f"{elapsed:6.1f} s  undispatched {undispatched:,}  pending {pending:,}  "
                        f"received {got:,}  ({got / elapsed:,.0f}/s)",
                        flush=True,
                    )
            seconds = time.monotonic() - began
            delivered, failed, deliveries, first, last, attempts, mean_ms = (
                conn.execute(OUTCOME).fetchone() or (0,) * 7
            )
            (created,) = conn.execute("SELECT created_at FROM shops_endpoint").fetchone() or (None,)
        received = receiver_stats(port)
        if delivered != args.events:
            raise RuntimeError(
                f"drained, but {delivered:,} of {args.events:,} delivered ({failed:,} failed, "
                f"{deliveries:,} deliveries made)\n{processes.tails()}"
            )
        deliver_runs = processes.count("feed-worker", "] received")
        return {
            "events": args.events,
            "seconds": round(seconds, 2),
            "events_per_second": round(args.events / seconds, 1),
            "received": received["requests"],
            "duplicates": received["requests"] - received["distinct"],
            "verify_failures": received["failures"] if args.verify else None,
            "first_verify_failure": received["first_failure"] or None,
            "attempts": attempts,
            "attempt_ms_mean": round(float(mean_ms or 0), 2),
            "first_delivery_after_seconds": (
                round((first - created).total_seconds(), 2) if first and created else None
            ),
            "delivering_seconds": round((last - first).total_seconds(), 2) if first else None,
            "delivering_events_per_second": (
                round(args.events / (last - first).total_seconds(), 1)
                if first and last > first
                else None
            ),
            "deliver_task_runs": None if args.inline else deliver_runs,
        }
    except BaseException:
        args.keep_logs = True
        raise
    finally:
        stop.set()
        if pumping is not None:
            pumping.join(timeout=30)
        processes.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database", default="feed_drain")
    parser.add_argument("--template", help="copy this migrated database instead of migrating")
    parser.add_argument("--store", default="SYA-HTB", help="the events' store (its code)")
    parser.add_argument("--verify", action="store_true", help="verify every signature")
    parser.add_argument("--inline", action="store_true", help="pump and deliver in this process")
    parser.add_argument("--feed-threads", type=int, default=16, help="make feed-worker's")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds the drain may take")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in this folder")
    parser.add_argument("--serve-receiver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.events < 1:
        parser.error("--events: at least 1")
    if args.serve_receiver:
        serve_receiver(args.verify)
        return
    database = bench_db.checked_name(args.database)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    folder = args.logs or Path(tempfile.mkdtemp(prefix="feed-drain-"))
    args.keep_logs = bool(args.logs)
    try:
        figures = drain(args, database, folder)
    finally:
        if not args.keep:
            bench_db.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if args.keep_logs:
            print(f"logs kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)

    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "what": (
            f"a backlog of {args.events:,} sale.completed events (about 1.2 kB each) drained to "
            "one local endpoint answering 200 at once"
            + (", every signature verified" if args.verify else "")
            + (
                ": pump and deliveries inline in one process"
                if args.inline
                else f": beat every {PUMP_SECONDS} s, make worker and make feed-worker "
                f"({args.feed_threads} threads) on a private Redis"
            )
            + f"; goal ≥ {GOAL:,} events/s for 100,000"
        ),
        "command": "python bench/feed_drain.py " + " ".join(sys.argv[1:]),
        **figures,
        "goal_events_per_second": GOAL,
        "mode": "inline" if args.inline else "celery",
        "feed_threads": None if args.inline else args.feed_threads,
        "machine": {"cores": os.cpu_count()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "feed-drain.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    )
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
