"""Every write a till may retry answers its first answer again, byte for byte.

A till retries whenever an answer is lost on the way back. Whatever happened in between — a
return, a void, a pickup, another departure — the retry with the same key and body is told
exactly what the first request was told (status, the body's bytes, ``Location``), with
``Idempotent-Replayed: true``, and nothing is written twice. One mechanism answers all five
writes (shops.pos.idempotency).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from quotas.models import QuotaEntry, Trip
from shops.models import IdempotencyRecord, Return, Sale
from tests.support import basket, json_basket, product, terminal, trip

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(client: Client):
    product("RP-LIP", "cosmetics", "320.00")
    product("RP-PEN", "cosmetics", "1000.01")
    _, key = terminal()

    def post(url: str, body: Any, idem: str, language: str = "zh-hans") -> Any:
        return client.post(
            url,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers={
                "authorization": f"Bearer {key}",
                "idempotency-key": idem,
                "accept-language": language,
            },
        )

    return post


def same(first: Any, again: Any) -> None:
    """``again`` is ``first`` replayed: same status, bytes and Location, marked replayed."""
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.get("Location") == first.get("Location")
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def a_sale(till: Any, idem: str = "sale-1", **changes: Any) -> tuple[Any, dict]:
    body = json_basket(basket(("RP-LIP", 2), ("RP-PEN", 1), **changes))
    response = till("/api/v1/sales", body, idem)
    assert response.status_code == 201, response.content
    return response, body


def test_a_sale_replays_its_first_answer_after_a_return_and_a_void(till) -> None:
    first, body = a_sale(till)
    sale = first.json()
    assert first["Location"] == f"/api/v1/sales/{sale['id']}"
    returned = till(
        f"/api/v1/sales/{sale['id']}/returns",
        {"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}]},
        "return-1",
    )
    assert returned.status_code == 201
    assert till(f"/api/v1/sales/{sale['id']}/void", None, "void-1").status_code == 200

    again = till("/api/v1/sales", body, "sale-1", language="en")  # another language, too
    same(first, again)
    assert Sale.objects.count() == 1
    assert QuotaEntry.objects.filter(kind="sale").count() == 1


def test_a_return_replays_its_first_answer_after_another_return(till) -> None:
    response, _ = a_sale(till)
    sale = response.json()
    url = f"/api/v1/sales/{sale['id']}/returns"
    body = {"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}], "reason": "scratched"}
    first = till(url, body, "return-1")
    assert first.status_code == 201, first.content
    other = {"lines": [{"line": sale["lines"][1]["id"], "quantity": 1}]}
    assert till(url, other, "return-2").status_code == 201  # the quota moves again

    again = till(url, body, "return-1")
    same(first, again)
    assert json.loads(again.content)["quota"] == first.json()["quota"]  # as it stood then
    assert Return.objects.count() == 2


def test_a_void_replays_its_first_answer(till) -> None:
    response, _ = a_sale(till)
    url = f"/api/v1/sales/{response.json()['id']}/void"
    first = till(url, None, "void-1")
    assert first.status_code == 200, first.content
    a_sale(till, "sale-2", on=trip("CZ6789"))  # the account moves since

    again = till(url, None, "void-1")
    same(first, again)
    assert QuotaEntry.objects.filter(kind="void").count() == 1


def test_a_pickup_replays_its_first_answer_after_a_return(till) -> None:
    response, _ = a_sale(till)
    sale = response.json()
    url = f"/api/v1/sales/{sale['id']}/pickup"
    first = till(url, {}, "pickup-1")
    assert first.status_code == 200, first.content
    returned = till(
        f"/api/v1/sales/{sale['id']}/returns",
        {"lines": [{"line": sale["lines"][0]["id"], "quantity": 2}]},
        "return-1",
    )
    assert returned.status_code == 201

    again = till(url, {}, "pickup-1")
    same(first, again)
    assert json.loads(again.content)["returned_amount"] == "0.00"  # the first answer's


def test_a_departure_replays_its_first_verdict(till) -> None:
    """The issue a till met: the first call closed nothing (no open trip within 12 hours) and
    stored the departure on a trip of its own; the retry must say that again, not
    ``already_recorded`` of the trip it created — and so must the same departure under a new
    key."""
    departs = timezone.now() + timedelta(days=2)
    a_sale(till, on=trip("HU7181", departs_at=departs))
    body = {
        "document": json_basket(basket(("RP-LIP", 1)))["shopper"]["document"],
        "carrier_ref": "HU7181",
        "departed_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
    }
    first = till("/api/v1/departures", body, "departure-1")
    assert first.status_code == 201, first.content
    assert (first.json()["matched"], first.json()["reason"]) == (
        False,
        "no_open_trip_with_that_carrier_ref",
    )
    trips = Trip.objects.count()

    again = till("/api/v1/departures", body, "departure-1")
    same(first, again)
    assert Trip.objects.count() == trips

    fresh = till("/api/v1/departures", body, "departure-2")  # a new key: a new verdict...
    assert fresh.content == first.content  # ...the same one


@pytest.mark.parametrize("write", ["sale", "return", "void", "pickup", "departure"])
def test_every_write_needs_a_key(till, client: Client, write: str) -> None:
    response, body = a_sale(till)
    sale = response.json()
    url, body = {
        "sale": ("/api/v1/sales", body),
        "return": (
            f"/api/v1/sales/{sale['id']}/returns",
            {"lines": [{"line": sale["lines"][0]["id"], "quantity": 1}]},
        ),
        "void": (f"/api/v1/sales/{sale['id']}/void", {}),
        "pickup": (f"/api/v1/sales/{sale['id']}/pickup", {}),
        "departure": (
            "/api/v1/departures",
            {
                "document": body["shopper"]["document"],
                "carrier_ref": "HU7181",
                "departed_at": timezone.now().isoformat(),
            },
        ),
    }[write]
    records = IdempotencyRecord.objects.count()
    answer = till(url, body, "")
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["errors"]
    assert IdempotencyRecord.objects.count() == records


def test_a_key_is_one_request_whatever_the_endpoint(till) -> None:
    response, _ = a_sale(till)
    sale_id = response.json()["id"]
    reused = till(f"/api/v1/sales/{sale_id}/void", None, "sale-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert Sale.objects.get().status == "completed"


def test_a_refusal_is_not_remembered(till) -> None:
    """A 409 pickup_too_early is not an answer to keep: the same key succeeds once the
    shopper has left."""
    response, body = a_sale(till, pickup="mail")
    url = f"/api/v1/sales/{response.json()['id']}/pickup"
    early = till(url, {}, "pickup-1")
    assert early.status_code == 409
    assert not IdempotencyRecord.objects.filter(key="pickup-1").exists()
    departure = {
        "document": body["shopper"]["document"],
        "carrier_ref": body["trip"]["carrier_ref"],
        "departed_at": timezone.now().isoformat(),
    }
    assert till("/api/v1/departures", departure, "departure-1").status_code == 201
    assert till(url, {}, "pickup-1").status_code == 200
