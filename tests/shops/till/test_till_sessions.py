"""The till's sign-in at /pos/: a terminal's key exchanged for an HttpOnly session cookie that
the API takes in place of the key, CSRF-checked on writes, ended by the shift, a sign-out, a
revoked terminal or a closed store."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shops.models import Sale, Store, TillSession
from shops.till import sessions
from tests.support.sales import basket, json_basket
from tests.support.shop import terminal

pytestmark = pytest.mark.django_db


def signed_in(client: Client, key: str) -> Client:
    """``client`` signed in with ``key`` through the sign-in form (its CSRF token included)."""
    html = client.get("/pos/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    answer = client.post("/pos/sign-in", {"key": key, "csrfmiddlewaretoken": token})
    assert answer.status_code == 303, answer.content
    return client


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token(client: Client) -> str:
    """The token the page gives its modules (``data-csrf``)."""
    html = client.get("/pos/").content.decode()
    return re.search(r'data-csrf="([^"]+)"', html).group(1)


class TestSignIn:
    def test_a_key_becomes_an_http_only_strict_cookie_that_is_not_the_key(self) -> None:
        _, key = terminal()
        client = Client()
        answer = client.post("/pos/sign-in", {"key": key})
        assert answer.status_code == 303
        assert answer["Location"] == "/pos/"
        cookie = answer.cookies[sessions.COOKIE]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["path"] == "/"
        assert key not in cookie.value
        assert key.split("_", 2)[2] not in cookie.value
        stored = TillSession.objects.get()
        assert cookie.value not in stored.token_hash  # only the token's hash is kept

    def test_signing_in_again_ends_the_browsers_earlier_session(self) -> None:
        _, key = terminal()
        client = signed_in(Client(), key)
        earlier = client.cookies[sessions.COOKIE].value
        csrf = client.cookies["csrftoken"].value
        signed_in(client, key)
        assert TillSession.objects.count() == 1
        assert client.cookies[sessions.COOKIE].value != earlier
        assert client.cookies["csrftoken"].value != csrf  # rotated with the credential
        stale = Client()
        stale.cookies[sessions.COOKIE] = earlier
        assert stale.get("/api/v1/products?sku=X").status_code == 401

    def test_the_shift_ends_after_the_setting_hours(self, settings) -> None:
        settings.TILL_SHIFT_HOURS = 6
        _, key = terminal()
        before = timezone.now()
        Client().post("/pos/sign-in", {"key": key})
        session = TillSession.objects.get()
        assert timedelta(hours=6) <= session.expires_at - before < timedelta(hours=6, minutes=1)

    @pytest.mark.parametrize(
        ("language", "words"), [("en", "no active terminal"), ("zh-hans", "不属于任何有效终端")]
    )
    def test_a_wrong_key_is_told_in_the_cashiers_language(self, language, words) -> None:
        _, key = terminal()
        client = Client(headers={"accept-language": language})
        answer = client.post("/pos/sign-in", {"key": key[:-2] + "xx"})
        assert answer.status_code == 400
        assert words in answer.content.decode()
        assert sessions.COOKIE not in answer.cookies
        assert not TillSession.objects.exists()

    def test_a_revoked_terminal_cannot_sign_in(self) -> None:
        t, key = terminal()
        t.revoked_at = timezone.now()
        t.save()
        assert Client().post("/pos/sign-in", {"key": key}).status_code == 400

    def test_the_page_never_holds_the_key(self) -> None:
        _, key = terminal()
        client = signed_in(Client(), key)
        page = client.get("/pos/")
        assert page.status_code == 200
        assert key.split("_", 2)[2] not in page.content.decode()
        assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]

    def test_the_page_is_served_under_the_csp_without_inline_script_or_style(self) -> None:
        _, key = terminal()
        page = signed_in(Client(), key).get("/pos/")
        policy = page["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        html = page.content.decode()
        assert "<style" not in html
        assert " style=" not in html
        # The only inline script element is json_script's data block, never executed.
        scripts = html.count("<script")
        assert scripts == html.count('type="application/json"') + html.count('type="module" src=')

    def test_sign_ins_are_throttled_per_address(self, settings) -> None:
        settings.TILL_SIGN_IN_RATE = "2/60"
        _, key = terminal()
        client = Client()
        for _ in range(2):
            client.post("/pos/sign-in", {"key": "df_x_y"})
        answer = client.post("/pos/sign-in", {"key": key})
        assert answer.status_code == 429
        assert int(answer["Retry-After"]) > 0
        assert not TillSession.objects.exists()


@pytest.mark.usefixtures("catalogue")
class TestTheApiTakesTheSession:
    def test_a_quote_and_a_sale_with_the_cookie_and_the_pages_csrf_token(self) -> None:
        t, key = terminal()
        client = signed_in(csrf_client(), key)
        token = csrf_token(client)
        body = json_basket(basket(("LIP", 1)))
        quote = client.post(
            "/api/v1/quotes", body, content_type="application/json", headers={"x-csrftoken": token}
        )
        assert quote.status_code == 200, quote.content
        sale = client.post(
            "/api/v1/sales",
            body,
            content_type="application/json",
            headers={"x-csrftoken": token, "idempotency-key": "till-1"},
        )
        assert sale.status_code == 201, sale.content
        assert Sale.objects.get().terminal_id == t.pk

    def test_a_write_without_the_csrf_token_is_refused_and_writes_nothing(self) -> None:
        _, key = terminal()
        client = signed_in(csrf_client(), key)
        body = json_basket(basket(("LIP", 1)))
        answer = client.post(
            "/api/v1/sales", body, content_type="application/json", headers={"idempotency-key": "k"}
        )
        assert answer.status_code == 403
        assert "CSRF" in answer.json()["detail"]
        assert not Sale.objects.exists()

    def test_reads_need_no_token(self) -> None:
        _, key = terminal()
        client = signed_in(csrf_client(), key)
        assert client.get("/api/v1/products?sku=LIP").status_code == 200

    def test_the_sessions_terminal_sees_its_own_stores_sales_only(self) -> None:
        _, key = terminal("SYA-HTB")
        other, _ = terminal("HAK-RIYUE")
        from tests.support.sales import sell

        sold = sell(other, ("LIP", 1))
        client = signed_in(Client(), key)
        assert client.get(f"/api/v1/sales/{sold.sale_id}").status_code == 404

    def test_an_authorization_header_is_the_credential_when_both_are_sent(self) -> None:
        _, key = terminal()
        client = signed_in(Client(), key)
        answer = client.get("/api/v1/products?sku=X", headers={"authorization": "Bearer df_a_b"})
        assert answer.status_code == 401

    def test_a_staff_token_beside_the_cookie_is_named_as_the_wrong_kind(self) -> None:
        _, key = terminal()
        client = signed_in(Client(), key)
        answer = client.get("/api/v1/products?sku=X", headers={"authorization": "Token abc"})
        assert answer.status_code == 401
        assert answer.json()["code"] == "wrong_credential_kind"


class TestTheSessionEnds:
    @pytest.mark.parametrize("language", ["en", "zh-hans"])
    def test_when_the_shift_is_over(self, language) -> None:
        _, key = terminal()
        client = signed_in(Client(), key)
        TillSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        answer = client.get("/api/v1/products?sku=X", headers={"accept-language": language})
        assert answer.status_code == 401
        assert answer.json()["code"] == "till_session_ended"
        assert ("sign in again" if language == "en" else "重新登录") in answer.json()["detail"]
        assert "id_key" in client.get("/pos/").content.decode()  # the sign-in again

    def test_when_the_till_signs_out(self) -> None:
        _, key = terminal()
        client = signed_in(Client(), key)
        cookie = client.cookies[sessions.COOKIE].value
        answer = client.post("/pos/sign-out")
        assert answer.status_code == 303
        assert answer.cookies[sessions.COOKIE].value == ""
        assert not TillSession.objects.exists()
        replay = Client()
        replay.cookies[sessions.COOKIE] = cookie  # the old cookie, kept by someone
        assert replay.get("/api/v1/products?sku=X").status_code == 401

    def test_when_the_terminal_is_revoked_or_its_store_closed(self) -> None:
        t, key = terminal()
        client = signed_in(Client(), key)
        t.revoked_at = timezone.now()
        t.save()
        assert client.get("/api/v1/products?sku=X").status_code == 401
        t.revoked_at = None
        t.save()
        assert client.get("/api/v1/products?sku=X").status_code == 200
        Store.objects.filter(pk=t.store_id).update(active=False)
        assert client.get("/api/v1/products?sku=X").status_code == 401

    def test_a_new_sign_in_drops_the_terminals_ended_shifts(self) -> None:
        _, key = terminal()
        signed_in(Client(), key)
        TillSession.objects.update(expires_at=timezone.now() - timedelta(hours=1))
        signed_in(Client(), key)
        assert TillSession.objects.count() == 1
