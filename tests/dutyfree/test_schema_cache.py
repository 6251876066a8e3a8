"""``/api/schema/`` is generated once per language and deployed code (dutyfree.schema)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from dutyfree import schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def generations():
    with mock.patch.object(
        SchemaGenerator, "get_schema", autospec=True, side_effect=SchemaGenerator.get_schema
    ) as spy:
        yield spy


def fetch(client: Client, language: str, **extra: str):
    response = client.get("/api/schema/", headers={"accept-language": language, **extra})
    assert response.status_code == 200
    return response


def test_generated_once_per_language(client: Client, generations) -> None:
    zh = [fetch(client, "zh-hans").content for _ in range(3)]
    en = [fetch(client, "en").content for _ in range(3)]

    assert generations.call_count == 2
    assert len(set(zh)) == len(set(en)) == 1
    assert zh[0] != en[0]
    assert "离岛".encode() in zh[0]


def test_the_cached_document_is_the_generated_one(client: Client, generations) -> None:
    first = fetch(client, "en", accept="application/vnd.oai.openapi+json")
    again = fetch(client, "en", accept="application/vnd.oai.openapi+json")
    yaml = fetch(client, "en")

    assert generations.call_count == 1
    assert first.json() == again.json()
    assert first["Content-Disposition"] == 'inline; filename="dutyfree API.json"'
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"openapi: 3.1.0" in yaml.content


def test_another_deployment_generates_its_own(client: Client, generations) -> None:
    fetch(client, "en")
    with mock.patch.object(schema, "code_version", return_value="another-deploy"):
        fetch(client, "en")

    assert generations.call_count == 2


def test_the_code_version_is_a_digest_of_the_code() -> None:
    assert schema.code_version() == schema.code_version()
    assert len(schema.code_version()) == 16
