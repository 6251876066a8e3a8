"""Terminal credentials: ``Authorization: Bearer df_<prefix>_<secret>``."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from .models import Terminal


@dataclass(frozen=True)
class TerminalPrincipal:
    """``request.user`` for a terminal: authenticated, never staff."""

    terminal: Terminal
    is_authenticated: bool = True
    is_staff: bool = False

    def __str__(self) -> str:
        return f"terminal {self.terminal.pk}"


class TerminalAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[TerminalPrincipal, Terminal] | None:
        try:
            header = authentication.get_authorization_header(request).split()
        except UnicodeEncodeError as exc:  # a str header beyond Latin-1 (not from a WSGI server)
            raise exceptions.AuthenticationFailed("Invalid terminal key.") from exc
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <key>'.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid terminal key.") from exc
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "df" or not parts[1] or not parts[2] or len(key) > 200:
            raise exceptions.AuthenticationFailed("Invalid terminal key.")
        terminal = (
            Terminal.objects.select_related("store")
            .filter(key_prefix=parts[1], revoked_at__isnull=True, store__active=True)
            .first()
        )
        if terminal is None or not terminal.key_matches(parts[2]):
            raise exceptions.AuthenticationFailed("Invalid terminal key.")
        return TerminalPrincipal(terminal), terminal

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="dutyfree terminals"'


class IsTerminal(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, Terminal)
