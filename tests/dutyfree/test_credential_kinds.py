"""A credential of the wrong kind is told so: a terminal key on a staff endpoint, or a staff
token on a terminal endpoint, answers 401 ``wrong_credential_kind`` naming the credential the
endpoint takes, in the request's language — never "credentials were not provided"."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from shops.models import Sale
from tests.support import basket, json_basket, product, terminal

pytestmark = pytest.mark.django_db

STATS = "/api/v1/stats/sales?start=2026-03-01&end=2026-03-31"


def staff_token() -> str:
    out = io.StringIO()
    call_command("create_staff_token", "analyst", stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "staff token ('Authorization: Token <key>'"), ("zh-hans", "员工令牌")],
)
def test_a_terminal_key_on_a_staff_endpoint(client: Client, language: str, says: str) -> None:
    _, key = terminal()
    response = client.get(
        STATS, headers={"authorization": f"Bearer {key}", "accept-language": language}
    )
    assert response.status_code == 401
    problem = response.json()
    assert problem["code"] == "wrong_credential_kind"
    assert says in problem["detail"]
    assert problem["detail"] != "Authentication credentials were not provided."
    assert response["WWW-Authenticate"].startswith("Token")
    assert response["Content-Language"] == language


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "terminal key ('Authorization: Bearer <key>'"), ("zh-hans", "终端密钥")],
)
def test_a_staff_token_on_a_terminal_endpoint(client: Client, language: str, says: str) -> None:
    product("CK-LIP", "cosmetics", "320.00")
    response = client.post(
        "/api/v1/sales",
        json.dumps(json_basket(basket(("CK-LIP", 1)))),
        content_type="application/json",
        headers={
            "authorization": f"Token {staff_token()}",
            "idempotency-key": "ck-1",
            "accept-language": language,
        },
    )
    assert response.status_code == 401
    problem = response.json()
    assert problem["code"] == "wrong_credential_kind"
    assert says in problem["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Sale.objects.exists()


def test_no_credential_is_still_not_authenticated(client: Client) -> None:
    assert client.get(STATS).json()["code"] == "not_authenticated"
    assert client.get("/api/v1/sales?date=2026-03-01").json()["code"] == "not_authenticated"


def test_the_right_kind_still_works(client: Client) -> None:
    _, key = terminal()
    assert client.get(STATS, headers={"authorization": f"Token {staff_token()}"}).status_code == 200
    listed = client.get("/api/v1/sales?date=2026-03-01", headers={"authorization": f"Bearer {key}"})
    assert listed.status_code == 200
