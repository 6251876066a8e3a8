"""GET /api/v1/policy?at= as the contract (../shared/API.md) says."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
URL = "/api/v1/policy"


def get(client: Client, **params: str):
    return client.get(URL, params)


class TestPolicyApi:
    def test_default_is_the_policy_in_force_now(self, client: Client) -> None:
        response = client.get(URL)
        assert response.status_code == 200
        body = response.json()
        assert body["effective_from"] == "2025-11-01T00:00:00+08:00"
        assert len(body["categories"]) == 47

    def test_the_shape_of_the_answer(self, client: Client) -> None:
        body = get(client, at="2026-01-01T00:30:00+08:00").json()
        assert set(body) >= {
            "id",
            "name",
            "effective_from",
            "annual_limit",
            "min_age",
            "traveller_kinds",
            "pickup_rules",
            "categories",
            "immediate_pickup",
        }
        assert body["annual_limit"] == "100000.00"
        assert body["min_age"] == 18
        assert body["traveller_kinds"] == ["domestic", "outbound", "resident_outbound_record"]
        assert body["pickup_rules"]["immediate_max_unit_price_exclusive"] == "20000.00"
        assert body["pickup_rules"]["guarantee_min_unit_price"] == "50000.00"
        assert body["pickup_rules"]["departure_deadline_days"] == 30
        assert body["pickup_rules"]["outbound_modes"] == ["departure"]
        cosmetics = body["categories"][4]
        assert cosmetics == {
            "number": 5,
            "code": "cosmetics",
            "name_zh": "化妆品",
            "name_en": "Cosmetics",
            "per_trip_limit": {"unit": "piece", "value": 30},
            "immediate_pickup": True,
            "verified": "name_and_number",
            "note": cosmetics["note"],
        }
        assert body["categories"][0]["per_trip_limit"] is None
        assert [c["number"] for c in body["categories"]] == list(range(1, 48))

    def test_one_second_before_the_2025_version(self, client: Client) -> None:
        body = get(client, at="2025-10-31T23:59:59+08:00").json()
        assert (len(body["categories"]), body["min_age"]) == (45, 16)
        assert body["traveller_kinds"] == ["domestic"]
        assert body["pickup_rules"]["outbound_modes"] == []

    def test_the_instant_the_2025_version_takes_effect(self, client: Client) -> None:
        body = get(client, at="2025-10-31T16:00:00Z").json()
        assert (len(body["categories"]), body["min_age"]) == (47, 18)

    def test_an_empty_time_means_now(self, client: Client) -> None:
        assert get(client, at="").json()["effective_from"] == "2025-11-01T00:00:00+08:00"

    def test_a_time_without_offset_is_shanghai_time(self, client: Client) -> None:
        assert get(client, at="2025-11-01T00:00:00").json()["min_age"] == 18
        assert get(client, at="2025-10-31T23:59:59").json()["min_age"] == 16

    def test_before_any_policy_is_a_problem(self, client: Client) -> None:
        response = get(client, at="2019-01-01T00:00:00+08:00")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "no_policy_in_force"
        assert body["status"] == 404
        assert body["type"].endswith("no_policy_in_force")

    @pytest.mark.parametrize("value", ["yesterday", "2025-13-01T00:00:00", "9" * 5000, "\x00"])
    def test_a_bad_time_is_a_clear_400(self, client: Client, value: str) -> None:
        response = get(client, at=value)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "invalid_input"
        assert "at" in body["errors"]

    @pytest.mark.parametrize(
        "value",
        [
            "0001-01-01",  # read as Shanghai time: before the calendar's first instant in UTC
            "0001-01-01T07:59:59",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",  # after its last
        ],
    )
    @pytest.mark.parametrize(
        ("language", "message"),
        [("en", "Datetime value out of range."), ("zh-hans", "时间数值超出有效范围。")],
    )
    def test_an_instant_outside_the_calendar_is_a_400_in_the_request_language(
        self, client: Client, value: str, language: str, message: str
    ) -> None:
        response = client.get(URL, {"at": value}, headers={"accept-language": language})
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid_input"
        assert body["errors"] == {"at": [message]}

    @pytest.mark.parametrize(
        "value", ["9999-12-31", "9999-12-31T23:59:59", "9999-12-31T23:59:59+14:00"]
    )
    def test_the_last_day_of_the_calendar_has_the_newest_policy(
        self, client: Client, value: str
    ) -> None:
        response = get(client, at=value)
        assert response.status_code == 200, response.content
        assert response.json()["effective_from"] == "2025-11-01T00:00:00+08:00"

    def test_errors_follow_the_request_language(self, client: Client) -> None:
        response = client.get(URL, {"at": "nope"}, headers={"accept-language": "en"})
        assert "valid datetime in ISO 8601" in response.json()["errors"]["at"][0]

    def test_other_methods_are_refused_as_problems(self, client: Client) -> None:
        response = client.post(URL, {}, content_type="application/json")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"
