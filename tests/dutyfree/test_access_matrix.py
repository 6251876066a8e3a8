"""Who may call what: every API operation × every kind of credential, and the pages.

The operations come from the OpenAPI schema and the URL resolver, and must all appear in
``OPERATIONS`` below: a new endpoint fails ``test_every_operation_is_in_the_matrix`` until it
is classified (terminal, staff or public), and then gets every credential case for free.

The contract (../shared/API.md) and the answers the matrix pins down:

- Terminal endpoints take only ``Authorization: Bearer <terminal key>``. Anything else — no
  header, a revoked or unknown key, a malformed header, a staff token, a staff session — is
  **401** problem+json with ``WWW-Authenticate: Bearer realm="dutyfree terminals"``.
- Another store's terminal asking for a sale (``/sales/{id}`` and its returns, void and
  pickup) gets **404** ``sale_not_found``, exactly as for a sale that does not exist; without
  valid credentials the answer is 401 before any lookup, so ids cannot be probed either way.
- Operators: a terminal of another operator's store is "another store's terminal" (404 on
  the sale); an operator's staff token or session reaches the staff endpoint as the platform's
  does (200: the figures, cut to its stores, tests/shops/operators) and no terminal endpoint.
- The staff endpoint (``/stats/sales``) takes ``Authorization: Token <key>`` or a staff
  session. No credentials, a terminal key (of any state), a malformed header: **401**
  problem+json with ``WWW-Authenticate: Token`` (a terminal key is not a staff credential, the
  same answer as a staff token gets from a terminal endpoint). Valid credentials of a user who
  is not active staff (token or session): **403** problem+json.
- The platform's endpoints (``/policy-previews``) take the same staff credentials, but an
  operator's staff get **403** (a preview counts every operator's sales).
- Public endpoints (``/policy``, ``/quota-lookup``) ignore credentials: any header, even a
  malformed one, gets the ordinary answer.
- Pages: ``/dashboard/`` and ``/dashboard/export.csv`` take a staff login only (API
  credentials do not count): anonymous → 302 to the admin login with ``next``, logged-in
  non-staff → 403. ``/admin/`` sends everyone but active staff to its login page.
  ``/`` (the home page), ``/quota/``, ``/api/schema/``, ``/api/docs/`` and ``/favicon.ico``
  (a file WhiteNoise serves, no route) are open.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken

from shops.models import Store
from shops.pos import checkout
from shops.previews.services import preview_request
from tests import support

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
TERMINAL, STAFF, PLATFORM, PUBLIC = "terminal", "staff", "platform", "public"
BEARER_CHALLENGE = 'Bearer realm="dutyfree terminals"'
TOKEN_CHALLENGE = "Token"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the schema: /api/v1/sales/{sale_id}
    kind: str
    ok: int  # the status with the right credentials

    @property
    def on_a_sale(self) -> bool:
        return "{sale_id}" in self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


OPERATIONS = [
    Operation("POST", "/api/v1/quotes", TERMINAL, 200),
    Operation("POST", "/api/v1/sales", TERMINAL, 201),
    Operation("GET", "/api/v1/sales", TERMINAL, 200),
    Operation("GET", "/api/v1/products", TERMINAL, 200),
    Operation("GET", "/api/v1/terminal-report", TERMINAL, 200),
    Operation("GET", "/api/v1/sales/{sale_id}", TERMINAL, 200),
    Operation("POST", "/api/v1/sales/{sale_id}/returns", TERMINAL, 201),
    Operation("POST", "/api/v1/sales/{sale_id}/void", TERMINAL, 200),
    Operation("POST", "/api/v1/sales/{sale_id}/pickup", TERMINAL, 200),
    Operation("POST", "/api/v1/departures", TERMINAL, 201),
    Operation("GET", "/api/v1/stats/sales", STAFF, 200),
    Operation("POST", "/api/v1/policy-previews", PLATFORM, 202),
    Operation("GET", "/api/v1/policy-previews/{preview_id}", PLATFORM, 200),
    Operation("POST", "/api/v1/quota-lookup", PUBLIC, 200),
    Operation("GET", "/api/v1/policy", PUBLIC, 200),
]

# Authorization headers no authenticator accepts. {key} is a real terminal key of the store.
MALFORMED = {
    "bearer-without-key": "Bearer",
    "bearer-two-parts": "Bearer df_a_b extra",
    "bearer-not-a-terminal-key": "Bearer 0123456789abcdef0123456789abcdef01234567",
    "bearer-real-prefix-wrong-secret": "{prefix}_wrongsecret",
    "bearer-lowercase-scheme-garbage": "bearer ~~~",
    "token-without-key": "Token",
    "token-unknown": "Token 0123456789abcdef0123456789abcdef01234567",
    "token-holding-a-terminal-key": "Token {key}",
    "basic": "Basic YWRtaW46YWRtaW4=",
    "unknown-scheme": "Digest username=admin",
    "utf-8-as-a-wsgi-server-passes-it": "Bearer " + "密钥".encode().decode("latin-1"),
    "utf-8-token-as-a-wsgi-server-passes-it": "Token " + "密钥".encode().decode("latin-1"),
    # Only a test client can send this (WSGI and ASGI servers hand Django Latin-1 text).
    "non-latin-1": "Bearer 密钥",
}
CREDENTIALS = [
    "none",
    "terminal",
    "other-store-terminal",
    "other-operator-terminal",
    "revoked-terminal",
    "staff-token",
    "staff-session",
    "operator-token",
    "operator-session",
    "non-staff-token",
    "non-staff-session",
    *(f"malformed:{name}" for name in MALFORMED),
]


def scheme_of(credential: str) -> str:
    """The Authorization scheme a credential is sent with: a terminal's or a staff token's."""
    if credential in {"terminal", "other-store-terminal", "other-operator-terminal"}:
        return "bearer"
    if credential == "revoked-terminal":
        return "bearer"
    if credential in {"staff-token", "non-staff-token", "operator-token"}:
        return "token"
    if credential.startswith("malformed:"):
        header = MALFORMED[credential.removeprefix("malformed:")]
        if header.startswith("{prefix}"):
            return "bearer"
        return header.split()[0].lower()
    return ""


def expected(op: Operation, credential: str) -> tuple[int, str | None, str | None]:
    """The contract's answer: (status, WWW-Authenticate scheme or None, problem code of a 401).
    A credential of the other kind is told so (wrong_credential_kind), never "not provided"."""
    if op.kind == PUBLIC:
        return op.ok, None, None
    if op.kind == TERMINAL:
        if credential == "terminal":
            return op.ok, None, None
        if credential in {"other-store-terminal", "other-operator-terminal"}:
            return (404, None, None) if op.on_a_sale else (op.ok, None, None)
        kind = "wrong_credential_kind" if scheme_of(credential) == "token" else "not_authenticated"
        return 401, BEARER_CHALLENGE, kind
    assert op.kind in {STAFF, PLATFORM}
    if credential in {"staff-token", "staff-session"}:
        return op.ok, None, None
    if credential in {"operator-token", "operator-session"}:
        return (403, None, None) if op.kind == PLATFORM else (op.ok, None, None)
    if credential in {"non-staff-token", "non-staff-session"}:
        return 403, None, None
    kind = "wrong_credential_kind" if scheme_of(credential) == "bearer" else "not_authenticated"
    return 401, TOKEN_CHALLENGE, kind


# --- The world a request meets ---------------------------------------------------------------
@dataclass
class World:
    sale: Any
    line_id: int
    preview_id: int
    keys: dict[str, str]  # terminal keys: own, other (store), other-operator, revoked
    tokens: dict[str, str]  # staff, non-staff, operator (another operator's staff)
    users: dict[str, Any]


def staff_token(username: str, *operator: str) -> str:
    out = io.StringIO()
    call_command("create_staff_token", username, *operator, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def world() -> World:
    support.product("MX-LIP", "cosmetics", "320.00")
    own, own_key = support.terminal("SYA-HTB")
    _, other_key = support.terminal("HAK-IDFC")  # the same operator's (CDFG) other store
    _, other_operator_key = support.terminal("HAK-T1")  # Hainan Duty Free's
    revoked, revoked_key = support.terminal("SYA-HTB")
    revoked.revoked_at = timezone.now()
    revoked.save(update_fields=["revoked_at"])
    sale = checkout.sale_commit(
        terminal=own,
        idempotency_key="matrix-sale",
        fingerprint="matrix-sale",
        basket=support.basket(("MX-LIP", 2)),
        now=timezone.now(),
    ).sale
    User = get_user_model()
    staff_key = staff_token("matrix-staff")
    operator_key = staff_token("matrix-hndf", "--operator", "HNDF")
    clerk = User.objects.create_user("matrix-clerk", is_staff=False)
    preview, _ = preview_request(
        policy_id=sale.policy_id,
        start=timezone.localdate(),
        end=timezone.localdate(),
        now=timezone.now(),
        dispatch=False,
    )
    return World(
        sale=sale,
        line_id=sale.lines.get().pk,
        preview_id=preview.pk,
        keys={
            "own": own_key,
            "other": other_key,
            "other-operator": other_operator_key,
            "revoked": revoked_key,
        },
        tokens={
            "staff": staff_key,
            "non-staff": AuthToken.objects.create(user=clerk)[1],
            "operator": operator_key,
        },
        users={
            "staff": User.objects.get(username="matrix-staff"),
            "non-staff": clerk,
            "operator": User.objects.get(username="matrix-hndf"),
        },
    )


def authorization(client: Client, world: World, credential: str) -> dict[str, str]:
    """Headers for ``credential`` (a session is logged in on ``client`` instead)."""
    own = world.keys["own"]
    match credential:
        case "none":
            return {}
        case "terminal":
            return {"authorization": f"Bearer {own}"}
        case "other-store-terminal":
            return {"authorization": f"Bearer {world.keys['other']}"}
        case "other-operator-terminal":
            return {"authorization": f"Bearer {world.keys['other-operator']}"}
        case "revoked-terminal":
            return {"authorization": f"Bearer {world.keys['revoked']}"}
        case "operator-token":
            return {"authorization": f"Token {world.tokens['operator']}"}
        case "operator-session":
            client.force_login(world.users["operator"])
            return {}
        case "staff-token":
            return {"authorization": f"Token {world.tokens['staff']}"}
        case "non-staff-token":
            return {"authorization": f"Token {world.tokens['non-staff']}"}
        case "staff-session":
            client.force_login(world.users["staff"])
            return {}
        case "non-staff-session":
            client.force_login(world.users["non-staff"])
            return {}
    header = MALFORMED[credential.removeprefix("malformed:")]
    prefix = "Bearer " + own[: own.rindex("_")]
    return {"authorization": header.format(key=own, prefix=prefix)}


def shopper_document() -> dict[str, str]:
    return {"type": "resident_id", "number": "460100199001011230", "country": "CHN"}


def request(client: Client, op: Operation, world: World, headers: dict[str, str]) -> Any:
    """``op`` with a body it accepts, on the world's sale."""
    url = op.path.replace("{sale_id}", str(world.sale.pk))
    url = url.replace("{preview_id}", str(world.preview_id))
    headers = {"idempotency-key": f"matrix-{op.method}-{url}", **headers}
    if op.method == "GET":
        query = {}
        if op.kind == STAFF:
            query = {"start": "2026-01-01", "end": "2026-01-31"}
        elif url == "/api/v1/sales":
            query = {"date": timezone.localdate().isoformat()}
        return client.get(url, query, headers=headers)
    body: dict[str, Any] | None = None
    if url.endswith(("/quotes", "/sales")):
        body = support.json_basket(support.basket(("MX-LIP", 1)))
    elif url.endswith("/returns"):
        body = {"lines": [{"line": world.line_id, "quantity": 1}], "reason": "matrix"}
    elif url.endswith("/departures"):
        body = {
            "document": shopper_document(),
            "carrier_ref": support.trip().carrier_ref,
            "departed_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        }
    elif url.endswith("/policy-previews"):
        body = {"policy": world.sale.policy_id, "start": "2026-01-01", "end": "2026-01-31"}
    elif url.endswith("/quota-lookup"):
        body = {"document": shopper_document(), "name": "张三"}
    if body is None:
        return client.post(url, headers=headers)
    return client.post(url, body, content_type="application/json", headers=headers)


# --- Completeness: the matrix knows every endpoint -------------------------------------------
def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if path.startswith("/api/")
    }


def _routes(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            found.append((route, pattern.callback))
    return found


def resolver_operations() -> set[tuple[str, str]]:
    """(method, path) of every DRF view under /api/v1/, whatever the schema says."""
    found = set()
    for route, callback in _routes(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        assert view is not None, f"/{route} is not a class-based API view"
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        found |= {
            (method.upper(), path)
            for method in view.http_method_names
            if method not in {"options", "head"} and hasattr(view, method)
        }
    return found


def test_every_operation_is_in_the_matrix() -> None:
    matrix = {(op.method, op.path) for op in OPERATIONS}
    assert schema_operations() == matrix
    assert resolver_operations() == matrix


def test_the_schema_documents_each_operations_credentials() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    security = {
        TERMINAL: [{"terminalKey": []}, {"tillSession": []}],
        STAFF: [{"tokenAuth": []}, {"cookieAuth": []}],
        PLATFORM: [{"tokenAuth": []}, {"cookieAuth": []}],
        PUBLIC: [{}],
    }
    for op in OPERATIONS:
        operation = schema["paths"][op.path][op.method.lower()]
        assert operation.get("security", [{}]) == security[op.kind], op
        if op.kind != PUBLIC:
            assert "401" in operation["responses"], op
        if op.kind in {STAFF, PLATFORM}:
            assert "403" in operation["responses"], op


# --- The matrix --------------------------------------------------------------------------------
CASES = [
    pytest.param(op, credential, id=f"{op}-{credential}")
    for op in OPERATIONS
    for credential in CREDENTIALS
]


@pytest.mark.parametrize(("op", "credential"), CASES)
def test_access(client: Client, world: World, op: Operation, credential: str) -> None:
    status, challenge, code = expected(op, credential)
    response = request(client, op, world, authorization(client, world, credential))

    assert response.status_code == status, response.content[:500]
    if status >= 400:
        assert response["Content-Type"] == PROBLEM
        body = response.json()
        assert body["status"] == status
        if status == 401:
            assert body["code"] == code
        if status == 404:
            assert body["code"] == "sale_not_found"
    if challenge is None:
        assert "WWW-Authenticate" not in response
    else:
        assert response["WWW-Authenticate"] == challenge


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.on_a_sale], ids=str)
def test_without_credentials_a_missing_sale_looks_like_a_real_one(
    client: Client, world: World, op: Operation
) -> None:
    real = request(client, op, world, {})
    world.sale.pk = 999_999  # only the URL changes
    missing = request(client, op, world, {})
    assert (real.status_code, missing.status_code) == (401, 401)
    assert real.json() == missing.json()


def test_another_stores_sale_looks_like_a_missing_one(client: Client, world: World) -> None:
    other = {"authorization": f"Bearer {world.keys['other']}"}
    op = next(op for op in OPERATIONS if op.path == "/api/v1/sales/{sale_id}")
    theirs = request(client, op, world, other)
    world.sale.pk = 999_999
    missing = request(client, op, world, other)
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert theirs.json()["code"] == missing.json()["code"] == "sale_not_found"


# --- Pages ---------------------------------------------------------------------------------------
DASHBOARD_PAGES = ["/dashboard/", "/dashboard/export.csv?start=2026-01-01&end=2026-01-31"]


@pytest.mark.parametrize("url", DASHBOARD_PAGES)
@pytest.mark.parametrize(
    ("credential", "status"),
    [
        ("none", 302),
        ("terminal", 302),  # API credentials are not a login
        ("staff-token", 302),
        ("malformed:basic", 302),
        ("non-staff-session", 403),
        ("staff-session", 200),
    ],
)
def test_dashboard_pages(
    client: Client, world: World, url: str, credential: str, status: int
) -> None:
    response = client.get(url, headers=authorization(client, world, credential))
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize(
    ("credential", "status"),
    [
        ("none", 302),
        ("terminal", 302),
        ("staff-token", 302),
        ("non-staff-session", 302),  # the admin sends non-staff to its login page too
        ("staff-session", 200),
    ],
)
def test_admin(client: Client, world: World, credential: str, status: int) -> None:
    response = client.get("/admin/", headers=authorization(client, world, credential))
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/admin/login/?next=/admin/")
    assert Client().get("/admin/login/").status_code == 200


@pytest.mark.parametrize("url", ["/", "/quota/", "/api/schema/", "/api/docs/", "/favicon.ico"])
@pytest.mark.parametrize("credential", ["none", "terminal", "malformed:non-latin-1"])
def test_open_pages(client: Client, world: World, url: str, credential: str) -> None:
    assert client.get(url, headers=authorization(client, world, credential)).status_code == 200


# Every top-level route and who it is for: a new one fails here until it is placed (and, for
# pages with their own access rule, tested above).
TOP_LEVEL = {
    "": "open: the home page, links to the others",
    "healthz": "open: load balancer probe",
    "ping": "open: benchmark yardstick",
    "api/v1/": "the API: OPERATIONS",
    "api/schema/": "open",
    "api/docs/": "open",
    "quota/": "open: shoppers",
    "pos/": "open: the till's sign-in, or its screen with a till session (tests/shops/till)",
    "pos/sign-in": "open: a terminal's key for a till session (throttled per address)",
    "pos/sign-out": "open: ends the till session its cookie names",
    "dashboard/": "staff login",
    "dashboard/export.csv": "staff login",
    "captcha/refresh/": "open: the quota page's captcha, a new sum (counted per address)",
    r"^captcha/image/(?P<key>\w+)/$": "open: the quota page's captcha, its image (cacheable)",
    "captcha/": "open: the quota page's captcha",
    "i18n/": "open: language switch",
    "admin/": "staff login (Django admin)",
    "^api/": "open: problem+json 404 for unknown API paths",
}


def test_every_top_level_route_is_classified() -> None:
    routes = {str(pattern.pattern) for pattern in get_resolver().url_patterns}
    assert routes == set(TOP_LEVEL)


def test_stores_of_the_world_differ(world: World) -> None:
    """The 'other store' column is meaningful only if the two terminals' stores differ."""
    assert Store.objects.filter(code__in=["SYA-HTB", "HAK-IDFC"]).count() == 2
    assert world.sale.store.code == "SYA-HTB"
    # The 'other store' is the same operator's; the 'other operator' terminal is another's.
    operators = dict(
        Store.objects.filter(code__in=["SYA-HTB", "HAK-IDFC", "HAK-T1"]).values_list(
            "code", "operator__code"
        )
    )
    assert operators == {"SYA-HTB": "CDFG", "HAK-IDFC": "CDFG", "HAK-T1": "HNDF"}
