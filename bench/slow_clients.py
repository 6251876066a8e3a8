"""Slow clients against the production recipe: gunicorn's sync workers behind nginx, and alone.

Starts gunicorn (dutyfree/deploy/gunicorn.conf.py, 2 sync workers) and Debian's nginx with
the site of dutyfree/deploy/nginx.conf (its names between @ signs filled in), nginx as a
non-daemon child with its configuration, pid, logs, temporary files and a self-signed
certificate in a temporary folder, both on free loopback ports. Then:

  (a) through nginx: N connections each send a request's header one line every few seconds
      (reconnecting when nginx drops them) while /healthz is asked four times a second;
  (b) without nginx: workers + 2 such connections straight to gunicorn, and the same probe.

Writes bench/results/slow_clients.json: per phase the slow clients, the probes, how many were
answered and the health probe's worst and median latency. `make prod-check` runs it;
tests/test_proxy.py uses the same stack for a shorter run.

    .venv/bin/python bench/slow_clients.py [--clients 20] [--seconds 20] [--direct-seconds 15]
        [--out DIR]

Needs nginx and openssl. The database is DATABASE_URL's (else the checkout's embedded one); the
health probe only runs SELECT 1. Bounded in time; traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "dutyfree" / "deploy"
SITE = DEPLOY / "nginx.conf"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
RESULTS = ROOT / "bench" / "results"
LOOPBACK = "127.0.0.1"
WORKERS = 2


def nginx_binary() -> str | None:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if os.access(found, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def render_site(**values: str) -> str:
    """The site of dutyfree/deploy/nginx.conf with every ``@NAME@`` filled in."""
    text = SITE.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name.upper()}@", value)
    left = sorted(set(re.findall(r"@[A-Z_]+@", text)))
    if left:
        raise ValueError(f"not filled in: {', '.join(left)}")
    return text


MAIN_CONF = """\
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
{user}
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/dutyfree.conf;
}}
"""


@dataclass(frozen=True)
class Stack:
    app_port: int  # gunicorn, straight
    http_port: int  # nginx, plain HTTP
    https_port: int  # nginx, TLS
    certificate: Path  # the self-signed certificate nginx presents (for the client to trust)
    gunicorn_pid: int


def app_environment(database_url: str | None) -> dict[str, str]:
    """Production settings (DEBUG off, TLS, a proxy in front) for a throwaway run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DEBUG", "USE_TLS", "TRUSTED_PROXIES", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dutyfree.settings",
        DEBUG="0",
        USE_TLS="1",
        TRUSTED_PROXIES="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        IDENTITY_HMAC_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS=f"{LOOPBACK},localhost",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _wait_for(port: int, path: str, deadline: float, process: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing answered {path} on port {port}")


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def proxy_stack(env: dict[str, str], *, workers: int = WORKERS) -> Iterator[Stack]:
    """gunicorn on a free loopback port and nginx in front of it, both stopped on leaving."""
    nginx = nginx_binary()
    if nginx is None:
        raise FileNotFoundError("nginx")
    folder = Path(tempfile.mkdtemp(prefix="dutyfree-nginx-"))
    app: subprocess.Popen[bytes] | None = None
    proxy: subprocess.Popen[bytes] | None = None
    try:
        folder.chmod(0o755)  # nginx's workers run as nobody when it starts as root
        app_port, http_port, https_port = free_port(), free_port(), free_port()
        certificate, key = folder / "site.pem", folder / "site.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", f"subjectAltName=IP:{LOOPBACK},DNS:localhost",
             "-keyout", str(key), "-out", str(certificate)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        (folder / "dutyfree.conf").write_text(
            render_site(
                server_name=f"{LOOPBACK} localhost",
                http_listen=f"{LOOPBACK}:{http_port}",
                https_listen=f"{LOOPBACK}:{https_port}",
                certificate=str(certificate),
                certificate_key=str(key),
                upstream=f"{LOOPBACK}:{app_port}",
            )
        )
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(MAIN_CONF.format(folder=folder, user=user))
        app = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "-w", str(workers),
             "-b", f"{LOOPBACK}:{app_port}", "dutyfree.wsgi"],
            cwd=ROOT, env=env, stdout=(folder / "gunicorn.log").open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        _wait_for(app_port, "/healthz", deadline, app)
        proxy = subprocess.Popen(
            [nginx, "-p", str(folder), "-e", str(folder / "error.log"),
             "-c", str(folder / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=(folder / "nginx.out").open("wb"),
        )  # fmt: skip
        _wait_for(http_port, "/healthz", deadline, proxy)
        yield Stack(app_port, http_port, https_port, certificate, app.pid)
    except Exception:
        for log in ("gunicorn.log", "nginx.out", "error.log"):
            with contextlib.suppress(OSError):
                sys.stderr.write(f"--- {log}\n{(folder / log).read_text()[-3000:]}\n")
        raise
    finally:
        if proxy is not None:
            _stop(proxy, signal.SIGQUIT)  # nginx's graceful stop
        if app is not None:
            _stop(app)
        shutil.rmtree(folder, ignore_errors=True)


class SlowClients:
    """``count`` connections to ``port``, each sending one line of a request's header every
    ``every`` seconds and never ending it; one that is dropped is opened again."""

    def __init__(self, port: int, count: int, every: float) -> None:
        self.port, self.count, self.every = port, count, every
        self.sockets: list[socket.socket | None] = [None] * count
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, index: int) -> None:
        try:
            sock = socket.create_connection((LOOPBACK, self.port), timeout=2)
            sock.sendall(f"GET /ping HTTP/1.1\r\nHost: {LOOPBACK}\r\n".encode())
            self.sockets[index] = sock
        except OSError:
            self.sockets[index] = None

    def _run(self) -> None:
        line = 0
        while not self._stop.wait(self.every) and line < 10_000:
            line += 1
            for index, sock in enumerate(self.sockets):
                try:
                    if sock is None:
                        raise OSError
                    sock.sendall(f"X-Slow-{line}: {'x' * 8}\r\n".encode())
                except OSError:
                    if sock is not None:
                        sock.close()
                        self.reconnects += 1
                    self._open(index)

    def __enter__(self) -> SlowClients:
        for index in range(self.count):
            self._open(index)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.sockets:
            if sock is not None:
                sock.close()


@dataclass(frozen=True)
class Probe:
    """The health probe's record over one phase."""

    slow_clients: int
    seconds: float
    probes: int
    answered: int  # 200 within the timeout
    max_ms: float  # the worst probe; an unanswered one counts as the timeout
    median_ms: float
    timeout_s: float
    reconnects: int = 0  # slow clients dropped (and opened again) by the server meanwhile


def probe_health(
    port: int, seconds: float, *, timeout: float = 2.0, interval: float = 0.25
) -> list[float | None]:
    """``GET /healthz`` every ``interval`` for ``seconds``: each latency in ms, None when it was
    not answered 200 within ``timeout``."""
    found: list[float | None] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(found) < 10_000:
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
        except (OSError, http.client.HTTPException):
            status = None
        elapsed = (time.perf_counter() - started) * 1000
        found.append(elapsed if status == 200 else None)
        time.sleep(max(0.0, interval - elapsed / 1000))
    return found


def under_slow_clients(
    *, slow_port: int, probe_port: int, clients: int, seconds: float, every: float, timeout: float
) -> Probe:
    with SlowClients(slow_port, clients, every) as slow:
        time.sleep(min(1.0, every))  # every slow client connected and waiting
        latencies = probe_health(probe_port, seconds, timeout=timeout)
        reconnects = slow.reconnects
    answered = [ms for ms in latencies if ms is not None]
    worst = [ms if ms is not None else timeout * 1000 for ms in latencies]
    return Probe(
        slow_clients=clients,
        seconds=seconds,
        probes=len(latencies),
        answered=len(answered),
        max_ms=round(max(worst), 1),
        median_ms=round(statistics.median(worst), 1),
        timeout_s=timeout,
        reconnects=reconnects,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--direct-seconds", type=float, default=15.0)
    parser.add_argument("--every", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    env = app_environment(os.environ.get("DATABASE_URL"))
    with proxy_stack(env) as stack:
        proxied = under_slow_clients(
            slow_port=stack.http_port,
            probe_port=stack.http_port,
            clients=args.clients,
            seconds=args.seconds,
            every=args.every,
            timeout=2.0,
        )
        print("through nginx:", json.dumps(asdict(proxied)), flush=True)
        direct = under_slow_clients(
            slow_port=stack.app_port,
            probe_port=stack.app_port,
            clients=WORKERS + 2,
            seconds=args.direct_seconds,
            every=args.every,
            timeout=2.0,
        )
        print("straight to gunicorn:", json.dumps(asdict(direct)), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "gunicorn": {"workers": WORKERS, "worker_class": "sync"},
        "slow_client": f"one header line every {args.every} s, never ending the header",
        "through_nginx": asdict(proxied),
        "straight_to_gunicorn": asdict(direct),
    }
    path = args.out / "slow_clients.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
