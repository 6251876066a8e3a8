"""One Idempotency-Key per terminal, whatever the request (API.md: "Keys are per terminal"):
a key that made a sale cannot make a return, nor the reverse — 422 idempotency_key_reused,
nothing written, although sales and the other requests keep their keys in two tables."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from shops.models import Return, Sale
from tests.support import basket, json_basket, product, terminal

pytestmark = pytest.mark.django_db


@pytest.fixture
def key() -> str:
    product("LIP", "cosmetics", "320.00")
    return terminal()[1]


def post(client: Client, url: str, body: dict, key: str, idempotency: str):
    return client.post(
        url,
        json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {key}", "idempotency-key": idempotency},
    )


def sell(client: Client, key: str, idempotency: str) -> dict:
    answer = post(client, "/api/v1/sales", json_basket(basket(("LIP", 2))), key, idempotency)
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_a_sales_key_cannot_make_a_return(client: Client, key: str) -> None:
    sale = sell(client, key, "same")
    body = {"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}]}
    answer = post(client, f"/api/v1/sales/{sale['id']}/returns", body, key, "same")
    assert answer.status_code == 422
    assert answer.json()["code"] == "idempotency_key_reused"
    assert not Return.objects.exists()


def test_a_returns_key_cannot_make_a_sale(client: Client, key: str) -> None:
    sale = sell(client, key, "s1")
    body = {"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}]}
    assert post(client, f"/api/v1/sales/{sale['id']}/returns", body, key, "r1").status_code == 201
    answer = post(client, "/api/v1/sales", json_basket(basket(("LIP", 1))), key, "r1")
    assert answer.status_code == 422
    assert answer.json()["code"] == "idempotency_key_reused"
    assert Sale.objects.count() == 1


def test_another_terminal_may_use_the_same_key(client: Client, key: str) -> None:
    sell(client, key, "shared")
    other = terminal("SYA-AIR")[1]
    assert sell(client, other, "shared")["id"] != Sale.objects.order_by("id").first().pk
