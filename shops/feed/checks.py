"""``manage.py check``: the customs channel's keys, when set, are usable (a malformed key would
otherwise show only as sales without a seal, or deliveries failing)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from shops.feed import customs, signing


@register("feed", deploy=False)
def feed_keys(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    if customs.seal_configured():
        try:
            customs.check_seal_key()
        except customs.SealKeyError as exc:
            errors.append(Error(str(exc), id="shops.E101"))
    try:
        if signing.signing_key_text():
            signing.signing_key()
    except signing.FeedKeyError as exc:
        errors.append(Error(str(exc), id="shops.E102"))
    return errors
