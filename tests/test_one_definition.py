"""Each rule has one definition (issue 12 point 4): the places that check the same thing use the
same object, and a second copy of a pattern, enum or word list does not come back unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

from quotas import identity, rules
from quotas.choices import DocumentType, PickupMode, TripKind, TripMode
from shops import api, importer, models, schemas, views

ROOT = Path(__file__).resolve().parent.parent
APPS = ("dutyfree", "shops", "quotas", "bench")


def _sources() -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8")
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }


def _where(pattern: str) -> list[str]:
    found = re.compile(pattern)
    return sorted(
        f"{path.relative_to(ROOT)}:{number}"
        for path, text in _sources().items()
        for number, line in enumerate(text.splitlines(), 1)
        if found.search(line)
    )


def _pattern_of(model: type, field: str) -> re.Pattern[str]:
    metadata = model.model_fields[field].metadata
    (pattern,) = (item.pattern for item in metadata if getattr(item, "pattern", None))
    return pattern


def _regex(validator: object) -> str:
    """A Django validator's pattern, as text (a model field's validator is built from the text,
    which is what its migrations name)."""
    return validator.regex.pattern  # type: ignore[attr-defined]


class TestPatterns:
    def test_country_is_one_pattern_for_the_api_the_page_and_the_importer(self):
        assert _pattern_of(schemas.DocumentIn, "country") is identity.COUNTRY
        assert importer.identity.COUNTRY is identity.COUNTRY
        assert views.identity.COUNTRY is identity.COUNTRY

    def test_each_pattern_is_written_once(self):
        # The regular expressions themselves, as source text: one line each.
        for source in (
            r"\\d\{17\}\[\\dX\]",  # resident identity card
            r"\[A-Za-z\]\{3\}",  # issuing country
            r"\[A-Za-z0-9 \\-/\]\{0,31\}",  # carrier reference
            r"\[A-Za-z0-9._\\-\]\{0,63\}",  # SKU
            r"\[A-Za-z0-9\\-\]\{1,64\}",  # barcode
        ):
            assert len(_where(source)) == 1, (source, _where(source))

    def test_the_users_share_the_owners_objects(self):
        assert _regex(models.sku_validator) == models.SKU.pattern
        assert _regex(models.barcode_validator) == models.BARCODE.pattern
        assert api.SKU is models.SKU
        assert importer.SKU is models.SKU
        assert _regex(api.ProductQuery().fields["barcode"].validators[-1]) == models.BARCODE.pattern
        assert schemas.CARRIER_REF is rules.CARRIER_REF is importer.CARRIER_REF


class TestDocumentTypes:
    def test_the_api_the_page_and_the_importer_take_the_model_s_document_types(self):
        assert schemas.DocumentType.__args__ == tuple(DocumentType.values)
        assert [value for value, _ in views.DOCUMENT_TYPES] == DocumentType.values
        assert frozenset(DocumentType.values) == importer._DOC_TYPES

    def test_the_api_s_other_enumerations_are_the_model_s(self):
        assert schemas.PickupMode.__args__ == tuple(PickupMode.values)
        assert schemas.TripKind.__args__ == tuple(TripKind.values)
        assert schemas.TripMode.__args__ == tuple(TripMode.values)

    def test_no_second_list_of_document_type_values(self):
        assert _where(r"\"hkmo_permit\"") == ["quotas/choices.py:55"]
