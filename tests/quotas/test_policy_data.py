"""The project's copy of the policy facts (quotas/data/hainan-offshore.json), without a database.

The team's facts live outside the repository (``shared/policy/`` beside the checkout, or beside
a folder holding it); where they are, the copy must equal them. A plain clone has no such
folder, so the copy is also held to the checksum recorded beside it (changed only together
with a data migration that brings the shipped policies in line) and to checks of its own shape.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.support.policies import DATA, confirmations, confirmed_policies

CHECKSUM = DATA.with_name(DATA.name + ".sha256")


def _shared() -> Path | None:
    """The team's file: ``shared/policy/hainan-offshore.json`` in the nearest folder above the
    checkout that has one (a worktree sits a level deeper than the main checkout)."""
    for folder in DATA.parents[2].parents:
        candidate = folder / "shared" / "policy" / DATA.name
        if candidate.exists():
            return candidate
    return None


SHARED = _shared()
POLICIES = json.loads(DATA.read_text(encoding="utf-8"))["policies"]


@pytest.mark.skipif(
    SHARED is None,
    reason="no shared/policy/hainan-offshore.json above this checkout (a clone has only the "
    "copy): the copy is checked against its recorded checksum instead",
)
def test_the_copy_equals_the_shared_facts() -> None:
    assert SHARED is not None
    assert json.loads(DATA.read_text(encoding="utf-8")) == json.loads(
        SHARED.read_text(encoding="utf-8")
    ), f"quotas/data/{DATA.name} differs from {SHARED}: diff them, ship the change by migration"


def test_the_copy_is_the_one_recorded() -> None:
    recorded, name = CHECKSUM.read_text(encoding="ascii").split()
    assert name == DATA.name
    assert hashlib.sha256(DATA.read_bytes()).hexdigest() == recorded, (
        f"quotas/data/{DATA.name} changed: a data migration must bring the shipped policies in "
        f"line (as quotas.0014 does), then record the new checksum in {CHECKSUM.name}"
    )


@pytest.mark.parametrize("item", POLICIES, ids=[item["effective_from"][:10] for item in POLICIES])
class TestShape:
    def test_categories_are_numbered_one_to_n_with_distinct_codes(self, item: dict) -> None:
        categories = item["categories"]
        assert [c["number"] for c in categories] == list(range(1, len(categories) + 1))
        assert len({c["code"] for c in categories}) == len(categories)
        assert len(categories) in (45, 47)

    def test_every_category_says_what_is_verified(self, item: dict) -> None:
        verified = Counter(c["verified"] for c in item["categories"])
        assert set(verified) <= {"name_and_number", "name", "no"}
        assert verified["name_and_number"] == 16
        assert verified["no"] == 9

    def test_the_immediate_pickup_list_has_15_kinds_in_known_categories(self, item: dict) -> None:
        kinds = item["immediate_pickup_kinds"]
        assert [k["number"] for k in kinds] == list(range(1, 16))
        codes = {c["code"] for c in item["categories"]}
        assert {k["category"] for k in kinds} - {None} <= codes
        for kind in kinds:
            assert kind["per_trip"] >= 1
            assert kind["per_variety"] is None or 1 <= kind["per_variety"] <= kind["per_trip"]

    def test_a_category_on_the_list_is_flagged_and_its_note_gives_no_unknown_cap(
        self, item: dict
    ) -> None:
        caps = {k["category"]: k["per_trip"] for k in item["immediate_pickup_kinds"]}
        for category in item["categories"]:
            assert category["immediate_pickup"] == (category["code"] in caps), category["code"]
            if category["code"] in caps:
                assert "unknown" not in category["note"], category


# --- What later-read facts confirm (quotas/data/confirmations.json, applied by quotas.0016) -------
VERIFIED = ("no", "name", "name_and_number")  # from least to most confirmed
FIELDS = {"category": {"verified", "note"}, "policy": {"notes"}}
MIGRATIONS = DATA.parents[1] / "migrations"


@pytest.mark.parametrize("entry", confirmations(), ids=lambda e: e["category"] or "policy notes")
class TestConfirmations:
    def test_it_changes_a_value_as_the_copy_ships_it(self, entry: dict) -> None:
        assert set(entry["change"]) <= FIELDS["policy" if entry["category"] is None else "category"]
        by_date = {item["effective_from"]: item for item in POLICIES}
        assert entry["policies"]
        assert set(entry["policies"]) <= set(by_date)
        for effective_from in entry["policies"]:
            item = by_date[effective_from]
            if entry["category"] is None:
                target = item
            else:
                (target,) = (c for c in item["categories"] if c["code"] == entry["category"])
            for field, change in entry["change"].items():
                assert target[field] == change["from"], (effective_from, field)
                assert change["to"] != change["from"]

    def test_a_verification_only_goes_up(self, entry: dict) -> None:
        if change := entry["change"].get("verified"):
            assert VERIFIED.index(change["to"]) > VERIFIED.index(change["from"])

    def test_its_migration_exists(self, entry: dict) -> None:
        number = entry["migration"].removeprefix("quotas.")
        assert list(MIGRATIONS.glob(f"{number}_*.py")), entry["migration"]

    def test_it_quotes_its_sources(self, entry: dict) -> None:
        assert entry["sources"]
        readme = None if SHARED is None else SHARED.with_name("README.md")
        if readme is None or not readme.exists():
            pytest.skip("no shared/policy/README.md above this checkout: quotes not compared")
        text = readme.read_text(encoding="utf-8")
        # The README wraps its lines (mid-word in Chinese): compare without whitespace.
        flat = re.sub(r"\s+", "", text)
        for source in entry["sources"]:
            assert source["section"] in text
            assert re.sub(r"\s+", "", source["quote"]) in flat, source["quote"]


def test_only_the_serials_the_facts_give_are_upgraded() -> None:
    """22, 24, 25 and 26 follow from the 2015 annex's order; 27–29 and 31–38, the order within
    14–18, 19–21 and 39/41–45, and the serials 46 and 47 were not read."""
    upgraded = {e["category"] for e in confirmations() if "verified" in e["change"]}
    assert upgraded == {"infant_formula", "ginseng_products", "cereal_foods", "health_foods"}
    for item in confirmed_policies():
        verified = {c["code"]: c["verified"] for c in item["categories"]}
        assert Counter(verified.values()) == {
            "name_and_number": 20,
            "name": len(item["categories"]) - 29,
            "no": 9,
        }
        assert verified["diapers"] == "no"
        assert verified.get("pet_supplies", "name") == "name"
        assert verified.get("portable_musical_instruments", "name") == "name"


def test_the_confirmed_notes_say_what_is_still_assumed() -> None:
    for item in confirmed_policies():
        notes = {c["code"]: c["note"] for c in item["categories"]}
        assert "possibly" not in notes["diapers"]
        assert "3 packs per departure" in notes["diapers"]
        assert "Serial L" in notes["diapers"]
        if item["min_age"] == 18:
            for code, number in (("pet_supplies", 46), ("portable_musical_instruments", 47)):
                assert "in that order" in notes[code]
                assert f"not seen, so {number} remains an assumption" in notes[code]
            assert "not rail" in item["notes"]
            assert "不限次数" in item["notes"]
        assert "2021 No. 13" in item["notes"]
