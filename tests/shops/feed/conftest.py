"""Fixtures of the feed's tests: a real HTTP receiver on a free port, and the feed's keys."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server in a thread: records every POST; answers with the scripted
    ``(status, headers)`` in turn, then ``default``."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: tuple[int, dict[str, str]] = (200, {})
    delay: float = 0.0  # seconds before answering


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            status, headers = state.script.pop(0) if state.script else state.default
            if state.delay:
                time.sleep(state.delay)
            answer = b'{"ok": true}' if 200 <= status < 300 else b"no thanks"
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Keys:
    signing: SigningKey  # the operator's (FEED_SIGNING_KEY)
    customs: PrivateKey  # customs' own (CUSTOMS_SEAL_PUBLIC_KEY is its public half)


@pytest.fixture
def feed_keys(settings: object) -> Keys:
    """Both keys of the customs channel configured, as an operator and customs would."""
    keys = Keys(SigningKey.generate(), PrivateKey.generate())
    settings.FEED_SIGNING_KEY = "whsk_" + base64.b64encode(bytes(keys.signing)).decode()  # type: ignore[attr-defined]
    settings.CUSTOMS_SEAL_PUBLIC_KEY = base64.b64encode(bytes(keys.customs.public_key)).decode()  # type: ignore[attr-defined]
    return keys
