"""Every request example of ``/api/schema/``, sent as it is, succeeds (2xx) against the demo data,
and answers what the response example shows.

The demo data is ``manage.py seed_demo --days 0`` on a fresh database (sequences from 1, as on a
new ``make run`` database): the demo catalogue, the demo terminal ``demo-1`` of SYA-HTB, the
demo shopper and her three purchases (sale 1 is the first). Each operation starts from that
state. The staff operations use a token from ``create_staff_token``.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.test import Client, override_settings
from drf_spectacular.generators import SchemaGenerator

from shops.management.commands.seed_demo import DEMO_TERMINAL_PREFIX, DEMO_TERMINAL_SECRET

DEMO_TERMINAL_KEY = f"df_{DEMO_TERMINAL_PREFIX}_{DEMO_TERMINAL_SECRET}"

# Members of an answer that differ from run to run: random receipt tokens, clock times,
# measured durations, messages in the request's language. Compared by kind only.
VOLATILE = {
    "receipt_no",
    "sold_at",
    "created_at",
    "voided_at",
    "picked_up_at",
    "departs_at",
    "departed_at",
    "as_of",
    "generated_at",
    "ms",
    "message",
}
# Lists the example shows a part of (the policy's 47 categories, the day's sales, ...).
PARTIAL = {"categories", "results", "purchases", "groups"}
# Figures that depend on a sales history the test database does not have (illustrative).
ILLUSTRATIVE = {
    ("get", "/api/v1/stats/sales"),
    ("get", "/api/v1/terminal-report"),
    ("post", "/api/v1/policy-previews"),
    ("get", "/api/v1/policy-previews/{preview_id}"),
}


def _operations() -> list[Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        pytest.param(method, path, id=f"{method} {path}")
        for path, item in schema["paths"].items()
        for method in item
    ]


@pytest.fixture
def demo(client: Client) -> dict[str, Any]:
    """The demo data, then the document as served now (its times relative to now)."""
    # reset_sequences restarted every sequence at 1, then serialized_rollback put back the
    # migrations' rows (policies, stores...) under their own ids: move each sequence past its
    # table's rows, or the next insert there (in this test or a later one) collides.
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(statement)
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--days", "0", stdout=io.StringIO())
    out = io.StringIO()
    call_command("create_staff_token", "it-department", stdout=out)
    staff_token = out.getvalue().strip().splitlines()[-1]
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return {"schema": json.loads(response.content), "staff_token": staff_token}


def credentials(operation: dict[str, Any], staff_token: str) -> dict[str, str]:
    names = {name for requirement in operation.get("security") or [{}] for name in requirement}
    if "terminalKey" in names:
        return {"authorization": f"Bearer {DEMO_TERMINAL_KEY}"}
    if "tokenAuth" in names:
        return {"authorization": f"Token {staff_token}"}
    return {}


def request_of(path: str, operation: dict[str, Any]) -> tuple[str, dict[str, str], list[Any]]:
    """The URL, headers and bodies the examples give; a required parameter without an example
    fails the test."""
    query, headers = {}, {}
    for parameter in operation.get("parameters", ()):
        name, where = parameter["name"], parameter["in"]
        examples = [example["value"] for example in parameter.get("examples", {}).values()]
        if not examples:
            assert not parameter.get("required"), f"required {where} {name} has no example"
            continue
        (value,) = examples
        if where == "path":
            path = path.replace("{" + name + "}", str(value))
        elif where == "query":
            query[name] = value
        elif where == "header":
            headers[name] = str(value)
    content = operation.get("requestBody", {}).get("content", {})
    bodies = [
        example["value"]
        for media in content.values()
        for example in media.get("examples", {}).values()
    ]
    if operation.get("requestBody", {}).get("required"):
        assert bodies, "a required body without an example"
    url = f"{path}?{urlencode(query)}" if query else path
    return url, headers, bodies or [None]


def consistent(example: Any, actual: Any, where: str = "") -> list[str]:
    """Where the answer differs from the example: every member the example shows must be in the
    answer with the same value (VOLATILE ones: the same kind; PARTIAL lists: each item the
    example shows matches one of the answer's)."""
    name = where.rsplit(".", 1)[-1]
    if name in VOLATILE:
        same_kind = (example is None) == (actual is None)
        return [] if same_kind else [f"{where}: {example!r} vs {actual!r}"]
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{where}: not an object: {actual!r}"]
        return [
            problem
            for key, value in example.items()
            for problem in (
                consistent(value, actual[key], f"{where}.{key}")
                if key in actual
                else [f"{where}.{key}: missing from the answer"]
            )
        ]
    if isinstance(example, list):
        if not isinstance(actual, list):
            return [f"{where}: not a list: {actual!r}"]
        if name in PARTIAL:
            return [
                f"{where}[{number}]: no such item in the answer: {item!r}"
                for number, item in enumerate(example)
                if all(consistent(item, candidate, f"{where}[]") for candidate in actual)
            ]
        if len(example) != len(actual):
            return [f"{where}: {len(example)} items vs {len(actual)}"]
        return [
            problem
            for number, (item, other) in enumerate(zip(example, actual, strict=True))
            for problem in consistent(item, other, f"{where}[{number}]")
        ]
    return [] if example == actual else [f"{where}: example {example!r}, answer {actual!r}"]


# Objects keyed by what the data holds (a preview's violation codes, categories, stores).
KEYED = {"by_code", "by_category", "by_store"}


def shape(example: Any, actual: Any, where: str = "") -> list[str]:
    """For illustrative figures: the members the example shows are in the answer (an object
    keyed by the data's codes: an object)."""
    if where.rsplit(".", 1)[-1] in KEYED:
        return [] if isinstance(actual, dict) else [f"{where}: not an object: {actual!r}"]
    if isinstance(example, dict) and isinstance(actual, dict):
        return [
            problem
            for key, value in example.items()
            for problem in (
                shape(value, actual[key], f"{where}.{key}")
                if key in actual
                else [f"{where}.{key}: missing from the answer"]
            )
        ]
    return []


def send(client: Client, demo: dict[str, Any], method: str, path: str) -> list[tuple[Any, Any]]:
    """Send the operation's examples as they are: (answer, response examples) for each, after
    checking it succeeded."""
    operation = demo["schema"]["paths"][path][method]
    url, headers, bodies = request_of(path, operation)
    headers.update(credentials(operation, demo["staff_token"]))
    sent = []
    for body in bodies:
        response = client.generic(
            method.upper(),
            url,
            data=json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=headers,
        )
        assert 200 <= response.status_code < 300, (url, response.status_code, response.content)
        documented = operation["responses"][str(response.status_code)]
        examples = [
            example["value"]
            for content in documented.get("content", {}).values()
            for example in content.get("examples", {}).values()
        ]
        assert examples, f"{method.upper()} {path} {response.status_code}: no response example"
        sent += [(response.json(), example) for example in examples]
    return sent


EXAMPLES = pytest.mark.django_db(transaction=True, reset_sequences=True, serialized_rollback=True)


@EXAMPLES
@pytest.mark.parametrize(("method", "path"), _operations())
def test_the_example_succeeds_as_it_is_and_answers_as_shown(
    client: Client, demo: dict[str, Any], method: str, path: str
) -> None:
    compare = shape if (method, path) in ILLUSTRATIVE else consistent
    for answer, example in send(client, demo, method, path):
        differences = compare(example, answer)
        assert not differences, "\n".join(differences)
