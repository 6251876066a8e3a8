"""Contract fuzzing: Schemathesis over every operation of the served ``/api/schema/``,
in-process (WSGI), on the test database.

Valid and invalid requests (generation mode ``all``) through the coverage phase (boundary
values, missing and wrongly typed fields and parameters, unsupported content types) and the
fuzzing phase (``FUZZ_EXAMPLES`` per operation, see conftest). Every answer must not be a 5xx,
must be documented (status code, content type, body schema), and every 4xx/5xx must be an
RFC 9457 problem (``application/problem+json`` with ``type``, ``title``, ``status``, ``code``).
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.test import Client
from django.utils import timezone
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shops.reporting import rollups
from tests.fuzz.conftest import (
    APPLICATION,
    RESIDENT_IDS,
    SEED,
    SKUS,
    Shop,
    cursors,
    days,
    days_at_the_edges,
    departure,
    fuzz_examples,
    instants_at_the_edges,
    now,
    tally,
)
from tests.support.keys import serial

PROBLEM = "application/problem+json"
PROBLEM_MEMBERS = ("type", "title", "status", "code")
# Idempotency keys drawn again and again: replays (same body) and reuse (another body).
REPLAY_KEYS = ("fz-replay-a", "fz-replay-b")


def problem_details(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """Every 4xx and 5xx of the API is ``application/problem+json`` with type, title, status
    and code. (``/healthz``, for load balancers, answers plain JSON and Django's own 405.)"""
    if response.status_code < 400 or not case.operation.path.startswith("/api/"):
        return
    media = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    assert media == PROBLEM, f"{response.status_code} answered {media or 'no content type'}"
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code}: the problem is not JSON") from exc
    assert isinstance(body, dict), f"{response.status_code}: the problem is not an object"
    missing = [name for name in PROBLEM_MEMBERS if name not in body]
    assert not missing, f"{response.status_code}: the problem lacks {', '.join(missing)}"
    assert body["status"] == response.status_code, (
        f"problem status {body['status']!r} but HTTP {response.status_code}"
    )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_details,
]

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {"mode": "all", "max-examples": fuzz_examples(), "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        # Values that exist and pass validation, drawn often enough to get past "invalid" and
        # "unknown" into the domain code (quotas, limits, pickups, replays).
        "dictionaries": {
            "skus": {"values": list(SKUS)},
            "quantities": {"values": [1, 2, 3]},
            "document_types": {"values": ["resident_id"]},
            "resident_ids": {"values": list(RESIDENT_IDS)},
            "birth_dates": {"values": ["1990-01-01"]},
            "names": {"values": ["张三", "LI LEI"]},
            "carriers": {"values": ["HU7181", "D7301", "CZ6789"]},
            "departures": {"values": [departure()]},
            "instants": {"values": [now()]},
            "days": {"values": days()},
            # Query parameters at the calendar's ends and cursors the lists never gave: the
            # generator alone rarely writes year 1 with an offset, or base64 of "p=…".
            "edge_instants": {"values": instants_at_the_edges()},
            "edge_days": {"values": days_at_the_edges()},
            "cursors": {"values": cursors(SEED)},
            "idempotency_keys": {"values": list(REPLAY_KEYS)},
        },
        "parameters": {
            "body.lines[*].sku": {"dictionary": "skus", "probability": 0.7},
            "body.lines[*].quantity": {"dictionary": "quantities", "probability": 0.5},
            "body.shopper.document.type": {"dictionary": "document_types", "probability": 0.5},
            "body.shopper.document.number": {"dictionary": "resident_ids", "probability": 0.6},
            "body.shopper.birth_date": {"dictionary": "birth_dates", "probability": 0.6},
            "body.shopper.name": {"dictionary": "names", "probability": 0.5},
            "body.trip.carrier_ref": {"dictionary": "carriers", "probability": 0.6},
            "body.trip.departs_at": {"dictionary": "departures", "probability": 0.6},
            "body.at": {"dictionary": "instants", "probability": 0.5},
            "body.document.type": {"dictionary": "document_types", "probability": 0.5},
            "body.document.number": {"dictionary": "resident_ids", "probability": 0.6},
            "body.name": {"dictionary": "names", "probability": 0.5},
            "body.carrier_ref": {"dictionary": "carriers", "probability": 0.6},
            "body.departed_at": {"dictionary": "instants", "probability": 0.5},
            "query.at": {"dictionary": "edge_instants", "probability": 0.6},
            "query.date": {"dictionary": "edge_days", "probability": 0.7},
            "query.cursor": {"dictionary": "cursors", "probability": 0.7},
            "query.start": {"dictionary": "days", "probability": 0.5},
            "query.end": {"dictionary": "days", "probability": 0.5},
            "header.Idempotency-Key": {"dictionary": "idempotency_keys", "probability": 0.15},
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", APPLICATION, config=CONFIG)


def credentials(case: schemathesis.Case, shop: Shop) -> dict[str, str]:
    security = case.operation.definition.raw.get("security") or [{}]
    names = {name for requirement in security for name in requirement}
    if "terminalKey" in names:
        return {"Authorization": f"Bearer {shop.terminal_key}"}
    if "tokenAuth" in names:
        return {"Authorization": f"Token {shop.staff_token}"}
    return {}


def _whole(value: object) -> int | None:
    """An integer as generated: an int, an integral float (JSON Schema calls 3.0 an integer)
    or a string of digits (path parameters in the coverage phase)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def aim(case: schemathesis.Case, shop: Shop) -> None:
    """Aim generated requests at data that exists.

    Most sale ids and sale line ids become ones that exist (ids differ from run to run and
    database to database, so they cannot be a fixed dictionary): of the sale ids, one in four is
    kept, one in eight becomes another store's sale, the rest this store's. Most valid baskets
    without a trip get one."""
    sale_id = _whole((case.path_parameters or {}).get("sale_id"))
    if sale_id is not None and sale_id % 4:
        case.path_parameters["sale_id"] = (
            shop.foreign_sale_id
            if sale_id % 8 == 7
            else shop.sale_ids[sale_id % len(shop.sale_ids)]
        )
    key = (case.headers or {}).get("Idempotency-Key")
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and isinstance(key, str) and key not in REPLAY_KEYS and len(key) < 240:
        # Generated keys repeat (hypothesis likes "0"): only the replay keys should.
        case.headers["Idempotency-Key"] = f"{key}.{serial()}"
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
        return
    if "shopper" in body and body.get("trip") is None and len(body["lines"]) % 3 and positive:
        # A basket without a trip is refused unless the shopper may buy without one: most
        # generated baskets get one, so sales get past trip_required.
        body["trip"] = {"mode": "air", "kind": "domestic", "carrier_ref": "HU7181"}
        body["trip"]["departs_at"] = departure()
    sale_lines = shop.lines_of.get((case.path_parameters or {}).get("sale_id"))
    every_line = [line for lines in shop.lines_of.values() for line in lines]
    for line in body["lines"]:
        number = _whole(line.get("line")) if isinstance(line, dict) else None
        if number is not None and number % 4:
            choices = sale_lines if sale_lines and number % 8 != 7 else every_line
            line["line"] = choices[number % len(choices)]


@pytest.mark.django_db
@pytest.mark.usefixtures("in_process_app")
@schema.parametrize()
def test_every_operation_keeps_the_contract(case: schemathesis.Case, shop: Shop) -> None:
    aim(case, shop)
    headers = credentials(case, shop)
    response = case.call(headers=headers)
    tally(case, response.status_code)
    case.validate_response(response, checks=CHECKS, headers=headers)


# --- Server errors the fuzzing found in shops/reporting/stats.py, fixed --------------------
STATS = "/api/v1/stats/sales"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"start": "2000-01-01", "end": "2000-01-01", "group_by": "category"},
        # sales today (the fixture's), none a year earlier
        {"start": "today", "end": "today", "group_by": "category"},
    ],
)
def test_stats_by_category_without_rollups(client, shop: Shop, query) -> None:
    rollups.refresh_all_dirty(now=timezone.now())
    today = timezone.localdate().isoformat()
    query = {name: today if value == "today" else value for name, value in query.items()}
    response = client.get(STATS, query, headers={"authorization": f"Token {shop.staff_token}"})
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("align", ["calendar", "weekday"])
def test_stats_in_year_one_is_a_400(client, shop: Shop, align: str) -> None:
    query = {"start": "0001-01-01", "end": "0001-01-01", "align": align}
    response = client.get(STATS, query, headers={"authorization": f"Token {shop.staff_token}"})
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["1850-06-01", "2150-06-01"])
def test_stats_outside_2000_2099_is_a_400(client, shop: Shop, day: str) -> None:
    query = {"start": day, "end": day, "align": "spring_festival"}
    response = client.get(STATS, query, headers={"authorization": f"Token {shop.staff_token}"})
    assert response.status_code == 400


# --- Found by the fuzzing and fixed -----------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/sales/null/pickup", "/api/v1/no-such-thing"])
def test_a_post_to_an_unknown_api_path_is_a_404_problem_not_a_csrf_page(path: str) -> None:
    """The catch-all for unknown /api/ paths is csrf_exempt (dutyfree.errors.api_aware_404):
    before, a POST there got CsrfViewMiddleware's 403 HTML page."""
    response = Client(enforce_csrf_checks=True).post(path, {}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_found"
