"""The look-up page's CAPTCHA costs a database row per challenge: a client is shown its
pending challenge again instead of a new row per GET, new ones (the page's and the refresh
view's) are counted per client address (``CAPTCHA_RATE``), and a challenge's image, drawn
from its key alone, may be kept by the browser."""

from __future__ import annotations

import re
import time

import pytest
from captcha.models import CaptchaStore
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

REFRESH = "/captcha/refresh/"
PROBLEM = "application/problem+json"


def shown(client: Client, url: str = "/quota/", **extra: str) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, response.status_code
    return re.search(r'name="captcha_0" value="([^"]+)"', response.content.decode()).group(1)  # type: ignore[union-attr]


def refresh(client: Client, **extra: str):
    return client.get(REFRESH, HTTP_X_REQUESTED_WITH="XMLHttpRequest", **extra)


def steady_minute() -> None:
    if 60 - time.time() % 60 < 5:
        time.sleep(6)


class TestRowsPerClient:
    def test_fifty_page_loads_make_one_row(self, client: Client) -> None:
        keys = {shown(client) for _ in range(50)}

        assert len(keys) == 1
        assert CaptchaStore.objects.count() == 1

    def test_each_address_has_its_own(self, client: Client) -> None:
        mine = shown(client, REMOTE_ADDR="203.0.113.1")
        theirs = shown(client, REMOTE_ADDR="203.0.113.2")

        assert mine != theirs
        assert CaptchaStore.objects.count() == 2

    def test_an_answered_challenge_is_never_shown_again(self, client: Client) -> None:
        key = shown(client)
        client.post("/quota/", {"captcha_0": key, "captcha_1": "0"})  # attempted: gone

        assert shown(client) != key
        assert not CaptchaStore.objects.filter(hashkey=key).exists()

    @override_settings(CAPTCHA_RATE="3/60")
    def test_another_sum_without_script_is_counted_and_then_the_pending_one(
        self, client: Client
    ) -> None:
        steady_minute()
        keys = [shown(client, "/quota/?sum=new") for _ in range(6)]

        assert len(set(keys[:3])) == 3
        assert keys[3:] == [keys[2]] * 3  # beyond the rate: the pending one again
        assert CaptchaStore.objects.count() == 3


class TestRefresh:
    @override_settings(CAPTCHA_RATE="3/60")
    @pytest.mark.parametrize(
        ("language", "title"), [("en", "Too many requests"), ("zh-hans", "请求过于频繁")]
    )
    def test_refresh_is_throttled_per_address(
        self, client: Client, language: str, title: str
    ) -> None:
        steady_minute()
        answers = [refresh(client, HTTP_ACCEPT_LANGUAGE=language) for _ in range(5)]

        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        refused = answers[3]
        assert refused["Content-Type"] == PROBLEM
        assert (refused.json()["code"], refused.json()["title"]) == ("throttled", title)
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert CaptchaStore.objects.count() == 3
        assert refresh(client, REMOTE_ADDR="198.51.100.7").status_code == 200

    def test_the_page_then_shows_the_refreshed_sum(self, client: Client) -> None:
        fresh = refresh(client).json()

        assert shown(client) == fresh["key"]

    def test_only_for_the_page_script(self, client: Client) -> None:
        assert client.get(REFRESH).status_code == 404
        assert not CaptchaStore.objects.exists()


class TestImage:
    def test_the_image_of_a_key_may_be_kept(self, client: Client) -> None:
        key = shown(client)
        first = client.get(f"/captcha/image/{key}/")
        again = client.get(f"/captcha/image/{key}/")

        assert first.status_code == 200
        assert first["Content-Type"] == "image/png"
        control = {part.strip() for part in first["Cache-Control"].split(",")}
        assert {"private", "max-age=600", "immutable"} <= control
        assert first.content == again.content  # drawn from the key alone

    def test_the_image_of_a_key_is_drawn_once(self, client: Client, monkeypatch) -> None:
        from captcha import views as captcha_views

        drawn = []
        draw = captcha_views.captcha_image
        monkeypatch.setattr(
            captcha_views, "captcha_image", lambda *a, **k: drawn.append(1) or draw(*a, **k)
        )
        key = shown(client)
        answers = [client.get(f"/captcha/image/{key}/") for _ in range(5)]

        assert len(drawn) == 1  # the next four come from the cache
        assert {answer.content for answer in answers} == {answers[0].content}
        assert {answer["Content-Type"] for answer in answers} == {"image/png"}
        assert all("immutable" in answer["Cache-Control"] for answer in answers)

    def test_a_key_that_is_gone_is_not_kept(self, client: Client) -> None:
        response = client.get("/captcha/image/0123456789abcdef0123456789abcdef01234567/")

        assert response.status_code == 410
        assert "max-age" not in response.get("Cache-Control", "")
