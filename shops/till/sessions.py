"""A till's session: a terminal's key exchanged at ``/pos/`` for a random token the browser
keeps in an HttpOnly cookie (never the key), good until the shift ends (``TILL_SHIFT_HOURS``
from the sign-in) or the till signs out. The API takes the cookie in place of the key
(``shops.api.auth.TillSessionAuthentication``); a revoked terminal or a closed store ends it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings

from shops.models import Terminal, TillSession

# The cookie's name: apart from the staff's session cookie, so that a supervisor signed in to
# the admin in the same browser neither replaces nor becomes the till's credential.
COOKIE = "dutyfree_till"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def till_sign_in(*, key: str, now: datetime) -> tuple[TillSession, str] | None:
    """A session for the active terminal whose key this is, and its token (the cookie's value,
    given once: only its hash is kept); None when the key is no active terminal's. The
    terminal's sessions whose shift has ended are dropped on the way."""
    split = Terminal.split_key(key.strip())
    if split is None:
        return None
    prefix, secret = split
    terminal = (
        Terminal.objects.select_related("store")
        .filter(key_prefix=prefix, revoked_at=None, store__active=True)
        .first()
    )
    if terminal is None or not terminal.key_matches(secret):
        return None
    TillSession.objects.filter(terminal=terminal, expires_at__lte=now).delete()
    token = secrets.token_urlsafe(32)
    session = TillSession.objects.create(
        terminal=terminal,
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + timedelta(hours=settings.TILL_SHIFT_HOURS),
    )
    return session, token


def till_session_of(*, token: str, now: datetime) -> TillSession | None:
    """The session this token opened, its terminal and store loaded, while it lasts: not
    signed out, its shift not over, its terminal not revoked and its store open."""
    if not token or len(token) > 100:
        return None
    return (
        TillSession.objects.select_related("terminal__store")
        .filter(
            token_hash=_digest(token),
            expires_at__gt=now,
            terminal__revoked_at=None,
            terminal__store__active=True,
        )
        .first()
    )


def till_sign_out(*, token: str) -> None:
    """End the session this token opened (nothing when there is none)."""
    if token:
        TillSession.objects.filter(token_hash=_digest(token)).delete()
