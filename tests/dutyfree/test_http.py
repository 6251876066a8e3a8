"""Health, problem+json for every API error, OpenAPI and docs served without a CDN."""

from __future__ import annotations

import pytest
from django.test import Client

from dutyfree import health


@pytest.mark.django_db
class TestHealthz:
    def test_healthy(self, client: Client) -> None:
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["cache"]["ok"] is True

    def test_a_failing_cache_is_503(self, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
        def broken() -> None:
            raise ConnectionError("redis down")

        monkeypatch.setitem(health.CHECKS, "cache", broken)
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
        assert body["checks"]["database"]["ok"] is True

    def test_a_failing_database_is_503(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken() -> None:
            raise OSError("connection refused")

        monkeypatch.setitem(health.CHECKS, "database", broken)
        assert client.get("/healthz").status_code == 503


class TestProblems:
    def test_unknown_api_path(self, client: Client) -> None:
        response = client.get("/api/v1/no-such-thing")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"

    @pytest.mark.django_db
    def test_malformed_json_body(self, client: Client) -> None:
        response = client.generic(
            "GET", "/api/v1/policy", "{not json", content_type="application/json"
        )
        assert response.status_code in {200, 400}  # GET ignores bodies; never a 500


@pytest.mark.django_db
class TestOpenApi:
    def test_schema_lists_the_policy_endpoint(self, client: Client) -> None:
        response = client.get("/api/schema/", headers={"accept": "application/json"})
        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert "/api/v1/policy" in schema["paths"]

    def test_docs_come_from_the_sidecar_not_a_cdn(self, client: Client) -> None:
        response = client.get("/api/docs/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "drf_spectacular_sidecar/swagger-ui-dist" in html
        assert "cdn" not in html.lower()


@pytest.mark.django_db
def test_the_schema_generates_without_warnings_and_validates(tmp_path) -> None:
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/sales:", "/api/v1/quotes:", "/api/v1/sales/{sale_id}/returns:"):
        assert path in text
    assert "terminalKey" in text
