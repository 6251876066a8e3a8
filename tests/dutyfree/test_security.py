"""Hardening: security headers and the Content-Security-Policy, login lockout (django-axes),
HSTS only under TLS, and ``manage.py check --deploy`` clean with production settings.

The CSP, per path (dutyfree/settings.py ``CONTENT_SECURITY_POLICY``):

- every response (pages, admin, API, the schema): ``default-src 'self'``, ``script-src
  'self'`` (no inline script, no eval), ``style-src 'self'`` (no ``<style>`` element and no
  ``style=`` attribute: 'unsafe-inline' is nowhere in the policy; the quota page's bar is a
  ``<meter>``), ``img-src 'self' data:``, ``object-src 'none'``, ``base-uri 'self'``,
  ``form-action 'self'``, ``frame-ancestors 'none'``;
- ``/api/docs/`` (Swagger UI, its split view): the same, with its one ``<style>`` block
  allowed by hash (dutyfree/urls.py).

``test_pages_have_nothing_the_policy_blocks`` reads every page the project renders (the
shoppers' page, the dashboard, and every admin list, record, add form and custom admin page)
and fails on anything the header would block: an inline script, a ``<style>`` element, a
``style=`` attribute, an ``on…=`` handler, a ``javascript:`` URL, or a script or stylesheet
from another origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from axes.models import AccessAttempt
from captcha.models import CaptchaStore
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dutyfree import checks
from quotas import services as quota_services
from quotas.models import Policy, Shopper
from shops.pos import checkout
from tests import support

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"

EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def csp(response: Any) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.wsgi_request.path}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_common_headers(response: Any) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response  # tests run without USE_TLS


# --- Headers -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_page_has_the_policy_and_the_headers(client: Client) -> None:
    response = client.get("/quota/")
    assert response.status_code == 200
    assert csp(response) == EXPECTED_CSP
    assert_common_headers(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/policy", 200),
        ("post", "/api/v1/quotes", 401),  # a problem+json answer too
        ("get", "/api/v1/no-such-endpoint", 404),
        ("get", "/api/schema/", 200),
    ],
)
def test_api_responses_have_the_headers(client: Client, method: str, url: str, status: int) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert_common_headers(response)
    assert csp(response) == EXPECTED_CSP  # harmless on JSON, and no route is forgotten


@pytest.mark.django_db
def test_the_admin_has_the_policy(client: Client) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert csp(response) == EXPECTED_CSP
    assert_common_headers(response)


@pytest.mark.django_db
def test_swagger_ui_runs_under_the_policy(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = csp(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", SWAGGER_UI_STYLE_HASH]
    assert inline_problems(response.content.decode(), policy) == []
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


# The way to drop the /api/docs/ exclusion (dutyfree/urls.py is not this file's): the split view
# serves the start-up script from its own URL, and only its <style> block needs allowing.
SWAGGER_UI_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
urlpatterns = [
    path(
        "docs-split/",
        csp_update({"style-src": [SWAGGER_UI_STYLE_HASH]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_split_swagger_view_would_need_no_exclusion(client: Client) -> None:
    page = client.get("/docs-split/")
    assert page.status_code == 200
    policy = csp(page)
    assert policy["style-src"] == ["'self'", SWAGGER_UI_STYLE_HASH]
    assert inline_problems(page.content.decode(), policy) == []
    script = client.get("/docs-split/?script=")
    assert script["Content-Type"].startswith("application/javascript")


# --- Pages against the policy -----------------------------------------------------------------
JSON_TYPES = {"application/json", "application/ld+json", "importmap"}


class _Inline(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' for scripts and styles blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.style_attributes: list[str] = []  # "<tag style=…>"
        self.inline: list[tuple[str, str]] = []  # ("script" | "style", text)
        self._open: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "style" in values:
            self.style_attributes.append(f"<{tag} style={values['style']!r}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in {"href", "src", "action", "formaction"} and value.strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        external = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
        if tag == "script":
            if values.get("src"):
                if external.match(values["src"]):
                    self.problems.append(f"script from {values['src']}")
            elif values.get("type", "").lower() not in JSON_TYPES:
                self._open, self._text = "script", []
        elif tag == "style":
            self._open, self._text = "style", []
        elif (
            tag == "link"
            and "stylesheet" in values.get("rel", "").lower()
            and external.match(values.get("href", ""))
        ):
            self.problems.append(f"stylesheet from {values['href']}")

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == self._open:
            self.inline.append((tag, "".join(self._text)))
            self._open = None


def _allows_inline(sources: list[str], text: str) -> bool:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return "'unsafe-inline'" in sources or f"'sha256-{digest}'" in sources


def inline_problems(html: str, policy: dict[str, list[str]]) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    problems = list(parser.problems)
    # A style attribute runs only under 'unsafe-inline' (a hash would need 'unsafe-hashes').
    if "'unsafe-inline'" not in (policy.get("style-src-attr") or policy.get("style-src") or []):
        problems += parser.style_attributes
    for kind, text in parser.inline:
        directive = policy.get(f"{kind}-src-elem") or policy.get(f"{kind}-src") or []
        if not _allows_inline(directive, text):
            digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            problems.append(f"inline <{kind}> 'sha256-{digest}': {text.strip()[:80]!r}")
    return problems


@pytest.fixture
def records() -> dict[str, Any]:
    """Something in every admin list: a sale (shopper, trip, lines), a return, a ban, a draft."""
    support.product("SEC-LIP", "cosmetics", "320.00")
    term, _ = support.terminal("SYA-HTB")
    sale = checkout.sale_commit(
        terminal=term,
        idempotency_key="sec-1",
        fingerprint="sec-1",
        basket=support.basket(("SEC-LIP", 2), who=support.shopper(name="李小龙")),
        now=timezone.now(),
    ).sale
    shopper = Shopper.objects.get()
    ban, _ = quota_services.shopper_ban(
        shopper_id=shopper.pk,
        reason="customs_decision",
        starts_at=timezone.now(),
        years=1,
        now=timezone.now(),
    )
    draft = quota_services.policy_clone(
        policy=Policy.objects.filter(status="published").latest("effective_from")
    )
    return {"sale": sale, "ban": ban, "draft": draft, "shopper": shopper}


# quotas/admin/policies.py registers Programme with SimpleHistoryAdmin, but Programme keeps no
# history (no HistoricalRecords): its History page is a 500 (test_programme_history_page_opens).
PROGRAMME_HISTORY_BUG = ["quotas", "programme"]


def admin_pages(records: dict[str, Any]) -> list[str]:
    """Every admin page a superuser can open: lists, a record each, add forms, history, and the
    policy and ban pages of their own."""
    urls = ["/admin/", "/admin/password_change/"]
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{base}_changelist"))
        obj = model.objects.order_by("pk").first()
        if obj is not None:
            urls.append(reverse(f"{base}_change", args=[obj.pk]))
            history = reverse(f"{base}_history", args=[obj.pk])
            if history.split("/")[2:4] != PROGRAMME_HISTORY_BUG:
                urls.append(history)
        urls.append(reverse(f"{base}_add"))
    draft = records["draft"]
    for name in ("clone", "publish", "withdraw", "import"):
        urls.append(reverse(f"admin:quotas_policy_{name}", args=[draft.pk]))
    urls.append(reverse("admin:quotas_ban_lift", args=[records["ban"].pk]))
    return urls


def quota_result(client: Client) -> Any:
    """The quota page with the answer for the shopper of ``records`` (its meter bar)."""
    html = client.get("/quota/").content.decode()
    key = re.search(r'name="captcha_0" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    form = {
        "doc_type": "resident_id",
        "country": "CHN",
        "number": support.shopper().number,
        "name": "李小龙",
        "captcha_0": key,
        "captcha_1": CaptchaStore.objects.get(hashkey=key).response,
    }
    result = client.post("/quota/", form)
    assert result.status_code == 200
    assert re.search(r'<meter class="bar"[^>]* value="\d+"', result.content.decode())
    return result


class _StyleAttributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [f"<{tag} style={value!r}>" for name, value in attrs if name == "style"]


@pytest.mark.django_db
def test_no_unsafe_inline_and_no_style_attribute_on_any_page(
    client: Client, records: dict[str, Any]
) -> None:
    """Styles only from the site's style sheets: no page needs a style attribute (the quota
    page's bar is a <meter>), so the policy allows none, nor any other inline code."""
    pages = {
        "/": client.get("/"),
        "/quota/ (result)": quota_result(client),
        "/admin/login/": client.get("/admin/login/"),
        "/api/docs/": client.get("/api/docs/"),
    }
    client.force_login(get_user_model().objects.create_superuser("sec-root", password=None))
    pages["/dashboard/"] = client.get("/dashboard/")
    found = {}
    for url, response in pages.items():
        assert response.status_code == 200, url
        header = response["Content-Security-Policy"]
        assert "unsafe" not in header, (url, header)  # 'unsafe-inline', -eval, -hashes
        assert "style-src-attr" not in csp(response), url  # style-src 'self' governs attributes
        parser = _StyleAttributes()
        parser.feed(response.content.decode())
        if parser.found or re.search(r"\sstyle\s*=", response.content.decode()):
            found[url] = parser.found or ["style= in the text"]
    assert found == {}


@pytest.mark.django_db
def test_pages_have_nothing_the_policy_blocks(client: Client, records: dict[str, Any]) -> None:
    found: dict[str, list[str]] = {}
    checked = 0

    def check(url: str, response: Any) -> None:
        nonlocal checked
        if response.status_code in {302, 403}:  # an add form the model refuses
            return
        assert response.status_code == 200, (url, response.status_code)
        if "text/html" not in response["Content-Type"]:
            return
        checked += 1
        problems = inline_problems(response.content.decode(), csp(response))
        if problems:
            found[url] = problems

    # The shoppers' page: the form, then a result (with its meter bar).
    check("/quota/", client.get("/quota/"))
    check("/quota/ (result)", quota_result(client))
    check("/admin/login/", client.get("/admin/login/"))

    client.force_login(get_user_model().objects.create_superuser("sec-root", password=None))
    check("/dashboard/", client.get("/dashboard/"))
    for url in admin_pages(records):
        check(url, client.get(url))
    assert checked >= 40
    assert found == {}


@pytest.mark.django_db
def test_programme_history_page_opens(client: Client) -> None:
    from quotas.models import Programme

    client.force_login(get_user_model().objects.create_superuser("sec-root", password=None))
    programme = Programme.objects.get()
    client.raise_request_exception = False
    response = client.get(reverse("admin:quotas_programme_history", args=[programme.pk]))
    assert response.status_code == 200


def test_the_checker_sees_what_a_browser_would_block() -> None:
    page = (
        '<script>alert(1)</script><style>p{}</style><a href="javascript:x()">x</a>'
        '<button onclick="x()">x</button><script src="https://cdn.example/x.js"></script>'
        '<script type="application/json">{"ok": true}</script><p style="width: 5%">ok</p>'
        '<script src="/static/ok.js"></script><link rel="stylesheet" href="//cdn.example/x.css">'
    )
    problems = inline_problems(page, EXPECTED_CSP)
    assert len(problems) == 7, problems
    assert "<p style='width: 5%'>" in problems
    assert inline_problems(page, {**EXPECTED_CSP, "style-src-attr": ["'unsafe-inline'"]}) == [
        problem for problem in problems if "style=" not in problem
    ]
    allowed = "p{}"
    digest = base64.b64encode(hashlib.sha256(allowed.encode()).digest()).decode()
    assert inline_problems("<style>p{}</style>", {"style-src": [f"'sha256-{digest}'"]}) == []


# --- Login lockout (django-axes) ---------------------------------------------------------------
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def staff(db: None, settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    User = get_user_model()
    User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    return User.objects.create_user("analyst", password=PASSWORD, is_staff=True)


def log_in(
    client: Client, username: str, password: str, address: str = "10.0.0.1", **meta: str
) -> Any:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **meta,
    )


def logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_a_staff_session_lasts_a_shift_and_ends_with_the_browser(
    client: Client, staff: Any, settings: Any
) -> None:
    response = log_in(client, "analyst", PASSWORD)
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""  # a browser-session cookie: no Max-Age, no Expires
    assert cookie["expires"] == ""
    assert cookie["httponly"] is True
    assert client.session.get_expiry_age() == 8 * 3600
    assert logged_in(client)
    # Past the shift the server no longer knows the session, whatever the browser keeps.
    later = timezone.now() + timedelta(hours=8, minutes=1)
    with mock.patch("django.contrib.sessions.backends.db.timezone.now", return_value=later):
        assert not logged_in(client)


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("https://evil.example/", "/admin/"),  # unsafe: the admin's index, not a 404
        ("//evil.example/admin/", "/admin/"),
        ("/dashboard/?start=2026-03-01", "/dashboard/?start=2026-03-01"),  # safe: kept
    ],
)
def test_signing_in_lands_on_a_safe_next_or_the_admin(
    client: Client, staff: Any, next_url: str, lands_on: str
) -> None:
    response = client.post(
        "/admin/login/", {"username": "analyst", "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == lands_on
    assert client.get(response["Location"]).status_code == 200


def test_five_failures_lock_the_username_and_address_out(client: Client, staff: Any) -> None:
    for attempt in range(1, 5):
        response = log_in(client, "analyst", f"wrong-{attempt}")
        assert response.status_code == 200, attempt  # the form again, with its error
    assert log_in(client, "analyst", "wrong-5").status_code == 429  # the 5th failure locks
    refused = log_in(client, "analyst", PASSWORD)
    assert refused.status_code == 429
    assert "locked" in refused.content.decode().lower()
    assert not logged_in(client)
    # Another user from the same address, and the same user from elsewhere, are not locked.
    assert log_in(Client(), "ops", PASSWORD).status_code == 302
    elsewhere = Client()
    assert log_in(elsewhere, "analyst", PASSWORD, address="10.0.0.2").status_code == 302
    assert logged_in(elsewhere)


def test_axes_reset_unlocks(client: Client, staff: Any) -> None:
    for attempt in range(5):
        log_in(client, "analyst", f"wrong-{attempt}")
    assert log_in(client, "analyst", PASSWORD).status_code == 429
    call_command("axes_reset", stdout=StringIO())
    response = log_in(client, "analyst", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert logged_in(client)


def test_the_lockout_ends_after_30_minutes(client: Client, staff: Any) -> None:
    for attempt in range(5):
        log_in(client, "analyst", f"wrong-{attempt}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=29))
    assert log_in(client, "analyst", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert log_in(client, "analyst", PASSWORD).status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client: Client, staff: Any) -> None:
    for attempt in range(4):
        log_in(client, "analyst", f"wrong-{attempt}")
    assert log_in(client, "analyst", PASSWORD).status_code == 302  # AXES_RESET_ON_SUCCESS
    client.logout()
    for attempt in range(4):
        assert log_in(client, "analyst", f"again-{attempt}").status_code == 200
    assert log_in(client, "analyst", PASSWORD).status_code == 302


def test_behind_a_proxy_the_forwarded_address_is_locked_out(
    client: Client, staff: Any, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = 1
    proxy = "10.9.9.9"
    for attempt in range(5):
        log_in(client, "analyst", f"wrong-{attempt}", proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert AccessAttempt.objects.get().ip_address == "203.0.113.5"
    locked = log_in(client, "analyst", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    # Another client through the same proxy is not.
    other = log_in(Client(), "analyst", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "address", "forwarded"),
    [
        (0, "", ""),  # a Unix socket
        (1, "10.9.9.9", "not-an-address"),
    ],
    ids=["no-remote-addr", "forged-forwarded-for"],
)
def test_a_login_from_no_usable_address_still_works(
    client: Client, staff: Any, settings: Any, proxies: int, address: str, forwarded: str
) -> None:
    """axes records the address in an inet column on PostgreSQL: anything that is not an IP
    address is recorded as none (it failed the login with a 500 there)."""
    settings.TRUSTED_PROXIES = proxies
    meta = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    assert log_in(client, "analyst", "wrong", address, **meta).status_code == 200
    assert AccessAttempt.objects.get().ip_address is None
    assert log_in(client, "analyst", PASSWORD, address, **meta).status_code == 302
    assert logged_in(client)


def test_the_lockout_leaves_the_api_alone(client: Client, staff: Any) -> None:
    """Terminal keys and staff tokens never pass through authenticate(): a locked-out address
    keeps working, and bad API credentials are not counted as failed logins."""
    for attempt in range(5):
        log_in(client, "analyst", f"wrong-{attempt}")
    assert log_in(client, "analyst", PASSWORD).status_code == 429
    attempts = AccessAttempt.objects.count()

    token = StringIO()
    call_command("create_staff_token", "analyst", stdout=token)
    key = token.getvalue().strip().splitlines()[-1]
    stats = {"start": "2026-01-01", "end": "2026-01-31"}
    api = Client(REMOTE_ADDR="10.0.0.1")
    assert (
        api.get("/api/v1/stats/sales", stats, headers={"authorization": f"Token {key}"}).status_code
        == 200
    )
    support.product("AX-LIP", "cosmetics", "100.00")
    _, terminal_key = support.terminal("SYA-HTB")
    quote = api.post(
        "/api/v1/quotes",
        support.json_basket(support.basket(("AX-LIP", 1))),
        content_type="application/json",
        headers={"authorization": f"Bearer {terminal_key}"},
    )
    assert quote.status_code == 200
    for _ in range(10):
        assert (
            api.get(
                "/api/v1/stats/sales", stats, headers={"authorization": "Token bad"}
            ).status_code
            == 401
        )
        assert (
            api.post("/api/v1/quotes", {}, headers={"authorization": "Bearer df_x_y"}).status_code
            == 401
        )
    assert AccessAttempt.objects.count() == attempts
    # A staff session logged in before the lockout keeps working.
    session = Client()
    session.force_login(staff)
    assert session.get("/dashboard/").status_code == 200


def test_the_lockout_is_configured_as_documented(settings: Any) -> None:
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_ENABLED is True
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


# --- Deploy checks of our own ----------------------------------------------------------------
def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_deploy_check_wants_a_real_identity_key() -> None:
    strong = secrets.token_urlsafe(48)
    with override_settings(IDENTITY_HMAC_KEY=strong, SECRET_KEY=strong):
        assert ids(checks.identity_key_strength_check(None)) == ["dutyfree.W002"]
    with override_settings(IDENTITY_HMAC_KEY="short", SECRET_KEY=secrets.token_urlsafe(48)):
        assert ids(checks.identity_key_strength_check(None)) == ["dutyfree.W006"]
    with override_settings(IDENTITY_HMAC_KEY=strong, SECRET_KEY=secrets.token_urlsafe(48)):
        assert checks.identity_key_strength_check(None) == []


def test_deploy_check_wants_a_content_security_policy(settings: Any) -> None:
    assert checks.content_security_policy_check(None) == []
    policy = settings.CONTENT_SECURITY_POLICY
    loose = {
        **policy,
        "DIRECTIVES": {**policy["DIRECTIVES"], "script-src": ["'self'", "'unsafe-inline'"]},
    }
    with override_settings(CONTENT_SECURITY_POLICY=loose):
        assert ids(checks.content_security_policy_check(None)) == ["dutyfree.W004"]
    middleware = [m for m in settings.MIDDLEWARE if m != checks.CSP_MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware):
        assert ids(checks.content_security_policy_check(None)) == ["dutyfree.W003"]


def test_deploy_check_wants_the_lockout(settings: Any) -> None:
    assert checks.login_lockout_check(None) == []
    settings.AXES_ENABLED = False
    assert ids(checks.login_lockout_check(None)) == ["dutyfree.W005"]


# --- Production settings in a fresh process ------------------------------------------------------
def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production process: DEBUG off, TLS, real secrets."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "DEBUG", "USE_TLS", "SECRET_KEY"))
        and not k.startswith(("IDENTITY_HMAC", "ALLOWED_HOSTS", "AXES_", "DJANGO_"))
        and k != "TRUSTED_PROXIES"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dutyfree.settings",
        DEBUG="0",
        USE_TLS="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        IDENTITY_HMAC_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="dutyfree.example.cn,testserver",
        DATABASE_URL="postgres://dutyfree@db.internal:5432/dutyfree",
        REDIS_URL="redis://redis.internal:6379/0",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = deploy_check(production_env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "flagged"),
    [
        (
            {"SECRET_KEY": "", "IDENTITY_HMAC_KEY": ""},  # the development defaults
            {"security.W009", "dutyfree.W001"},
        ),
        (
            {"USE_TLS": "0"},
            {"security.W004", "security.W008", "security.W012", "security.W016"},
        ),
        ({"DEBUG": "1"}, {"security.W018"}),
        ({"AXES_ENABLED": "0"}, {"dutyfree.W005"}),
    ],
    ids=["dev-secrets", "no-tls", "debug", "no-lockout"],
)
def test_check_deploy_catches_what_production_must_not_have(
    overrides: dict[str, str], flagged: set[str]
) -> None:
    result = deploy_check(production_env(**overrides))
    assert result.returncode != 0
    found = set(re.findall(r"\((\w+\.\w+)\)", result.stderr))
    assert found == flagged, result.stderr


HEADERS_PROBE = """
import json
import django
django.setup()
from django.test import Client
client = Client()
secure = client.get("/ping", secure=True)
plain = client.get("/ping")
forged = client.get("/ping", headers={"X-Forwarded-Proto": "https"})
health = client.get("/healthz")
language = client.post("/i18n/setlang/", {"language": "en"}, secure=True)
morsel = language.cookies[django.conf.settings.LANGUAGE_COOKIE_NAME]
print(json.dumps({
    "secure": {"status": secure.status_code, "headers": dict(secure.headers)},
    "plain": {"status": plain.status_code, "location": plain.get("Location")},
    "forged": {"status": forged.status_code, "location": forged.get("Location")},
    "language_cookie": {"secure": bool(morsel["secure"]), "samesite": morsel["samesite"]},
    "health": {"status": health.status_code, "location": health.get("Location"),
               "cookies": sorted(health.cookies)},
    "cookies": {"session": django.conf.settings.SESSION_COOKIE_SECURE,
                "csrf": django.conf.settings.CSRF_COOKIE_SECURE},
}))
"""


def probe_headers(env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", HEADERS_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_hsts_and_secure_cookies_come_with_tls() -> None:
    found = probe_headers(production_env())
    secure = found["secure"]["headers"]
    assert found["secure"]["status"] == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert secure["X-Content-Type-Options"] == "nosniff"
    assert secure["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in secure["Content-Security-Policy"]
    # Plain HTTP is sent to HTTPS.
    assert found["plain"] == {"status": 301, "location": "https://testserver/ping"}
    # ...except the load balancer's health probe, which answers over plain HTTP, cookie-free.
    assert found["health"]["status"] in {200, 503}
    assert found["health"]["location"] is None
    assert found["health"]["cookies"] == []
    assert found["cookies"] == {"session": True, "csrf": True}
    assert found["language_cookie"] == {"secure": True, "samesite": "Lax"}


def test_no_hsts_without_tls() -> None:
    found = probe_headers(production_env(USE_TLS="0"))
    assert found["secure"]["status"] == 200
    assert "Strict-Transport-Security" not in found["secure"]["headers"]
    assert found["secure"]["headers"]["X-Content-Type-Options"] == "nosniff"
    assert found["plain"]["status"] == 200
    assert found["cookies"] == {"session": False, "csrf": False}
    # Over plain HTTP a Secure cookie never comes back: the chosen language would not stick.
    assert found["language_cookie"] == {"secure": False, "samesite": "Lax"}


def test_a_client_cannot_claim_https_without_a_proxy_in_front() -> None:
    """Anyone can send X-Forwarded-Proto; only a proxy that sets it may be believed."""
    found = probe_headers(production_env())  # TRUSTED_PROXIES unset: nothing in front
    assert found["forged"] == {"status": 301, "location": "https://testserver/ping"}


def test_behind_a_trusted_proxy_its_x_forwarded_proto_is_believed() -> None:
    found = probe_headers(production_env(TRUSTED_PROXIES="1"))
    assert found["forged"] == {"status": 200, "location": None}
    assert found["plain"] == {"status": 301, "location": "https://testserver/ping"}
