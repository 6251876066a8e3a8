"""Signatures of the feed, as the Standard Webhooks specification defines them.

- ``v1``: HMAC-SHA256 of ``"<webhook-id>.<webhook-timestamp>.<body>"`` keyed by the endpoint's
  ``whsec_`` secret, computed by the specification's own library (``standardwebhooks``), so a
  receiver verifies it with that library in any language. During a rotation, one ``v1`` entry
  per secret, space-separated.
- ``v1a``: the customs channel's Ed25519 signature of the same string, by the operator's key
  (``FEED_SIGNING_KEY`` or the file ``FEED_SIGNING_KEY_FILE``: ``whsk_`` + base64 of the
  32-byte seed; never the database). Its public half is ``whpk_`` + base64 of 32 bytes.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from nacl.signing import SigningKey
from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix the specification gives secrets
PRIVATE_PREFIX = "whsk_"
PUBLIC_PREFIX = "whpk_"


class FeedKeyError(Exception):
    """The feed's signing key is missing or malformed (the message says which)."""


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_signing_key() -> str:
    """A fresh Ed25519 private key for an operator to keep: ``whsk_`` + base64 of its seed."""
    return PRIVATE_PREFIX + base64.b64encode(bytes(SigningKey.generate())).decode()


def _decode_key(text: str, prefix: str, what: str) -> bytes:
    text = text.strip()
    if not text.startswith(prefix):
        raise FeedKeyError(f"{what} must start with {prefix}")
    try:
        raw = base64.b64decode(text[len(prefix) :], validate=True)
    except ValueError as exc:
        raise FeedKeyError(f"{what} is not valid base64 after {prefix}") from exc
    if len(raw) != 32:
        raise FeedKeyError(f"{what} must hold 32 bytes, not {len(raw)}")
    return raw


@cache
def _signing_key(text: str) -> SigningKey:
    return SigningKey(_decode_key(text, PRIVATE_PREFIX, "FEED_SIGNING_KEY"))


def signing_key_text() -> str:
    """The configured private key's text, from ``FEED_SIGNING_KEY`` or the file named by
    ``FEED_SIGNING_KEY_FILE``; empty when neither is set."""
    if settings.FEED_SIGNING_KEY:
        return str(settings.FEED_SIGNING_KEY)
    if settings.FEED_SIGNING_KEY_FILE:
        try:
            return Path(settings.FEED_SIGNING_KEY_FILE).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise FeedKeyError(
                f"FEED_SIGNING_KEY_FILE {settings.FEED_SIGNING_KEY_FILE}: cannot read it ({exc})"
            ) from exc
    return ""


def signing_key() -> SigningKey:
    """The operator's Ed25519 key.

    :raises FeedKeyError: none is configured, or it is malformed.
    """
    text = signing_key_text()
    if not text:
        raise FeedKeyError("no feed signing key: set FEED_SIGNING_KEY or FEED_SIGNING_KEY_FILE")
    return _signing_key(text)


def public_key_text() -> str:
    """``whpk_`` + base64 of the configured key's public half (for customs to verify)."""
    return PUBLIC_PREFIX + base64.b64encode(bytes(signing_key().verify_key)).decode()


def signature_header(
    *, msg_id: str, timestamp: datetime, body: bytes, secrets_: list[str], ed25519: bool
) -> str:
    """The ``webhook-signature`` header: a ``v1`` entry per secret (the library's), and a
    ``v1a`` entry by the operator's key when ``ed25519``."""
    entries = [Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets_]
    if ed25519:
        signed = f"{msg_id}.{int(timestamp.timestamp())}.".encode() + body
        signature = signing_key().sign(signed).signature
        entries.append("v1a," + base64.b64encode(signature).decode())
    return " ".join(entries)
