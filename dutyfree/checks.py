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
