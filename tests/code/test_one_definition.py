"""Each rule has one definition (a rule written twice drifts): the places that check the same
thing use the same object, and a second copy of a pattern, enum or word list does not come back
unnoticed."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from dutyfree.validation import InvalidInput, parse_query
from quotas import category_csv, identity, rules
from quotas.admin.policies import PolicyAdminForm
from quotas.choices import (
    POLICY_TRAVELLER_KINDS,
    SALE_TRAVELLER_KINDS,
    DocumentType,
    PickupMode,
    TripKind,
    TripMode,
)
from quotas.models import Policy
from shops import models
from shops.api import inputs as schemas
from shops.api import views as api
from shops.imports import reading
from shops.models import DailyCategorySales, DailyStoreSales, Sale
from shops.reporting import dashboard
from shops.reporting.stats import StatsError, sales_stats
from shops.shoppers import names
from shops.shoppers import pages as views
from shops.till import pages as till_pages
from shops.till import texts as till_texts

ROOT = Path(__file__).resolve().parents[2]
APPS = ("dutyfree", "shops", "quotas", "bench")


def _sources() -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8")
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }


def _where(pattern: str) -> list[str]:
    """The files (once per line) of dutyfree/, shops/, quotas/ and bench/ with the pattern."""
    found = re.compile(pattern)
    return sorted(
        str(path.relative_to(ROOT))
        for path, text in _sources().items()
        for line in text.splitlines()
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
        assert reading.identity.COUNTRY is identity.COUNTRY
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
        assert reading.SKU is models.SKU
        assert schemas.Barcode.__metadata__[0].pattern == models.BARCODE.pattern
        assert schemas.CARRIER_REF is rules.CARRIER_REF is reading.CARRIER_REF


class TestDocumentTypes:
    def test_the_api_the_page_and_the_importer_take_the_model_s_document_types(self):
        assert schemas.DocumentType.__args__ == tuple(DocumentType.values)
        assert [value for value, _ in names.DOCUMENT_TYPES] == DocumentType.values
        assert views.DOCUMENT_TYPES is names.DOCUMENT_TYPES is till_pages.DOCUMENT_TYPES
        assert views.TRIP_MODES is names.TRIP_MODES is till_texts.TRIP_MODES
        assert frozenset(DocumentType.values) == reading._DOC_TYPES

    def test_the_api_s_other_enumerations_are_the_model_s(self):
        assert schemas.PickupMode.__args__ == tuple(PickupMode.values)
        assert schemas.TripKind.__args__ == tuple(TripKind.values)
        assert schemas.TripMode.__args__ == tuple(TripMode.values)

    def test_no_second_list_of_document_type_values(self):
        assert _where(r"\"hkmo_permit\"") == ["quotas/choices.py"]


class TestTravellerKinds:
    def test_one_enumeration(self):
        assert _where(r"^class TravellerKind\b") == ["quotas/choices.py"]

    def test_a_policy_and_a_sale_take_their_members_of_it(self):
        policy = Policy._meta.get_field("traveller_kinds")
        assert policy.choices is None  # a JSON list, checked by Policy.clean
        for model in (Sale, DailyCategorySales, DailyStoreSales):
            field = model._meta.get_field("traveller_kind")
            assert [value for value, _ in field.choices] == list(SALE_TRAVELLER_KINDS)
        assert [value for value, _ in PolicyAdminForm.base_fields["traveller_kinds"].choices] == (
            list(POLICY_TRAVELLER_KINDS)
        )

    def test_the_dashboard_names_every_kind_a_sale_records(self):
        assert set(dashboard.TRAVELLER_KINDS) == set(SALE_TRAVELLER_KINDS)

    def test_a_trip_s_kind_is_a_traveller_kind(self):
        assert set(TripKind.values) <= set(SALE_TRAVELLER_KINDS) & set(POLICY_TRAVELLER_KINDS)


class TestStatsPeriod:
    def test_only_the_statistics_know_the_period_s_bounds(self):
        assert set(_where(r"\b(MAX_DAYS|FIRST_DAY|LAST_DAY)\b")) == {"shops/reporting/stats.py"}

    @pytest.mark.parametrize(
        ("start", "end", "field"),
        [
            ("2026-03-02", "2026-03-01", "end"),
            ("1999-12-31", "2000-01-31", "start"),
            ("2099-12-01", "2100-01-01", "end"),
            ("2000-01-01", "2026-03-31", "end"),
        ],
    )
    def test_the_api_and_the_dashboard_refuse_the_same_periods(self, start, end, field):
        with pytest.raises(InvalidInput) as api_refused:
            parse_query(schemas.StatsQuery, {"start": start, "end": end})
        assert list(api_refused.value.extra_for(None)["errors"]) == [field]
        page = dashboard.RangeForm({"start": start, "end": end, "align": "calendar"})
        assert not page.is_valid()
        assert list(page.errors) == [field]
        with pytest.raises(StatsError) as refused:
            sales_stats(start=date.fromisoformat(start), end=date.fromisoformat(end))
        assert refused.value.field == field


class TestPolicyFields:
    def test_the_admin_and_a_clone_take_the_model_s_list(self):
        from quotas import services

        assert ("programme_id", *Policy.RULE_FIELDS) == services._COPIED_POLICY_FIELDS
        assert PolicyAdminForm._meta.fields[-len(Policy.RULE_FIELDS) :] == Policy.RULE_FIELDS
        assert set(Policy.RULE_FIELDS) <= {field.name for field in Policy._meta.fields}

    def test_no_second_list(self):
        assert _where(r"\"return_pickup_within_months\",") == ["quotas/models.py"]


class TestCsvWords:
    def test_both_imports_take_the_same_words(self):
        assert reading.category_csv.YES is category_csv.YES
        assert _where(r"\"yes\"") == ["dutyfree/settings.py", "quotas/category_csv.py"]


class TestSaidOnce:
    """Why the hot paths are hand-written is said once, and benchmark figures live in README.md
    and bench/results/, not in the code (figures in comments go stale unseen)."""

    def test_the_reason_for_hand_written_statements_is_in_the_architecture(self):
        architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
        assert "## Hand-written statements" in architecture
        assert _where(r"cost(s)? more than|costs seconds") == []

    def test_no_benchmark_figures_in_the_code(self):
        figures = r"\d (ms|s) (instead|without|with)\b|\d+ million (lines|sales)|\d GB per"
        assert _where(figures) == []


class TestAnswersWrittenOnce:
    """An answer's shape is one pydantic model that builds the body and describes it in the
    schema (dutyfree.answers): no serializer that only documents a body a dict builder makes."""

    def test_no_serializer_describes_an_answer(self):
        assert _where(r"^class \w*(Out|Output)\w*\(serializers\.") == []
        assert _where(r"OutputSerializer\b") == []

    def test_requests_are_validated_in_one_technology(self):
        """Bodies and query strings alike are pydantic models (dutyfree.validation): no DRF
        serializer or serializer field is left to validate a request."""
        assert _where(r"serializers\.(Serializer|ModelSerializer|\w+Field)\b") == []

    @pytest.mark.django_db
    def test_every_success_answer_is_an_answer_model(self, client):
        from dutyfree.answers import Answer

        def models(cls: type) -> set[str]:
            return {cls.__name__}.union(*(models(sub) for sub in cls.__subclasses__()))

        document = client.get("/api/schema/?format=json").json()
        answers = {
            f"{method.upper()} {path}": content["schema"]
            for path, item in document["paths"].items()
            for method, operation in item.items()
            for status, response in operation["responses"].items()
            if status.startswith("2")
            for content in response.get("content", {}).values()
        }
        assert len(answers) > 10
        named = {
            where: schema.get("$ref", "").removeprefix("#/components/schemas/")
            for where, schema in answers.items()
        }
        assert {where: name for where, name in named.items() if name not in models(Answer)} == {}
