"""One language per answer, names included: under ``Accept-Language: en`` a category's or a
policy's ``name`` is its English name, under zh-hans (and without the header) its Chinese one;
both stay available as ``name_zh`` / ``name_en``. Every answer that names one: the policy, a
quote, a sale's first answer and its ``GET`` (after a return: a return's answer names no
category), the catalogue, the look-up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from quotas.models import Policy
from tests import support

pytestmark = pytest.mark.django_db

EN, ZH = "en", "zh-hans"
# The shipped policy in force today and one of its categories, in both languages.
POLICY = {
    EN: "Offshore duty-free 2025-11 (47 categories)",
    ZH: "离岛免税政策 2025年11月版（47类商品）",
}
COSMETICS = {EN: "Cosmetics", ZH: "化妆品"}
LANGUAGES = pytest.mark.parametrize("language", [EN, ZH])


@pytest.fixture
def till() -> dict[str, str]:
    support.product("NAME-LIP", "cosmetics", "320.00")
    _terminal, key = support.terminal("SYA-HTB")
    return {"authorization": f"Bearer {key}"}


def post(client: Client, url: str, data: Any, headers: dict[str, str]) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def basket() -> dict[str, Any]:
    return support.json_basket(support.basket(("NAME-LIP", 2)))


def assert_category(found: dict[str, Any], language: str) -> None:
    assert found == {
        "code": "cosmetics",
        "name": COSMETICS[language],
        "name_zh": COSMETICS[ZH],
        "name_en": COSMETICS[EN],
    }


class TestThePolicy:
    @LANGUAGES
    def test_its_name_follows_the_request(self, client: Client, language: str) -> None:
        answer = client.get("/api/v1/policy", headers={"accept-language": language}).json()

        assert answer["name"] == POLICY[language]
        assert (answer["name_zh"], answer["name_en"]) == (POLICY[ZH], POLICY[EN])

    def test_without_the_header_it_is_chinese(self, client: Client) -> None:
        assert client.get("/api/v1/policy").json()["name"] == POLICY[ZH]

    def test_every_policy_has_both_names(self) -> None:
        assert not Policy.objects.filter(name_zh="").exists()
        assert not Policy.objects.filter(name_en="").exists()


class TestATill:
    @LANGUAGES
    def test_a_quote_names_its_policy_and_categories(
        self, client: Client, till: dict, language: str
    ) -> None:
        headers = {**till, "accept-language": language}

        answer = post(client, "/api/v1/quotes", basket(), headers).json()

        policy = answer["policy"]
        assert policy["name"] == POLICY[language]
        assert (policy["name_zh"], policy["name_en"]) == (POLICY[ZH], POLICY[EN])
        assert_category(answer["lines"][0]["category"], language)

    @LANGUAGES
    def test_a_sale_its_return_and_its_page(
        self, client: Client, till: dict, language: str
    ) -> None:
        headers = {**till, "accept-language": language}

        sale = post(client, "/api/v1/sales", basket(), {**headers, "idempotency-key": "n-1"})
        assert sale.status_code == 201, sale.content
        sale_id, line_id = sale.json()["id"], sale.json()["lines"][0]["id"]
        returned = post(
            client,
            f"/api/v1/sales/{sale_id}/returns",
            {"lines": [{"line": line_id, "quantity": 1}], "reason": "changed mind"},
            {**headers, "idempotency-key": "n-2"},
        )
        shown = client.get(f"/api/v1/sales/{sale_id}", headers=headers)

        assert_category(sale.json()["lines"][0]["category"], language)
        assert returned.status_code == 201, returned.content
        assert_category(shown.json()["lines"][0]["category"], language)

    @LANGUAGES
    def test_the_catalogue(self, client: Client, till: dict, language: str) -> None:
        headers = {**till, "accept-language": language}

        answer = client.get("/api/v1/products?sku=NAME-LIP", headers=headers).json()

        assert_category(answer["results"][0]["category"], language)


class TestTheLookUp:
    @LANGUAGES
    def test_a_trips_categories_are_named_in_the_request_language(
        self, client: Client, till: dict, language: str
    ) -> None:
        sale = post(client, "/api/v1/sales", basket(), {**till, "idempotency-key": "n-3"})
        assert sale.status_code == 201, sale.content
        who = basket()["shopper"]

        answer = post(
            client,
            "/api/v1/quota-lookup",
            {"document": who["document"], "name": who["name"]},
            {"accept-language": language},
        ).json()

        limits = {x["category"]: x["name"] for x in answer["open_trips"][0]["trip_limits"]}
        assert limits["cosmetics"] == COSMETICS[language]
