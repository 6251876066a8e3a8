"""The OpenAPI document (``/api/schema/``): valid, every operation tagged and summarised, its
examples valid against their own schemas, the response headers and credentials declared.

The examples are sent for real in test_openapi_examples.py; a client generated from the
document makes a sale in test_openapi_client.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shops.api import openapi
from shops.demo.seed import demo_products
from tests import support

TAGS = {
    "quotes",
    "sales",
    "returns",
    "departures",
    "catalogue",
    "shoppers",
    "policy",
    "stats",
    "policy previews",
    "health",
}
LANGUAGES = ["zh-hans", "en"]


def served(client: Client, language: str) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json", headers={"accept-language": language})
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


@pytest.fixture(params=LANGUAGES)
def schema(request: pytest.FixtureRequest, client: Client) -> dict[str, Any]:
    return served(client, request.param)


class TestValidity:
    @pytest.mark.django_db
    def test_the_served_document_is_valid_openapi(self, schema: dict[str, Any]) -> None:
        validate(schema)  # raises on the first error, with its path

    @pytest.mark.django_db
    def test_the_languages_differ_only_in_text(self, client: Client) -> None:
        zh, en = (served(client, language) for language in LANGUAGES)
        assert (
            zh["paths"]["/api/v1/sales"]["post"]["summary"]
            != (en["paths"]["/api/v1/sales"]["post"]["summary"])
        )
        assert [(m, p, o["operationId"], o["tags"]) for m, p, o in operations(zh)] == [
            (m, p, o["operationId"], o["tags"]) for m, p, o in operations(en)
        ]


class TestOperations:
    @pytest.mark.django_db
    def test_every_operation_has_a_summary_and_one_known_tag(self, schema: dict[str, Any]):
        missing = [
            f"{method.upper()} {path}"
            for method, path, operation in operations(schema)
            if not operation.get("summary")
            or len(operation.get("tags", ())) != 1
            or operation["tags"][0] not in TAGS
        ]
        assert not missing, (
            f"operations without a summary or a tag (extend_schema beside the view): {missing}"
        )

    @pytest.mark.django_db
    def test_every_success_answer_says_what_it_is(self, schema: dict[str, Any]) -> None:
        blank = [
            f"{method.upper()} {path} {status}"
            for method, path, operation in operations(schema)
            for status, response in operation["responses"].items()
            if not response.get("description")
        ]
        assert not blank

    @pytest.mark.django_db
    def test_the_chinese_document_is_in_chinese(self, client: Client) -> None:
        schema = served(client, "zh-hans")
        texts = [operation["summary"] for _, _, operation in operations(schema)]
        texts += [tag["description"] for tag in schema["tags"]]
        texts += [
            scheme["description"] for scheme in schema["components"]["securitySchemes"].values()
        ]
        texts.append(schema["info"]["description"])
        assert [text for text in texts if not CHINESE.search(text)] == []

    @pytest.mark.django_db
    def test_every_tag_is_declared_with_a_description(self, schema: dict[str, Any]) -> None:
        declared = {tag["name"]: tag.get("description") for tag in schema["tags"]}
        used = {operation["tags"][0] for _, _, operation in operations(schema)}
        assert set(declared) == used  # no empty group in Swagger UI
        assert all(declared.values())

    def test_every_tag_is_described_in_the_hook(self) -> None:
        assert set(openapi.TAGS) == TAGS

    @pytest.mark.django_db
    def test_the_health_endpoint_is_documented(self, schema: dict[str, Any]) -> None:
        operation = schema["paths"]["/healthz"]["get"]
        assert operation["tags"] == ["health"]
        assert operation["security"] == []


def _resolve_refs(node: Any) -> Any:
    """``#/components/...`` refs point into the document: make them absolute."""
    if isinstance(node, dict):
        return {
            key: (
                "urn:schema" + value
                if key == "$ref" and value.startswith("#")
                else _resolve_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_resolve_refs(value) for value in node]
    return node


CHINESE = re.compile(r"[\u4e00-\u9fff]")
MONEY = re.compile(r"^-?\d+\.\d{2}$")


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return [node] if isinstance(node, str) else []


def every_example(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) for every example: request bodies, parameters, responses."""
    found = []
    for method, path, operation in operations(schema):
        where = f"{method.upper()} {path}"
        for parameter in operation.get("parameters", ()):
            for name, example in parameter.get("examples", {}).items():
                found.append(
                    (f"{where} {parameter['name']} {name}", parameter["schema"], example["value"])
                )
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            for name, example in content.get("examples", {}).items():
                found.append((f"{where} body {media} {name}", content["schema"], example["value"]))
        for status, response in operation.get("responses", {}).items():
            for media, content in response.get("content", {}).items():
                for name, example in content.get("examples", {}).items():
                    found.append(
                        (f"{where} {status} {media} {name}", content["schema"], example["value"])
                    )
    return found


class TestExamples:
    @pytest.mark.django_db
    def test_every_example_is_valid_against_its_schema(self, schema: dict[str, Any]) -> None:
        registry = Registry().with_resource(
            "urn:schema", Resource(contents=_resolve_refs(schema), specification=DRAFT202012)
        )
        examples = every_example(schema)
        assert len(examples) > 20
        wrong = []
        for where, subschema, value in examples:
            validator = Draft202012Validator(
                _resolve_refs(subschema),
                registry=registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            wrong += [f"{where}: {error.message}" for error in validator.iter_errors(value)]
        assert not wrong, "\n".join(wrong)

    @pytest.mark.django_db
    def test_every_operation_with_a_body_has_a_request_example(self, schema: dict[str, Any]):
        without = [
            f"{method.upper()} {path}"
            for method, path, operation in operations(schema)
            for content in operation.get("requestBody", {}).get("content", {}).values()
            if not content.get("examples")
        ]
        assert not without

    @pytest.mark.django_db
    def test_every_success_answer_has_an_example(self, schema: dict[str, Any]) -> None:
        without = [
            f"{method.upper()} {path} {status}"
            for method, path, operation in operations(schema)
            for status, response in operation["responses"].items()
            if status.startswith("2")
            for content in response.get("content", {}).values()
            if not content.get("examples")
        ]
        assert not without

    @pytest.mark.django_db
    def test_the_example_skus_are_in_the_demo_catalogue(self, schema: dict[str, Any]) -> None:
        catalogue = {product.sku for product in demo_products()}
        body = schema["paths"]["/api/v1/sales"]["post"]["requestBody"]["content"]
        lines = body["application/json"]["examples"]["Demo"]["value"]["lines"]
        assert lines
        assert {line["sku"] for line in lines} <= catalogue

    @pytest.mark.django_db
    def test_no_example_is_what_the_issue_found(self, schema: dict[str, Any]) -> None:
        """Swagger UI made up a 40-digit total, ``"trip": null`` and a birth date of today."""
        values = [value for _, _, value in every_example(schema)]
        money = [text for text in strings(values) if MONEY.match(text)]
        assert money
        assert all(len(text) <= 13 for text in money), money
        bodies = [value for value in values if isinstance(value, dict) and "shopper" in value]
        assert bodies
        assert all(body.get("trip") for body in bodies)
        assert all(
            body["shopper"]["birth_date"] < f"{timezone.localdate().year - 18}" for body in bodies
        )


class TestHeadersAndCredentials:
    @pytest.mark.django_db
    def test_the_sale_declares_location_and_replay(self, schema: dict[str, Any]) -> None:
        created = schema["paths"]["/api/v1/sales"]["post"]["responses"]["201"]["headers"]
        assert set(created) == {"Location", "Idempotent-Replayed"}
        returned = schema["paths"]["/api/v1/sales/{sale_id}/returns"]["post"]["responses"]
        assert set(returned["201"]["headers"]) == {"Idempotent-Replayed"}
        assert set(schema["components"]["headers"]) >= {
            "Location",
            "Idempotent-Replayed",
            "Retry-After",
        }

    @pytest.mark.django_db
    def test_every_429_and_503_declares_retry_after(self, schema: dict[str, Any]) -> None:
        answers = [
            (f"{method} {path} {status}", response)
            for method, path, operation in operations(schema)
            if path != "/healthz"
            for status, response in operation["responses"].items()
            if status in {"429", "503"}
        ]
        assert any(" 429" in where for where, _ in answers)
        assert [
            where for where, response in answers if "Retry-After" not in response.get("headers", {})
        ] == []

    @pytest.mark.django_db
    def test_the_credentials_say_how_to_send_them(self, schema: dict[str, Any]) -> None:
        schemes = schema["components"]["securitySchemes"]
        assert schemes["terminalKey"]["scheme"] == "bearer"
        assert "Bearer df_" in schemes["terminalKey"]["description"]
        assert schemes["tokenAuth"]["name"] == "Authorization"
        assert "Token <key>" in schemes["tokenAuth"]["description"]


class TestHeadersOccur:
    """The headers the document declares are sent where it says."""

    @pytest.mark.django_db
    def test_a_sale_answers_location_and_a_replay_says_so(self, client: Client) -> None:
        support.product("OA-LIP", "cosmetics", "300.00")
        _, key = support.terminal("SYA-HTB")
        body = {
            "shopper": {
                "document": {"type": "resident_id", "number": "460100199001011230"},
                "name": "张三",
                "birth_date": "1990-01-01",
            },
            "trip": {
                "mode": "air",
                "kind": "domestic",
                "carrier_ref": "HU7181",
                "departs_at": support.DEPARTS.isoformat(),
            },
            "pickup": "departure",
            "lines": [{"sku": "OA-LIP", "quantity": 1}],
        }
        headers = {"authorization": f"Bearer {key}", "idempotency-key": "oa-1"}
        first, again = (
            client.post("/api/v1/sales", body, content_type="application/json", headers=headers)
            for _ in range(2)
        )
        assert first.status_code == again.status_code == 201
        assert first["Location"] == f"/api/v1/sales/{first.json()['id']}"
        assert "Idempotent-Replayed" not in first
        assert again["Idempotent-Replayed"] == "true"

    @pytest.mark.django_db
    def test_a_throttled_lookup_says_when_to_retry(self, client: Client) -> None:
        body = {"document": {"type": "passport", "number": "E12345678"}, "name": "LI LEI"}
        with override_settings(QUOTA_LOOKUP_RATE="1/60"):
            answers = [
                client.post("/api/v1/quota-lookup", body, content_type="application/json")
                for _ in range(2)
            ]
        assert [answer.status_code for answer in answers] == [200, 429]
        assert int(answers[1]["Retry-After"]) > 0

    @pytest.mark.django_db
    def test_no_credentials_say_which_scheme(self, client: Client) -> None:
        terminal = client.get("/api/v1/sales/1")
        staff = client.get("/api/v1/stats/sales?start=2026-01-01&end=2026-01-02")
        assert terminal.status_code == 401
        assert terminal["WWW-Authenticate"].startswith("Bearer")
        assert staff.status_code == 401
        assert staff["WWW-Authenticate"] == "Token"
