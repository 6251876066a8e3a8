"""The shipped policy as the schema's examples show it (quotas/data, the migrations that
shipped it): what a fresh database, or ``manage.py seed_demo``, holds."""

from __future__ import annotations

import importlib
import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from .choices import TripKind
from .rules import ImmediateKindRule

SHOWN_CATEGORIES = ("cosmetics", "alcohol")  # of the 47: one counted in pieces, one in ml


@cache
def shipped_policy() -> dict[str, Any]:
    """The policy shipped as data that is in force today (quotas/data, migration 0002)."""
    data = json.loads(
        (Path(__file__).resolve().parent / "data" / "hainan-offshore.json").read_text("utf-8")
    )
    return max(data["policies"], key=lambda policy: policy["effective_from"])


def shipped_policy_names() -> dict[str, str]:
    """The names of the shipped policy in force, as an answer in Chinese (the default) shows
    them: its Chinese name is given by migration quotas.0012, which named it."""
    named = importlib.import_module("quotas.migrations.0012_policy_names")
    english = shipped_policy()["name"]
    chinese = named.chinese_name(english)
    return {"name": chinese, "name_zh": chinese, "name_en": english}


@cache
def shipped_immediate_kinds() -> list[ImmediateKindRule]:
    """The shipped immediate-pickup list, by number, as the migration that shipped it reads
    the annex."""
    amend = importlib.import_module("quotas.migrations.0010_immediate_pickup_kinds_shipped")
    rows: list[dict[str, Any]] = amend.kind_rows(shipped_policy()["immediate_pickup_kinds"])
    return [
        ImmediateKindRule(
            **{name: value for name, value in row.items() if name not in ("note", "category_code")},
            category_code=row["category_code"] or None,
        )
        for row in sorted(rows, key=lambda row: row["number"])
    ]


def policy_example(now: datetime) -> dict[str, Any]:
    """``GET /api/v1/policy``'s answer (two of its categories shown)."""
    policy = shipped_policy()
    kinds = policy["traveller_kinds"]
    deadline = policy["departure_deadline_days_for_immediate_and_guarantee"]
    residents = (
        ["resident_outbound_record"] if policy["resident_outbound_record_immediate_pickup"] else []
    )
    return {
        "id": 2,  # migration 0002 shipped it second, after the 2020 policy
        **shipped_policy_names(),
        "programme": "hainan_offshore",
        "effective_from": policy["effective_from"],
        "annual_limit": policy["annual_limit"],
        "min_age": policy["min_age"],
        "traveller_kinds": [*kinds, *residents],
        "pickup_rules": {
            "modes": policy["pickup_modes"],
            "immediate_max_unit_price_exclusive": policy[
                "immediate_pickup_max_unit_price_exclusive"
            ],
            "guarantee_min_unit_price": policy["guarantee_pickup_min_unit_price"],
            "departure_deadline_days": deadline,
            "ban_years": policy["ban_years"],
            "return_to_island_within_months": policy["return_to_island_pickup_within_months"],
            "return_to_island_residents_only": True,
            "outbound_modes": ["departure"] if TripKind.OUTBOUND in kinds else [],
        },
        "categories": [
            {
                "number": category["number"],
                "code": category["code"],
                "name_zh": category["name_zh"],
                "name_en": category["name_en"],
                "per_trip_limit": category["per_trip_limit"],
                "immediate_pickup": category["immediate_pickup"],
                "verified": category["verified"],
                "note": category["note"],
            }
            for category in policy["categories"]
            if category["code"] in SHOWN_CATEGORIES
        ],
        "immediate_pickup": {
            "max_unit_price": policy["immediate_pickup_max_unit_price_exclusive"],
            "kinds": [
                {
                    "code": kind.code,
                    "name_zh": kind.name_zh,
                    "name_en": kind.name_en,
                    "category": kind.category_code,
                    "unit": kind.unit,
                    "unit_zh": kind.unit_zh,
                    "unit_en": kind.unit_en,
                    "per_trip": kind.per_trip,
                    "per_variety": kind.per_variety,
                }
                for kind in shipped_immediate_kinds()
            ],
        },
    }
