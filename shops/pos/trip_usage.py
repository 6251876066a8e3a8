"""What a departure already holds, across every store: per limited category (pieces and
millilitres) and, for immediate pickup, per kind and SKU. One statement for any number of
trips, whatever the basket (the sale's trip, the look-up's open trips).

Completed sales count, net of returns; a voided sale counts nothing. A line counts towards
its kind's immediate-pickup cap only when its sale was picked up immediately; the kind is the
line's snapshot of its product's kind when sold. A kind that counts pieces (cosmetics) counts
the pieces inside a set, as the 30-piece limit does; every other kind counts units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from psycopg.rows import dict_row

from quotas import rules
from quotas.choices import LimitUnit, PickupMode
from quotas.selectors import Relation
from shops import sql


@dataclass
class TripUsage:
    """One trip's holdings: per limited category code (in its unit), per immediate kind code,
    and per (kind code, SKU)."""

    categories: dict[str, int] = field(default_factory=dict)
    immediate: dict[str, int] = field(default_factory=dict)
    immediate_sku: dict[tuple[str, str], int] = field(default_factory=dict)

    def as_rules_usage(self, annual_used: Any) -> rules.Usage:
        return rules.Usage(
            annual_used=annual_used,
            trip_used=self.categories,
            immediate_used=self.immediate,
            immediate_sku_used=self.immediate_sku,
        )


def trips_with_usage(
    *,
    trips: Relation,
    columns: Sequence[str],
    policy: rules.PolicyRules,
    categories: Sequence[str] | None = None,
    immediate: bool = False,
) -> list[tuple[tuple[Any, ...], TripUsage]]:
    """Each row of the ``trips`` relation (its ``columns``, ``id`` first) with what the trip
    holds, in the relation's order. One statement.

    ``categories`` narrows the recount to these limited categories (default: every limited
    category of ``policy``); ``immediate`` adds the immediate-pickup holdings per kind."""
    trips_sql, params = trips
    wanted = None if categories is None else set(categories)
    limited = [
        category
        for category in policy.limited_categories
        if wanted is None or category.code in wanted
    ]
    part_params: list[Any] = [category.code for category in limited]
    if immediate:
        piece_kinds = sorted(k.code for k in policy.immediate_kinds.values() if k.counts_pieces)
        part_params += [piece_kinds, PickupMode.IMMEDIATE.value]
    statement = sql.trips_usage_sql(trips_sql, tuple(columns), len(limited), immediate)
    with connection.cursor() as cursor:
        # Rows by column name (psycopg's dict_row): the caller's columns, then the held_* ones.
        cursor.cursor.row_factory = dict_row
        cursor.execute(statement, [*params, *part_params])
        rows = cursor.fetchall()
    found: dict[Any, tuple[tuple[Any, ...], TripUsage]] = {}
    units_of = {category.code: category.limit_unit for category in limited}
    for row in rows:
        head = tuple(row[column] for column in columns)
        _, usage = found.setdefault(row["id"], (head, TripUsage()))
        category_code, kind = row.get("held_category"), row.get("held_kind")
        if category_code:
            unit = units_of[category_code]
            held = row["held_ml"] if unit == LimitUnit.ML else row["held_pieces"]
            usage.categories[category_code] = int(held or 0)
        elif kind:
            units = int(row["held_units"] or 0)
            usage.immediate[kind] = usage.immediate.get(kind, 0) + units
            usage.immediate_sku[(kind, row["held_sku"])] = units
    for _, usage in found.values():
        for category in limited:
            usage.categories.setdefault(category.code, 0)
    return list(found.values())
