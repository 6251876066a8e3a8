"""One language per answer: every message a person reads — our titles and details, field
errors (ours, pydantic's, DRF's), violation messages, and Django's and DRF's own 401, 404,
405, 413, 415 and 429 messages — follows the request's Accept-Language (zh-hans by default,
or en). A language cookie left by the pages' switch does not change an API answer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client, override_settings
from django.utils import timezone

from shops.pos import checkout, returns
from tests import support

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
EN, ZH = "en", "zh-hans"


def messages(problem: dict) -> list[str]:
    """Everything in a problem body that a person reads."""
    found = [problem["title"], problem["detail"]]
    for texts in problem.get("errors", {}).values():
        found += texts
    found += [v["message"] for v in problem.get("violations", [])]
    return found


def assert_language(problem: dict, language: str) -> None:
    texts = messages(problem)
    assert texts, problem
    for text in texts:
        if language == EN:
            assert not CJK.search(text), (text, problem)
        else:
            assert CJK.search(text), (text, problem)


@pytest.fixture
def world() -> dict[str, Any]:
    support.product("LANG-LIP", "cosmetics", "320.00")
    term, key = support.terminal("SYA-HTB")
    sale = checkout.sale_commit(
        terminal=term,
        idempotency_key="lang-sale",
        fingerprint="lang-sale",
        basket=support.basket(("LANG-LIP", 1)),
        now=timezone.now(),
    )
    return {"term": term, "key": key, "sale": sale.body}


def body(**changes: Any) -> dict:
    data = support.json_basket(support.basket(("LANG-LIP", 1)))
    data.update(changes)
    return data


# Each kind of error: (name, expected status, code, request maker). The maker gets the
# client, the world and the headers to send (Accept-Language and credentials).
Request = Callable[[Client, dict, dict], Any]


def _json(client: Client, url: str, data: Any, headers: dict) -> Any:
    raw = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(url, raw, content_type="application/json", headers=headers)


def auth(world: dict) -> dict:
    return {"authorization": f"Bearer {world['key']}", "idempotency-key": "lang-new"}


KINDS: list[tuple[str, int, str, Request]] = [
    (
        "no credentials (DRF's own message)",
        401,
        "not_authenticated",
        lambda c, w, h: _json(c, "/api/v1/quotes", body(), h),
    ),
    (
        "a bad terminal key",
        401,
        "not_authenticated",
        lambda c, w, h: _json(
            c, "/api/v1/quotes", body(), {**h, "authorization": "Bearer df_0_nope"}
        ),
    ),
    (
        "an unknown staff token",
        401,
        "not_authenticated",
        lambda c, w, h: c.get(
            "/api/v1/stats/sales",
            {"start": "2026-01-01", "end": "2026-01-02"},
            headers={**h, "authorization": "Token " + "ab" * 20},
        ),
    ),
    (
        "an unknown API path (Django's resolver)",
        404,
        "not_found",
        lambda c, w, h: c.get("/api/v1/no-such-thing", headers=h),
    ),
    (
        "another store's sale",
        404,
        "sale_not_found",
        lambda c, w, h: c.get("/api/v1/sales/999999", headers={**h, **auth(w)}),
    ),
    (
        "no policy in force",
        404,
        "no_policy_in_force",
        lambda c, w, h: c.get("/api/v1/policy", {"at": "2001-01-01T00:00:00+08:00"}, headers=h),
    ),
    (
        "a wrong method (DRF's own message)",
        405,
        "method_not_allowed",
        lambda c, w, h: c.delete("/api/v1/quotes", headers={**h, **auth(w)}),
    ),
    (
        "a form body (DRF's own message)",
        415,
        "unsupported_media_type",
        lambda c, w, h: c.post(
            "/api/v1/quotes",
            "a=b",
            content_type="application/x-www-form-urlencoded",
            headers={**h, **auth(w)},
        ),
    ),
    (
        "a body over the size limit",
        413,
        "payload_too_large",
        lambda c, w, h: _json(
            c,
            "/api/v1/quotes",
            body(pickup="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)),
            {**h, **auth(w)},
        ),
    ),
    (
        "not JSON",
        400,
        "malformed_request",
        lambda c, w, h: _json(c, "/api/v1/quotes", '{"shopper": ', {**h, **auth(w)}),
    ),
    (
        "pydantic's field errors: missing, wrong types, out of range, unknown field",
        400,
        "invalid_input",
        lambda c, w, h: _json(
            c,
            "/api/v1/quotes",
            {
                "shopper": {"document": {"type": "licence", "number": 5}, "name": ""},
                "trip": {
                    "mode": "air",
                    "kind": "domestic",
                    "carrier_ref": "HU1",
                    "departs_at": "tomorrow",
                },
                "pickup": "departure",
                "lines": [{"sku": "LANG-LIP", "quantity": 1000, "price": "1.00"}],
                "at": "2026-02-30T00:00:00+08:00",
            },
            {**h, **auth(w)},
        ),
    ),
    (
        "our validators' field errors",
        400,
        "invalid_input",
        lambda c, w, h: _json(
            c,
            "/api/v1/sales",
            {
                **body(at="2026-01-01T00:00:00+08:00"),
                "shopper": {**body()["shopper"], "birth_date": "1991-01-01"},
            },
            {**h, **auth(w)},
        ),
    ),
    (
        "a missing Idempotency-Key",
        400,
        "invalid_input",
        lambda c, w, h: _json(
            c, "/api/v1/sales", body(), {**h, "authorization": f"Bearer {w['key']}"}
        ),
    ),
    (
        "DRF's own field errors (a query parameter)",
        400,
        "invalid_input",
        lambda c, w, h: c.get("/api/v1/policy", {"at": "yesterday"}, headers=h),
    ),
    (
        "our query-parameter errors",
        400,
        "invalid_input",
        lambda c, w, h: c.get(
            "/api/v1/sales", {"date": "2026-02-30", "store": "x"}, headers={**h, **auth(w)}
        ),
    ),
    (
        "a line the sale does not have",
        400,
        "unknown_line",
        lambda c, w, h: _json(
            c,
            f"/api/v1/sales/{w['sale']['id']}/returns",
            {"lines": [{"line": 987654, "quantity": 1}]},
            {**h, **auth(w)},
        ),
    ),
    (
        "a purchase the policy forbids (violations)",
        422,
        "purchase_not_allowed",
        lambda c, w, h: _json(
            c,
            "/api/v1/sales",
            body(lines=[{"sku": "LANG-LIP", "quantity": 31}, {"sku": "NOPE", "quantity": 1}]),
            {**h, **auth(w)},
        ),
    ),
    (
        "a key reused for another request",
        422,
        "idempotency_key_reused",
        lambda c, w, h: _json(
            c,
            "/api/v1/sales",
            body(),
            {**h, "authorization": f"Bearer {w['key']}", "idempotency-key": "lang-sale"},
        ),
    ),
]


@pytest.mark.parametrize("language", [EN, ZH])
@pytest.mark.parametrize(
    ("status", "code", "make"), [k[1:] for k in KINDS], ids=[k[0] for k in KINDS]
)
def test_every_kind_of_error_answers_in_the_request_language(
    client: Client, world: dict, language: str, status: int, code: str, make: Request
) -> None:
    response = make(client, world, {"accept-language": language})
    assert response.status_code == status, response.content[:500]
    problem = response.json()
    assert problem["code"] == code
    assert_language(problem, language)
    assert response["Content-Language"] == language


@pytest.mark.parametrize("language", [EN, ZH])
def test_a_conflict_answers_in_the_request_language(
    client: Client, world: dict, language: str
) -> None:
    returns.sale_void(terminal=world["term"], sale_id=world["sale"]["id"], now=timezone.now())
    response = client.post(
        f"/api/v1/sales/{world['sale']['id']}/pickup",
        headers={**auth(world), "accept-language": language, "idempotency-key": "p-1"},
    )
    assert response.status_code == 409
    assert_language(response.json(), language)


@pytest.mark.parametrize("language", [EN, ZH])
@override_settings(QUOTA_LOOKUP_RATE="1/60")
def test_throttling_answers_in_the_request_language(client: Client, language: str) -> None:
    lookup = {"document": {"type": "passport", "number": "E1234567", "country": "USA"},
              "name": "Jane Roe"}  # fmt: skip
    headers = {"accept-language": language}
    statuses = [_json(client, "/api/v1/quota-lookup", lookup, headers) for _ in range(3)]
    throttled = statuses[-1]
    assert throttled.status_code == 429
    assert_language(throttled.json(), language)


def test_an_english_client_with_the_pages_chinese_cookie_gets_english(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = _json(client, "/api/v1/quotes", body(), {"accept-language": "en-US,en;q=0.9"})
    assert response.json()["detail"] == "Authentication credentials were not provided."
    assert response.json()["title"] == "Authentication required"
    assert response["Content-Language"] == "en"


def test_without_accept_language_the_answer_is_chinese(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    problem = _json(client, "/api/v1/quotes", body(), {}).json()
    assert (problem["title"], problem["detail"]) == ("需要身份认证", "身份认证信息未提供。")


def test_the_pages_still_follow_the_cookie(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/quota/", headers={"accept-language": "zh-hans"})
    assert page["Content-Language"] == "en"


@pytest.mark.parametrize("language", [EN, ZH])
def test_a_departure_answer_speaks_the_request_language(
    client: Client, world: dict, language: str
) -> None:
    response = _json(
        client,
        "/api/v1/departures",
        {
            "document": body()["shopper"]["document"],
            "carrier_ref": "CZ1",
            "departed_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        },
        {**auth(world), "accept-language": language, "idempotency-key": f"d-{language}"},
    )
    assert response.status_code == 201
    message = response.json()["message"]
    assert bool(CJK.search(message)) == (language == ZH)


# Modules whose messages reach an API client: the kernel's errors, the quotas the API reads,
# and every module of the point of sale and of the HTTP API.
API_MODULES = [
    "dutyfree/errors.py",
    "quotas/errors.py",
    "quotas/identity.py",
    "quotas/selectors.py",
    "quotas/services.py",
    *sorted(
        str(path.relative_to(settings.BASE_DIR))
        for room in ("shops/pos", "shops/api")
        for path in (Path(settings.BASE_DIR) / room).glob("*.py")
    ),
]
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}


def test_every_message_of_the_api_is_in_the_catalogue() -> None:
    """Every string marked for translation in the API's modules has a zh-hans entry (a new
    message without one would reach a Chinese client in English)."""
    import ast

    import polib

    po = polib.pofile(str(Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.po"))
    known = {entry.msgid for entry in po if entry.translated()}
    missing = []
    for module in API_MODULES:
        tree = ast.parse((Path(settings.BASE_DIR) / module).read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in GETTEXT
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value not in known
            ):
                missing.append(f"{module}:{node.lineno} {node.args[0].value!r}")
    assert missing == []


@pytest.mark.parametrize("language", [EN, ZH])
@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (OperationalError, 503, "service_unavailable"),
        (RuntimeError, 500, "internal_error"),
    ],
)
def test_the_servers_own_failures_answer_in_the_request_language(
    client: Client,
    world: dict,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    failure: type[Exception],
    status: int,
    code: str,
) -> None:
    def broken(**kwargs: Any) -> None:
        raise failure("boom")

    monkeypatch.setattr(checkout, "sale_quote", broken)
    response = _json(client, "/api/v1/quotes", body(), {**auth(world), "accept-language": language})
    assert response.status_code == status
    problem = response.json()
    assert problem["code"] == code
    assert_language(problem, language)
    assert "boom" not in json.dumps(problem)
