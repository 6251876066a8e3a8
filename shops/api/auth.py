"""Credentials: terminals (``Authorization: Bearer df_<prefix>_<secret>``) and staff API tokens
(``Authorization: Token <key>``, django-rest-knox: only a SHA-512 digest is stored, each token
expires)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from dutyfree.db import loaded, select_rows
from dutyfree.errors import TillSessionEnded, WrongCredentialKind
from shops import sql
from shops.models import Store, Terminal
from shops.till import sessions as till_sessions


@dataclass(frozen=True)
class TerminalPrincipal:
    """``request.user`` for a terminal: authenticated, never staff."""

    terminal: Terminal
    is_authenticated: bool = True
    is_staff: bool = False

    def __str__(self) -> str:
        return f"terminal {self.terminal.pk}"


# The columns of sql.TERMINAL_BY_PREFIX, each read as its model field reads it.
_TERMINAL_FIELDS = [
    Terminal._meta.get_field(name) for name in ("id", "name", "key_hash", "training")
] + [
    Store._meta.get_field(name)
    for name in ("id", "code", "name_zh", "name_en", "city", "channel", "operator")
]


def terminal_by_prefix(prefix: str) -> Terminal | None:
    """The active terminal of an active store with this key prefix, its store loaded."""
    rows = select_rows(sql.TERMINAL_BY_PREFIX, [prefix], _TERMINAL_FIELDS)
    if not rows:
        return None
    (
        terminal_id,
        name,
        key_hash,
        training,
        store_id,
        code,
        name_zh,
        name_en,
        city,
        channel,
        operator_id,
    ) = rows[0]
    # What the statement selected, and what its WHERE clause makes known (an active store,
    # a terminal not revoked); the rest is deferred.
    store = loaded(
        Store,
        id=store_id,
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        city=city,
        channel=channel,
        operator=operator_id,
        active=True,
    )
    terminal = loaded(
        Terminal,
        id=terminal_id,
        store=store_id,
        name=name,
        key_prefix=prefix,
        key_hash=key_hash,
        training=training,
        revoked_at=None,
    )
    terminal.store = store
    return terminal


class TerminalAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[TerminalPrincipal, Terminal] | None:
        try:
            header = authentication.get_authorization_header(request).split()
        except UnicodeEncodeError as exc:  # a str header beyond Latin-1 (not from a WSGI server)
            raise exceptions.AuthenticationFailed(_("Invalid terminal key.")) from exc
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send 'Authorization: Bearer <key>'."))
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid terminal key.")) from exc
        split = Terminal.split_key(key)
        if split is None:
            raise exceptions.AuthenticationFailed(_("Invalid terminal key."))
        prefix, secret = split
        terminal = terminal_by_prefix(prefix)
        if terminal is None or not terminal.key_matches(secret):
            raise exceptions.AuthenticationFailed(_("Invalid terminal key."))
        return TerminalPrincipal(terminal), terminal

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="dutyfree terminals"'


class TillSessionAuthentication(authentication.SessionAuthentication):
    """The till's session cookie (``/pos/``, :mod:`shops.till.sessions`) in place of a terminal
    key, for the browser that signed in with one: the same terminal, the same answers. Its
    writes carry the page's CSRF token (DRF's check of a session's writes); a key in the
    ``Authorization`` header, when one is sent, is the credential instead."""

    def authenticate(self, request: Request) -> tuple[TerminalPrincipal, Terminal] | None:
        token = request._request.COOKIES.get(till_sessions.COOKIE)
        if not token or _scheme(request):
            return None
        session = till_sessions.till_session_of(token=token, now=timezone.now())
        if session is None:
            raise TillSessionEnded(
                _(
                    "The till's session has ended (the shift is over, or it signed out): sign "
                    "in again with the terminal's key."
                )
            )
        self.enforce_csrf(request)
        return TerminalPrincipal(session.terminal), session.terminal

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="dutyfree terminals"'


def _scheme(request: Request) -> str:
    """The Authorization header's scheme, lower case (empty without one)."""
    parts = str(request.META.get("HTTP_AUTHORIZATION", "")).split()
    return parts[0].lower() if parts else ""


class RefuseStaffToken(authentication.BaseAuthentication):
    """Last on a terminal endpoint: a staff token (``Authorization: Token …``) is told that the
    endpoint takes a terminal key, not answered as if no credential had been sent."""

    def authenticate(self, request: Request) -> None:
        if _scheme(request) == "token":
            raise WrongCredentialKind(
                _(
                    "This endpoint takes a terminal key ('Authorization: Bearer <key>', from "
                    "manage.py create_terminal); a staff token was sent."
                )
            )


class RefuseTerminalKey(authentication.BaseAuthentication):
    """Last on a staff endpoint: a terminal key (``Authorization: Bearer …``) is told that the
    endpoint takes a staff token or a staff sign-in."""

    def authenticate(self, request: Request) -> None:
        if _scheme(request) == "bearer":
            raise WrongCredentialKind(
                _(
                    "This endpoint takes a staff token ('Authorization: Token <key>', from "
                    "manage.py create_staff_token) or a staff sign-in; a terminal key was sent."
                )
            )


class CredentialKindCheck(OpenApiAuthenticationExtension):
    """The refusals above are no credential of their own: nothing for the schema's security."""

    target_class = "shops.api.auth.RefuseStaffToken"
    name: list[str] = []

    def get_security_requirement(self, auto_schema: object) -> list[dict[str, list[Any]]]:
        return []

    def get_security_definition(self, auto_schema: object) -> list[dict[str, str]]:
        return []


class TerminalKeyCheck(CredentialKindCheck):
    target_class = "shops.api.auth.RefuseTerminalKey"


class TillSessionScheme(OpenApiAuthenticationExtension):
    """Documents the till's session cookie in the OpenAPI schema."""

    target_class = "shops.api.auth.TillSessionAuthentication"
    name = "tillSession"

    def get_security_definition(self, auto_schema: object) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": till_sessions.COOKIE,
            "description": _(
                "The cashier screen (/pos/): a terminal's key exchanged at its sign-in for an "
                "HttpOnly cookie, good until the shift ends; writes carry the page's CSRF token "
                "(X-CSRFToken)."
            ),
        }


class IsTerminal(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, Terminal)


class TerminalAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents terminal keys in the OpenAPI schema (HTTP bearer)."""

    target_class = "shops.api.auth.TerminalAuthentication"
    name = "terminalKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "df_<prefix>_<secret>",
            "description": _(
                "Terminals: `Authorization: Bearer df_<prefix>_<secret>`, the key that "
                "`manage.py create_terminal --store CODE --name NAME` prints once. A terminal "
                "sees only its own store's sales."
            ),
        }


_HEX_KEY = re.compile(rb"[0-9a-fA-F]{16,128}")


class StaffTokenAuthentication(KnoxTokenAuthentication):
    """``Authorization: Token <key>`` from ``manage.py create_staff_token``. The database keeps
    a digest and the first 15 characters, never the key; an expired token is refused (and
    deleted), as is an inactive user's."""

    def authenticate(self, request: Request) -> Any:
        if _scheme(request) != "token":
            return None  # another kind of credential, or none: for the next authenticator
        try:
            return super().authenticate(request)
        except UnicodeError as exc:  # a header beyond Latin-1 / UTF-8: not a token, not a 500
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc

    def authenticate_credentials(self, token: bytes) -> Any:
        # Keys are hexadecimal (knox's, and DRF's before them); anything else — a NUL byte
        # the database would refuse included — is not a key, and is not looked up.
        if not _HEX_KEY.fullmatch(token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)


class StaffTokenScheme(OpenApiAuthenticationExtension):
    """Documents staff tokens in the OpenAPI schema under their contract name."""

    target_class = "shops.api.auth.StaffTokenAuthentication"
    name = "tokenAuth"
    priority = 1  # over drf-spectacular's own knox extension, which names it knoxApiToken

    def get_security_definition(self, auto_schema: object) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                "Staff: the header's value is the word `Token`, a space and the key that "
                "`manage.py create_staff_token USERNAME` prints once: `Authorization: Token "
                "<key>`. In the Authorize dialog, type `Token ` before the key; a generated "
                'client takes prefix="Token".'
            ),
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    """A staff member's session (the dashboard), as drf-spectacular names it, described."""

    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "cookieAuth"
    priority = 1  # over drf-spectacular's own, which says nothing of who signs in

    def get_security_definition(self, auto_schema: object) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": _("A staff member signed in to the site (browsers: the dashboard)."),
        }
