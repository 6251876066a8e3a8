"""The project's copy of the policy facts (quotas/data/hainan-offshore.json), without a database.

The team's facts live outside the repository (``shared/policy/`` beside the checkout, or beside
a folder holding it); where they are, the copy must equal them. A plain clone has no such
folder, so the copy is also held to the checksum recorded beside it (changed only together
with a data migration that brings the shipped policies in line) and to checks of its own shape.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from .policy_data import DATA

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
