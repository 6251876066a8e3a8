"""Identity numbers and names are personal data: stored only as keyed HMACs.

A document is identified by HMAC-SHA256(key, "type:country:NUMBER") over the normalised
number; a name by the HMAC of its normalised form (used only to match a self-lookup). For
display, the last four characters of the number are kept. Nothing here logs or returns the
clear values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from django.conf import settings
from django.utils.translation import gettext as _

# The shape of a resident identity card's number (17 digits and a check digit or X) and of an
# issuing country (three letters, ISO 3166 alpha-3). The terminal API, the quota page and the
# importer all check documents with these.
RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
COUNTRY = re.compile(r"^[A-Za-z]{3}$")
# A resident identity card is issued by China only.
RESIDENT_ID_COUNTRY = "CHN"

# GB 11643-1999: the 18th character is ISO 7064 MOD 11-2 over the first 17 digits, weighted
# 2^(17-i) mod 11 from the left; a remainder r gives CHECK_CHARACTERS[r].
_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"


def resident_id_check_character(first17: str) -> str:
    """The check character (a digit or X) of a resident identity number's first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _CHECK_WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def resident_id_check_digit_ok(number: str) -> bool:
    """Whether a normalised resident identity number has the shape and the check character
    GB 11643 gives it."""
    return bool(RESIDENT_ID.match(number)) and (
        resident_id_check_character(number[:17]) == number[17]
    )


_SEPARATORS = re.compile(r"[\s\-_/.]+")
_DOCUMENT = re.compile(r"^[0-9A-Z]{4,32}$")
_SPACES = re.compile(r"\s+")


class InvalidDocument(ValueError):
    """A document number that cannot be one (characters, length)."""


def normalise_document_number(number: str) -> str:
    """Full-width to ASCII, upper case, separators removed: ``"4601 0019-9001 01123x"`` →
    ``"46010019900101123X"``.

    :raises InvalidDocument: if the result is not 4–32 letters and digits.
    """
    value = _SEPARATORS.sub("", unicodedata.normalize("NFKC", number)).upper()
    if not _DOCUMENT.match(value):
        raise InvalidDocument(_("A document number has 4 to 32 letters and digits."))
    return value


def normalise_name(name: str) -> str:
    """NFKC, trimmed, inner white space collapsed, case folded (张三 / Zhang San / ZHANG  SAN)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold()


def _hmac(message: str, key: str | None = None) -> str:
    secret = (key or settings.IDENTITY_HMAC_KEY).encode()
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def issuing_country(*, doc_type: str, country: str) -> str:
    """The country a document is kept under. A resident identity card is issued by China
    whatever country a caller sends with it (the page asks none): one card, one shopper, one
    quota."""
    return RESIDENT_ID_COUNTRY if doc_type == "resident_id" else country.upper()


def document_key(*, doc_type: str, country: str, number: str, key: str | None = None) -> str:
    """The stored identity of a document (hex HMAC-SHA256), by its :func:`issuing_country`."""
    normalised = normalise_document_number(number)
    country = issuing_country(doc_type=doc_type, country=country)
    return _hmac(f"doc:{doc_type}:{country.upper()}:{normalised}", key)


def name_key(name: str, key: str | None = None) -> str:
    return _hmac(f"name:{normalise_name(name)}", key)


def last_four(number: str) -> str:
    return normalise_document_number(number)[-4:]


# --- Key rotation ------------------------------------------------------------------------------
def current_version() -> int:
    return settings.IDENTITY_HMAC_KEY_VERSION


def retired_keys() -> dict[int, str]:
    """Retired keys still matched, by version (``IDENTITY_HMAC_OLD_KEYS``): empty when no
    rotation is under way, and then nothing below costs anything."""
    return settings.IDENTITY_HMAC_OLD_KEYS


def retired_document_keys(*, doc_type: str, country: str, number: str) -> dict[str, str]:
    """The document's HMAC under each retired key → that key (to re-key a match)."""
    return {
        document_key(doc_type=doc_type, country=country, number=number, key=key): key
        for key in retired_keys().values()
    }
