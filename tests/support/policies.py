"""The shipped policy versions as pure rules, read from the project's data file (no database),
and the file as the database holds it: with the confirmations applied; the shipped versions in
the database; facts for the pure rules."""

from __future__ import annotations

import copy
import importlib
import json
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from quotas.models import Policy
from quotas.rules import CategoryRule, ImmediateKindRule, PolicyRules, ShopperFacts, TripFacts
from tests.conftest import local

# The migration that amended the shipped data says how the annex's rows become kinds.
_AMEND = importlib.import_module("quotas.migrations.0010_immediate_pickup_kinds_shipped")

DATA = Path(__file__).resolve().parents[2] / "quotas" / "data" / "hainan-offshore.json"
CONFIRMATIONS = DATA.with_name("confirmations.json")

# Facts the pure rules judge: an instant, an adult, a Hainan resident, a domestic flight.
NOW = local(2026, 3, 10, 12, 0)
ADULT = ShopperFacts(birth_date=date(1990, 1, 1))
RESIDENT = ShopperFacts(birth_date=date(1985, 6, 1), hainan_resident=True)
DOMESTIC = TripFacts(kind="domestic", mode="air", departs_at=local(2026, 3, 12, 10, 30))


def shipped(year: int) -> Policy:
    """The shipped (published) policy version that took effect in ``year``."""
    return Policy.objects.get(effective_from__year=year, status="published")


def confirmations() -> list[dict]:
    return json.loads(CONFIRMATIONS.read_text(encoding="utf-8"))["confirmations"]


def confirmed_policies() -> list[dict]:
    """The data file's policies with every confirmation applied to the versions it lists: what
    the migrations leave in the shipped versions."""
    policies = copy.deepcopy(json.loads(DATA.read_text(encoding="utf-8"))["policies"])
    for entry in confirmations():
        for policy in policies:
            if policy["effective_from"] not in entry["policies"]:
                continue
            if entry["category"] is None:
                target = policy
            else:
                (target,) = (c for c in policy["categories"] if c["code"] == entry["category"])
            for field, change in entry["change"].items():
                assert target[field] == change["from"], (entry["category"], field)
                target[field] = change["to"]
    return policies


@cache
def shipped_rules(effective_from: str) -> PolicyRules:
    """``shipped_rules("2025-11-01")`` → the 47-category version."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for item in data["policies"]:
        if item["effective_from"].startswith(effective_from):
            kinds = set(item["traveller_kinds"])
            if item["resident_outbound_record_immediate_pickup"]:
                kinds.add("resident_outbound_record")
            return PolicyRules(
                effective_from=datetime.fromisoformat(item["effective_from"]),
                annual_limit=Decimal(item["annual_limit"]),
                min_age=item["min_age"],
                traveller_kinds=frozenset(kinds),
                pickup_modes=frozenset(item["pickup_modes"]),
                immediate_max_unit_price=Decimal(item["immediate_pickup_max_unit_price_exclusive"]),
                guarantee_min_unit_price=Decimal(item["guarantee_pickup_min_unit_price"]),
                categories={
                    c["code"]: CategoryRule(
                        code=c["code"],
                        number=c["number"],
                        name_zh=c["name_zh"],
                        name_en=c["name_en"],
                        limit_unit=(c["per_trip_limit"] or {}).get("unit"),
                        limit_value=(c["per_trip_limit"] or {}).get("value"),
                        immediate_pickup=c["immediate_pickup"],
                    )
                    for c in item["categories"]
                },
                immediate_kinds={
                    row["code"]: ImmediateKindRule(
                        code=row["code"],
                        number=row["number"],
                        name_zh=row["name_zh"],
                        name_en=row["name_en"],
                        per_trip=row["per_trip"],
                        category_code=row["category_code"] or None,
                        unit_zh=row["unit_zh"],
                        unit_en=row["unit_en"],
                        counts_pieces=row["counts_pieces"],
                        per_variety=row["per_variety"],
                    )
                    for row in _AMEND.kind_rows(item["immediate_pickup_kinds"])
                },
            )
    raise LookupError(effective_from)
