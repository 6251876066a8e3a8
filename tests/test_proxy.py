"""The production recipe's front door: nginx (Debian's package) with the site of
dutyfree/deploy/nginx.conf before gunicorn's sync workers (dutyfree/deploy/gunicorn.conf.py),
both started for real on free loopback ports (bench/slow_clients.py: nginx a non-daemon child
with its files in a temporary folder) with DEBUG off, USE_TLS=1 and TRUSTED_PROXIES=1.

- 20 slow clients (a header line every 2 s, never the end of it) do not keep /healthz from
  answering quickly through nginx; straight to gunicorn, 4 of them stop it (why the proxy is
  not optional). The figures are printed (``-s``); `make prod-check` records a longer run in
  bench/results/slow_clients.json.
- A client cannot claim HTTPS through nginx: its X-Forwarded-Proto is overwritten.
- Bodies: up to DATA_UPLOAD_MAX_MEMORY_SIZE reach Django; one byte more, nginx answers the
  API's 413 problem+json before a worker sees a byte.

Needs nginx and openssl: skipped without them, failed under REQUIRE_SERVICES=1. About 20 s.
"""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest
from django.conf import settings

from bench import slow_clients
from bench.slow_clients import LOOPBACK, Stack
from tests.conftest import database_url, need_service

pytestmark = pytest.mark.nginx

SLOW_CLIENTS = 20


@pytest.fixture(scope="module")
def stack(django_db_setup: None) -> Iterator[Stack]:
    need_service("nginx", slow_clients.nginx_binary() is not None, "apt-get install nginx")
    need_service("openssl", shutil.which("openssl") is not None, "apt-get install openssl")
    from django.db import connection

    env = slow_clients.app_environment(database_url(connection.settings_dict))
    with slow_clients.proxy_stack(env) as running:
        yield running


def get(port: int, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10, **kw)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def over_tls(stack: Stack) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cafile=str(stack.certificate))
    return http.client.HTTPSConnection(LOOPBACK, stack.https_port, timeout=10, context=context)


# --- Slow clients ------------------------------------------------------------------------------
def test_twenty_slow_clients_do_not_stop_the_health_probe_through_nginx(stack: Stack) -> None:
    found = slow_clients.under_slow_clients(
        slow_port=stack.http_port,
        probe_port=stack.http_port,
        clients=SLOW_CLIENTS,
        seconds=5,
        every=2,
        timeout=2,
    )
    print("through nginx:", json.dumps(asdict(found)))

    assert found.probes >= 10
    assert found.answered == found.probes  # every probe 200 within its 2 s
    assert found.max_ms < 1000, found


# --- Who may say HTTPS -------------------------------------------------------------------------
FORGED = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"}


def test_a_client_cannot_claim_https_over_plain_http_through_nginx(stack: Stack) -> None:
    forged = get(stack.http_port, "/ping", FORGED)

    assert forged.status == 301  # still plain HTTP to Django: sent to HTTPS
    # (on the Host the client named; on ports 80 and 443 that is the site's name alone)
    assert forged.getheader("Location") == f"https://{LOOPBACK}:{stack.http_port}/ping"


def test_over_tls_nginx_tells_django_it_is_https(stack: Stack) -> None:
    conn = over_tls(stack)
    conn.request("GET", "/ping")
    answer = conn.getresponse()
    answer.read()
    conn.close()

    assert answer.status == 200
    assert answer.getheader("Strict-Transport-Security", "").startswith("max-age=31536000")


def test_gunicorn_believes_the_loopback_which_is_why_only_nginx_may_reach_it(
    stack: Stack,
) -> None:
    straight = get(stack.app_port, "/ping", {"X-Forwarded-Proto": "https"})

    assert straight.status == 200  # believed: the port must not face clients


def test_a_form_posted_over_tls_passes_djangos_origin_check(stack: Stack) -> None:
    """Django compares the browser's Origin with the Host nginx passes on, port included."""
    secret = "a" * 32  # a CSRF cookie and the same token in the form: Django accepts the pair
    origin = f"https://{LOOPBACK}:{stack.https_port}"
    conn = over_tls(stack)
    conn.request(
        "POST",
        "/i18n/setlang/",
        body=f"language=en&csrfmiddlewaretoken={secret}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={secret}",
            "Origin": origin,
            "Referer": f"{origin}/quota/",
        },
    )
    answer = conn.getresponse()
    answer.read()
    conn.close()

    assert answer.status == 302
    cookie = answer.getheader("Set-Cookie", "")
    assert cookie.startswith(f"{settings.LANGUAGE_COOKIE_NAME}=en;")
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie


# --- Bodies ------------------------------------------------------------------------------------
def post_declaring(stack: Stack, length: int, body: bytes = b"") -> tuple[int, str, dict]:
    conn = over_tls(stack)
    conn.putrequest("POST", "/api/v1/quota-lookup")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(length))
    conn.endheaders(body or None)
    answer = conn.getresponse()
    content_type = answer.getheader("Content-Type", "")
    content = answer.read()
    conn.close()
    return answer.status, content_type, json.loads(content) if content else {}


def test_a_body_at_djangos_limit_reaches_django(stack: Stack) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    status, content_type, problem = post_declaring(stack, limit, b" " * limit)

    # Django read it and judged it: not JSON (whitespace only), not too large.
    assert (status, content_type) == (400, "application/problem+json")
    assert problem["code"] != "payload_too_large"


def test_a_body_over_djangos_limit_never_reaches_a_worker(stack: Stack) -> None:
    # The body is never sent: nginx answers from the header alone, as the API would.
    status, content_type, problem = post_declaring(stack, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    assert (status, content_type) == (413, "application/problem+json")
    assert problem["code"] == "payload_too_large"
    assert problem["type"] == "urn:dutyfree:problem:payload_too_large"


# --- Without the proxy -------------------------------------------------------------------------
def test_without_nginx_four_slow_clients_stop_the_health_probe(stack: Stack) -> None:
    """Why the proxy is not optional: each sync worker waits on one slow client's header."""
    found = slow_clients.under_slow_clients(
        slow_port=stack.app_port,
        probe_port=stack.app_port,
        clients=slow_clients.WORKERS + 2,
        seconds=3,
        every=2,
        timeout=1,
    )
    print("straight to gunicorn:", json.dumps(asdict(found)))

    assert found.probes >= 1
    assert found.answered == 0
