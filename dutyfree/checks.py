"""Deploy checks beyond Django's own (``manage.py check --deploy``)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def identity_key_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    if settings.IDENTITY_HMAC_KEY == settings.INSECURE_DEV_IDENTITY_KEY:
        return [
            Warning(
                "IDENTITY_HMAC_KEY is the development default.",
                hint="Set IDENTITY_HMAC_KEY to a long random secret, distinct from SECRET_KEY.",
                id="dutyfree.W001",
            )
        ]
    return []


IDENTITY_KEY_MIN_LENGTH = 32


@register(Tags.security, deploy=True)
def identity_key_strength_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """A real identity key: its own secret, long enough to resist guessing."""
    key = settings.IDENTITY_HMAC_KEY
    if key == settings.INSECURE_DEV_IDENTITY_KEY:
        return []  # dutyfree.W001 says so
    if key == settings.SECRET_KEY:
        return [
            Warning(
                "IDENTITY_HMAC_KEY is the SECRET_KEY.",
                hint="Rotating one must not touch the other: give IDENTITY_HMAC_KEY its own "
                "secret.",
                id="dutyfree.W002",
            )
        ]
    if len(key) < IDENTITY_KEY_MIN_LENGTH:
        return [
            Warning(
                f"IDENTITY_HMAC_KEY has fewer than {IDENTITY_KEY_MIN_LENGTH} characters.",
                hint="Document numbers are short: a short key lets their HMACs be guessed. "
                "Use e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'.",
                id="dutyfree.W006",
            )
        ]
    return []


CSP_MIDDLEWARE = "dutyfree.headers.CSPMiddleware"
UNSAFE_SCRIPT_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "data:"}


@register(Tags.security, deploy=True)
def content_security_policy_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """The pages' Content-Security-Policy is on and keeps scripts to this origin."""
    directives = (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("DIRECTIVES")
    if CSP_MIDDLEWARE not in settings.MIDDLEWARE or not directives:
        return [
            Warning(
                "No Content-Security-Policy header is sent.",
                hint=f"Keep {CSP_MIDDLEWARE} in MIDDLEWARE and CONTENT_SECURITY_POLICY's "
                "DIRECTIVES (dutyfree/settings.py).",
                id="dutyfree.W003",
            )
        ]
    scripts = directives.get("script-src") or directives.get("default-src") or ["*"]
    unsafe = sorted(set(scripts) & UNSAFE_SCRIPT_SOURCES)
    if unsafe:
        return [
            Warning(
                f"The Content-Security-Policy lets scripts run from {', '.join(unsafe)}.",
                hint="Serve scripts as files from this origin; exempt a single view with "
                "csp.decorators instead of loosening the whole site.",
                id="dutyfree.W004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def login_lockout_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """django-axes counts failed staff logins (its own checks cover the backend/middleware)."""
    if not getattr(settings, "AXES_ENABLED", False):
        return [
            Warning(
                "Failed staff logins are not limited (AXES_ENABLED is off).",
                hint="Unset AXES_ENABLED (default on) so repeated failures lock the "
                "username and address out.",
                id="dutyfree.W005",
            )
        ]
    return []
