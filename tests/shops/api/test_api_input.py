"""The terminal API under bad input: every bad request gets a 4xx application/problem+json
with a stable ``code`` (and ``errors`` for a 400), never a 500, and nothing is written."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from shops.models import (
    Product,
    Sale,
    SaleLine,
    Store,
)
from shops.pos.terminals import terminal_create
from tests.support import unique_key, written

pytestmark = pytest.mark.django_db

QUOTES, SALES = "/api/v1/quotes", "/api/v1/sales"
BOTH = pytest.mark.parametrize("url", [QUOTES, SALES])
PROBLEM = "application/problem+json"
DELETE = object()  # a field to leave out


def valid_body() -> dict[str, Any]:
    departs = timezone.now() + timedelta(days=3)
    return {
        "shopper": {
            "document": {"type": "resident_id", "number": "460100199001011230", "country": "CHN"},
            "name": "张三",
            "birth_date": "1990-01-01",
            "hainan_resident": False,
        },
        "trip": {
            "mode": "air",
            "kind": "domestic",
            "carrier_ref": "HU7181",
            "departs_at": departs.isoformat(),
        },
        "pickup": "departure",
        "lines": [{"sku": "LIP-1", "quantity": 2}],
    }


def changed(path: str, value: Any) -> dict[str, Any]:
    """The valid body with the field at the dotted ``path`` set to ``value`` (or left out)."""
    body = valid_body()
    *parents, last = path.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        del node[last]
    else:
        node[last] = value
    return body


def assert_problem(response: HttpResponse, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:600]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == status
    assert body["type"].endswith(body["code"])
    if code is not None:
        assert body["code"] == code
    if status == 400:
        assert body["errors"], body
        assert all(isinstance(m, list) and m for m in body["errors"].values())
    return body


@pytest.fixture
def auth() -> dict[str, str]:
    """Headers of a terminal of store SYA-HTB, with a catalogue of one lipstick."""
    Product.objects.create(
        sku="LIP-1",
        name_zh="口红",
        name_en="Lipstick",
        brand="X",
        category_code="cosmetics",
        retail_price=Decimal("320.00"),
    )
    _, key = terminal_create(store=Store.objects.get(code="SYA-HTB"), name="t1")
    return {"authorization": f"Bearer {key}"}


def post(client: Client, url: str, body: Any, headers: dict[str, str], **kw: Any) -> HttpResponse:
    """POST ``body`` (JSON-encoded unless bytes or str) with a fresh Idempotency-Key."""
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"idempotency-key": unique_key(), **headers}
    return client.post(
        url, data=data, content_type=kw.get("content_type", "application/json"), headers=headers
    )


def refused(
    client: Client,
    url: str,
    body: Any,
    headers: dict[str, str],
    status: int,
    code: str | None = None,
    **kw: Any,
) -> dict:
    """Send a request that must fail with ``status`` and change nothing."""
    before = written()
    body = assert_problem(post(client, url, body, headers, **kw), status, code)
    assert written() == before
    return body


@pytest.fixture
def sale(client: Client, auth: dict[str, str]) -> dict:
    response = post(client, SALES, valid_body(), auth)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_valid_body_is_accepted(client: Client, auth: dict[str, str]) -> None:
    assert post(client, QUOTES, valid_body(), auth).json()["allowed"] is True
    assert post(client, SALES, valid_body(), auth).status_code == 201
    assert Sale.objects.count() == 1


# --- Credentials -----------------------------------------------------------------------------
@BOTH
def test_no_credentials_is_401_with_a_challenge(client: Client, url: str, auth: dict) -> None:
    before = written()
    response = client.post(
        url,
        json.dumps(valid_body()),
        content_type="application/json",
        headers={"idempotency-key": "k1"},
    )
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert written() == before


BAD_AUTHORIZATION = {
    "wrong key": "Bearer df_000000000000_wrongsecret",
    "keyword only": "Bearer",
    "two tokens": "Bearer a b",
    "basic": "Basic xyz",
    "token keyword": "Token abc",
    "5000 chars": "Bearer df_abc_" + "x" * 5000,
    "no prefix": "Bearer secret",
    "empty parts": "Bearer df__",
    "latin-1 key": "Bearer df_abc_é",
    "utf-8 key as a WSGI server passes it": "Bearer " + "密钥".encode().decode("latin-1"),
    "non-latin-1 str": "Bearer 密钥",
}


@BOTH
@pytest.mark.parametrize("header", BAD_AUTHORIZATION.values(), ids=BAD_AUTHORIZATION.keys())
def test_bad_credentials_are_401(client: Client, url: str, header: str, auth: dict) -> None:
    real = auth["authorization"]
    header = header.replace("df_abc_", real[: real.rindex("_") + 1])  # a real prefix
    before = written()
    response = post(client, url, valid_body(), {"authorization": header})
    # A staff token's scheme is told that a terminal key is wanted (wrong_credential_kind).
    kind = "wrong_credential_kind" if header.startswith("Token") else "not_authenticated"
    assert_problem(response, 401, kind)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert written() == before


@BOTH
def test_a_revoked_terminal_is_401(client: Client, url: str, auth: dict) -> None:
    Store.objects.get(code="SYA-HTB").terminals.update(revoked_at=timezone.now())
    refused(client, url, valid_body(), auth, 401, "not_authenticated")


def test_a_wrong_secret_with_a_real_prefix_is_401(client: Client, auth: dict) -> None:
    prefix = auth["authorization"][: auth["authorization"].rindex("_") + 1]
    refused(client, SALES, valid_body(), {"authorization": prefix + "x" * 43}, 401)


def test_another_stores_terminal_gets_404(client: Client, auth: dict, sale: dict) -> None:
    _, key = terminal_create(store=Store.objects.get(code="HAK-IDFC"), name="t1")
    other = {"authorization": f"Bearer {key}", "idempotency-key": "other-1"}
    url = f"{SALES}/{sale['id']}"
    before = written()
    assert_problem(client.get(url, headers=other), 404, "sale_not_found")
    returns = {"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}], "reason": "x"}
    for response in (
        client.post(f"{url}/returns", returns, content_type="application/json", headers=other),
        client.post(f"{url}/void", headers=other),
        client.post(f"{url}/pickup", headers=other),
    ):
        assert_problem(response, 404, "sale_not_found")
    assert written() == before
    detail = client.get(url, headers=auth).json()
    assert (detail["status"], detail["picked_up_at"], detail["returns"]) == ("completed", None, [])


# --- Malformed bodies ------------------------------------------------------------------------
RAW_BODIES = {
    "not json": ("{not json", "malformed_request"),
    "truncated": ('{"shopper": {', "malformed_request"),
    "array": ("[]", "invalid_input"),
    "array of the body": (None, "invalid_input"),
    "string": ('"hello"', "invalid_input"),
    "number": ("42", "invalid_input"),
    "null": ("null", "invalid_input"),
    "empty": ("", "invalid_input"),
    "empty object": ("{}", "invalid_input"),
    # NaN is not JSON; the parser reads it as a float, which a quantity refuses.
    "NaN": ('{"lines": [{"sku": "LIP-1", "quantity": NaN}]}', "invalid_input"),
    "invalid utf-8": (b'{"pickup": "\xff\xfe"}', "malformed_request"),
    # An escaped lone surrogate is not Unicode text: the JSON parser refuses the body.
    "lone surrogate": (
        json.dumps(valid_body(), ensure_ascii=False).replace('"张三"', '"\\ud800"'),
        "malformed_request",
    ),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "malformed_request"),
    "1e400 (infinity)": (
        json.dumps(valid_body()).replace('"quantity": 2', '"quantity": 1e400'),
        "invalid_input",
    ),
    "5000-digit number": (
        '{"lines": [{"sku": "LIP-1", "quantity": ' + "9" * 5000 + "}]}",
        "malformed_request",
    ),
}


@BOTH
@pytest.mark.parametrize(("raw", "code"), RAW_BODIES.values(), ids=RAW_BODIES.keys())
def test_malformed_bodies_are_400(
    client: Client, url: str, raw: Any, code: str, auth: dict
) -> None:
    raw = json.dumps([valid_body()]) if raw is None else raw
    refused(client, url, raw, auth, 400, code)


@BOTH
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_body_over_the_upload_limit_is_413(
    client: Client, url: str, language: str, auth: dict
) -> None:
    body = changed("shopper.name", "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    problem = refused(
        client, url, body, {**auth, "accept-language": language}, 413, "payload_too_large"
    )
    assert "DATA_UPLOAD" not in json.dumps(problem)  # no Django setting named to a till
    assert "2,621,440" in problem["detail"]
    if language == "en":
        assert problem["title"] == "Request body too large"
    else:
        assert problem["title"] == "请求内容过大"
        assert "字节" in problem["detail"]


@pytest.mark.parametrize(
    "url", ["/api/v1/departures", "/api/v1/quota-lookup", "/api/v1/sales/1/returns"]
)
def test_every_body_over_the_upload_limit_is_413(client: Client, url: str, auth: dict) -> None:
    body = {"reason": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    refused(client, url, body, auth, 413, "payload_too_large")


# --- Strict bodies: a field the endpoint does not define is a 400 naming it ------------------
UNKNOWN_FIELDS = ["discount", "lines.0.price", "lines.0.discount", "shopper.foo",
                  "shopper.document.foo", "trip.gate", "lines.0.sku_name"]  # fmt: skip


@BOTH
@pytest.mark.parametrize("path", UNKNOWN_FIELDS)
def test_an_unknown_field_anywhere_is_400_naming_it(
    client: Client, url: str, path: str, auth: dict
) -> None:
    body = changed(path, "1.00")
    problem = refused(client, url, body, auth, 400, "invalid_input")
    assert list(problem["errors"]) == [path]


def test_at_on_a_sale_is_400_saying_why(client: Client, auth: dict) -> None:
    body = {**valid_body(), "at": (timezone.now() - timedelta(days=1)).isoformat()}
    problem = refused(client, SALES, body, {**auth, "accept-language": "en"}, 400)
    assert problem["errors"] == {
        "at": ["A sale is judged at the moment it commits: at is for quotes only."]
    }
    assert post(client, QUOTES, body, auth).status_code == 200  # a quote takes it


def test_unknown_fields_of_a_return_are_400(client: Client, auth: dict, sale: dict) -> None:
    line = sale["lines"][0]["id"]
    body = {"lines": [{"line": line, "quantity": 1, "amount": "1.00"}], "refund": "cash"}
    problem = refused(client, _returns(sale), body, auth, 400, "invalid_input")
    assert sorted(problem["errors"]) == ["lines.0.amount", "refund"]


@pytest.mark.parametrize(
    ("url", "body", "fields"),
    [
        ("/api/v1/departures", {"gate": "12"}, ["gate"]),
        ("/api/v1/departures", {"document": {"foo": 1}}, ["document.foo"]),
        ("/api/v1/quota-lookup", {"birth_date": "1990-01-01"}, ["birth_date"]),
        ("/api/v1/quota-lookup", {"document": {"expires": "2030"}}, ["document.expires"]),
    ],
)
def test_unknown_fields_of_departures_and_lookups_are_400(
    client: Client, url: str, body: dict, fields: list[str], auth: dict
) -> None:
    full = {"document": valid_body()["shopper"]["document"], "carrier_ref": "HU7181",
            "departed_at": timezone.now().isoformat(), "name": "张三"}  # fmt: skip
    if url.endswith("lookup"):
        del full["carrier_ref"], full["departed_at"]
    else:
        del full["name"]
    merged = {**full, **body}
    if "document" in body:
        merged["document"] = {**full["document"], **body["document"]}
    problem = refused(client, url, merged, auth, 400, "invalid_input")
    assert sorted(problem["errors"]) == fields


@pytest.mark.parametrize("action", ["void", "pickup"])
def test_void_and_pickup_take_no_fields(
    client: Client, action: str, auth: dict, sale: dict
) -> None:
    url = f"{SALES}/{sale['id']}/{action}"
    problem = refused(client, url, {"reason": "customer left"}, auth, 400, "invalid_input")
    assert list(problem["errors"]) == ["reason"]
    refused(client, url, "reason=x", auth, 415, content_type="application/x-www-form-urlencoded")
    assert post(client, url, {}, auth).status_code == 200
    bare = client.post(url, headers={**auth, "idempotency-key": f"bare {action}"})
    assert bare.status_code == 200  # a bare POST, with its key
    assert "Idempotency-Key" in assert_problem(client.post(url, headers=auth), 400)["errors"]


@BOTH
def test_a_form_body_is_415(client: Client, url: str, auth: dict) -> None:
    refused(
        client,
        url,
        "pickup=departure",
        auth,
        415,
        "unsupported_media_type",
        content_type="application/x-www-form-urlencoded",
    )


FUTURE = (date.today() + timedelta(days=30)).isoformat()  # noqa: DTZ011
BAD_VALUES: dict[str, list[Any]] = {
    "shopper": [DELETE, None, [], "张三"],
    "shopper.document": [DELETE, None],
    "shopper.document.type": ["driving_licence", None, ""],
    "shopper.document.number": [DELETE, "", "4601001990010\x001234", "46010019900101\x071234",
                                "46010019900101\x1b[31m", "4601001990010112😀",
                                "460100199001011\u200b230", "1" * 10_000, 460100199001011230],
    "shopper.document.country": ["CN", "中国人"],
    "shopper.name": [DELETE, "", "   ", None, "x" * 10_000, "张\x00三"],
    # 1991-01-01: not the birth digits of the resident ID
    "shopper.birth_date": [DELETE, "2026-02-30", "yesterday", 10**12, None, FUTURE, "1800-01-01",
                           "1991-01-01"],
    "shopper.hainan_resident": ["false", 0],
    "trip": [[], "HU7181"],
    "trip.mode": ["rocket", DELETE],
    "trip.kind": ["interstellar", None],
    "trip.carrier_ref": ["H" * 10_000, "HU7181; DROP TABLE", "", 7181],
    "trip.departs_at": ["2026-02-30T10:00:00+08:00", "yesterday", 10**12,
                        "9999-12-31T23:59:59-10:00", DELETE],
    "pickup": ["drone", None, DELETE],
    "lines": [DELETE, None, [], {"sku": "LIP-1", "quantity": 2}, "LIP-1",
              [{"sku": "LIP-1", "quantity": 1}] * 101],
    "lines.0": [None, [], {"sku": None, "quantity": None}],
    "lines.0.sku": [DELETE, "", "S" * 10_000, 42],
    "lines.0.quantity": [DELETE, 10**30, 2.0, 2.5, "2", True, False, 0, -1, 1000, None, [2]],
}  # fmt: skip
BAD_FIELDS = [(path, value) for path, values in BAD_VALUES.items() for value in values]


def _field_id(case: tuple[str, Any]) -> str:
    path, value = case
    shown = "missing" if value is DELETE else repr(value)
    return f"{path}={shown[:24]}"


@BOTH
@pytest.mark.parametrize(("path", "value"), BAD_FIELDS, ids=map(_field_id, BAD_FIELDS))
def test_bad_fields_are_400_naming_the_field(
    client: Client, url: str, path: str, value: Any, auth: dict
) -> None:
    body = refused(client, url, changed(path, value), auth, 400, "invalid_input")
    top = path.split(".")[0]
    assert any(field.split(".")[0] == top for field in body["errors"]), body["errors"]


@pytest.mark.parametrize("at", ["yesterday", 10**12, "2026-02-30T00:00:00+08:00", "", None])
def test_a_bad_quote_instant_is_400(client: Client, at: Any, auth: dict) -> None:
    body = refused(client, QUOTES, {**valid_body(), "at": at}, auth, 400, "invalid_input")
    assert "at" in body["errors"]


# --- Idempotency-Key -------------------------------------------------------------------------
BAD_KEYS = {
    "empty": "",
    "256 chars": "k" * 256,
    "tab": "\tkey",
    "newline inside": "my\nkey",
    "non-ascii": "ключ-1",
    "cjk": "键",
}


@pytest.mark.parametrize("key", [*BAD_KEYS.values(), None], ids=[*BAD_KEYS.keys(), "missing"])
def test_a_bad_idempotency_key_is_400(client: Client, key: str | None, auth: dict) -> None:
    before = written()
    headers = {**auth, **({} if key is None else {"idempotency-key": key})}
    response = client.post(
        SALES, json.dumps(valid_body()), content_type="application/json", headers=headers
    )
    body = assert_problem(response, 400, "invalid_input")
    assert "Idempotency-Key" in body["errors"]
    assert written() == before


def test_255_printable_characters_are_a_good_key(client: Client, auth: dict) -> None:
    response = post(client, SALES, valid_body(), {**auth, "idempotency-key": "k" * 255})
    assert response.status_code == 201


def test_a_key_with_spaces_is_a_good_key(client: Client, auth: dict) -> None:
    """The contract: printable ASCII, spaces included (a till may send "till 3 #0042")."""
    headers = {**auth, "idempotency-key": "till 3 #0042 ~!"}
    body = valid_body()
    first = post(client, SALES, body, headers)
    assert first.status_code == 201, first.content
    again = post(client, SALES, body, headers)
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content


def test_a_key_reused_with_another_body_is_422(client: Client, auth: dict) -> None:
    key = {"idempotency-key": "twice"}
    assert post(client, SALES, valid_body(), {**auth, **key}).status_code == 201
    other = changed("lines.0.quantity", 1)
    refused(client, SALES, other, {**auth, **key}, 422, "idempotency_key_reused")


# --- Sale ids --------------------------------------------------------------------------------
SALE_IDS = ["0", "99999999999999999999999", str(2**63), "123456"]


@pytest.mark.parametrize("sale_id", SALE_IDS)
@pytest.mark.parametrize("action", ["", "/void", "/pickup", "/returns"])
def test_unknown_sale_ids_are_404(
    client: Client, sale_id: str, action: str, auth: dict, sale: dict
) -> None:
    url = f"{SALES}/{sale_id}{action}"
    before = written()
    if action:
        body = {"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}]}
        response = post(client, url, body if action == "/returns" else {}, auth)
    else:
        response = client.get(url, headers=auth)
    assert_problem(response, 404, "sale_not_found")
    assert written() == before


@pytest.mark.parametrize("path", ["-1", "abc", "1.5", "%00", "1/nothing"])
def test_ids_that_are_not_numbers_are_404(client: Client, path: str, auth: dict) -> None:
    assert_problem(client.get(f"{SALES}/{path}", headers=auth), 404, "not_found")


@BOTH
@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_a_wrong_method_is_405(client: Client, url: str, method: str, auth: dict) -> None:
    assert_problem(getattr(client, method)(url, headers=auth), 405, "method_not_allowed")


def test_a_quote_is_not_read_back(client: Client, auth: dict) -> None:
    assert_problem(client.get(QUOTES, headers=auth), 405, "method_not_allowed")


# --- Purchases the policy forbids ------------------------------------------------------------
FORBIDDEN = {
    "31 cosmetics": (changed("lines.0.quantity", 31), "per_trip_limit_exceeded"),
    "unknown sku": (changed("lines.0.sku", "NO-SUCH-SKU"), "unknown_sku"),
}


@pytest.mark.parametrize(("body", "violation"), FORBIDDEN.values(), ids=FORBIDDEN.keys())
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_forbidden_purchase_is_422_in_the_shoppers_language(
    client: Client, body: dict, violation: str, language: str, auth: dict
) -> None:
    headers = {**auth, "accept-language": language}
    problem = refused(client, SALES, body, headers, 422, "purchase_not_allowed")
    assert problem["violations"]
    for found in problem["violations"]:
        assert isinstance(found["code"], str)
        assert isinstance(found["message"], str)
        assert found["message"]
    messages = [v["message"] for v in problem["violations"] if v["code"] == violation]
    assert messages
    if language == "en":
        assert all(message.isascii() for message in messages)
    else:
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in message) for message in messages)

    # A quote of the same basket answers 200, not allowed, and writes nothing either.
    before = written()
    quote = post(client, QUOTES, body, headers)
    assert quote.status_code == 200
    assert quote.json()["allowed"] is False
    assert written() == before


# --- Returns ---------------------------------------------------------------------------------
def _returns(sale: dict) -> str:
    return f"{SALES}/{sale['id']}/returns"


def test_returning_more_than_was_sold_is_400(client: Client, auth: dict, sale: dict) -> None:
    line = sale["lines"][0]["id"]
    body = {"lines": [{"line": line, "quantity": 3}], "reason": "too many"}
    problem = refused(client, _returns(sale), body, auth, 400, "return_exceeds_sale")
    assert list(problem["errors"]) == ["lines.0.quantity"]
    assert SaleLine.objects.get(pk=line).returned_quantity == 0


def test_returning_a_line_of_another_sale_is_400_unknown_line(
    client: Client, auth: dict, sale: dict
) -> None:
    other = post(client, SALES, changed("trip.carrier_ref", "HU7999"), auth).json()
    body = {"lines": [{"line": other["lines"][0]["id"], "quantity": 1}]}
    problem = refused(client, _returns(sale), body, auth, 400, "unknown_line")
    assert list(problem["errors"]) == ["lines.0.line"]


def test_an_unknown_line_beside_one_returned_twice_names_both(
    client: Client, auth: dict, sale: dict
) -> None:
    body = {
        "lines": [
            {"line": sale["lines"][0]["id"], "quantity": 5},
            {"line": 987_654, "quantity": 1},
        ]
    }
    problem = refused(client, _returns(sale), body, auth, 400, "unknown_line")
    assert sorted(problem["errors"]) == ["lines.0.quantity", "lines.1.line"]
    assert "987654" in problem["errors"]["lines.1.line"][0]


BAD_RETURNS = {
    "duplicate lines": lambda line: {"lines": [{"line": line, "quantity": 1}] * 2},
    "no lines": lambda line: {"lines": []},
    "lines as object": lambda line: {"lines": {"line": line, "quantity": 1}},
    "line 0": lambda line: {"lines": [{"line": 0, "quantity": 1}]},
    "huge line": lambda line: {"lines": [{"line": 10**30, "quantity": 1}]},
    "line as string": lambda line: {"lines": [{"line": str(line), "quantity": 1}]},
    "quantity 0": lambda line: {"lines": [{"line": line, "quantity": 0}]},
    "quantity float": lambda line: {"lines": [{"line": line, "quantity": 1.0}]},
    "quantity bool": lambda line: {"lines": [{"line": line, "quantity": True}]},
    "null line": lambda line: {"lines": [None]},
    "long reason": lambda line: {"lines": [{"line": line, "quantity": 1}], "reason": "r" * 501},
    "body array": lambda line: [{"line": line, "quantity": 1}],
}


@pytest.mark.parametrize("make", BAD_RETURNS.values(), ids=BAD_RETURNS.keys())
def test_bad_returns_are_400(client: Client, make: Any, auth: dict, sale: dict) -> None:
    body = refused(client, _returns(sale), make(sale["lines"][0]["id"]), auth, 400)
    assert body["code"] == "invalid_input"


def test_a_return_needs_an_idempotency_key(client: Client, auth: dict, sale: dict) -> None:
    body = {"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}]}
    before = written()
    response = client.post(_returns(sale), body, content_type="application/json", headers=auth)
    assert "Idempotency-Key" in assert_problem(response, 400, "invalid_input")["errors"]
    assert written() == before


# --- Departures ------------------------------------------------------------------------------
def departure(**changes: Any) -> dict:
    body = {
        "document": valid_body()["shopper"]["document"],
        "carrier_ref": "HU7181",
        "departed_at": timezone.now().isoformat(),
    }
    return {**body, **changes}


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        departure(document=None),
        departure(document={"type": "passport", "number": "😀😀😀😀"}),
        departure(carrier_ref="H" * 10_000),
        departure(departed_at="yesterday"),
        departure(departed_at=10**12),
        departure(kind="interstellar"),
    ],
    ids=["empty", "array", "null doc", "emoji doc", "long ref", "bad date", "int date", "kind"],
)
def test_bad_departures_are_400(client: Client, body: Any, auth: dict) -> None:
    refused(client, "/api/v1/departures", body, auth, 400, "invalid_input")


def test_departures_need_credentials(client: Client, auth: dict) -> None:
    refused(client, "/api/v1/departures", departure(), {}, 401, "not_authenticated")


# --- Days the calendar does not have -----------------------------------------------------------
@pytest.mark.parametrize("day", ["2026-13-01", "2026-02-30", "2026-00-10"])
@pytest.mark.parametrize(("language", "says"), [("en", "no such day"), ("zh-hans", "不存在")])
def test_a_day_that_does_not_exist_is_told_so(
    client: Client, auth: dict, day: str, language: str, says: str
) -> None:
    response = client.get(SALES, {"date": day}, headers={**auth, "accept-language": language})
    problem = assert_problem(response, 400, "invalid_input")
    assert says in problem["errors"]["date"][0]
    assert day in problem["errors"]["date"][0]
    assert "format" not in problem["errors"]["date"][0]


def test_a_day_in_another_shape_is_still_a_format_error(client: Client, auth: dict) -> None:
    response = client.get(SALES, {"date": "01/03/2026"}, headers={**auth, "accept-language": "en"})
    assert "format" in assert_problem(response, 400, "invalid_input")["errors"]["date"][0]
