"""Identity HMAC key settings: the key before a rotation, and during one (the old key retired
under version 1, the new one current under version 2)."""

from __future__ import annotations

OLD, NEW = "the-old-identity-key-" + "o" * 20, "the-new-identity-key-" + "n" * 20
BEFORE = {"IDENTITY_HMAC_KEY": OLD, "IDENTITY_HMAC_KEY_VERSION": 1, "IDENTITY_HMAC_OLD_KEYS": {}}
ROTATING = {
    "IDENTITY_HMAC_KEY": NEW,
    "IDENTITY_HMAC_KEY_VERSION": 2,
    "IDENTITY_HMAC_OLD_KEYS": {1: OLD},
}
