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

from quotas import rules
from quotas.choices import LimitUnit, PickupMode
from quotas.selectors import Relation

_NET = "(line.quantity - line.returned_quantity)"
# Constants: no value is interpolated (the IN list is of %s placeholders).
_CATEGORIES = f"""
  SELECT line.category_code AS category_code, NULL::varchar AS kind, NULL::varchar AS sku,
         SUM({_NET} * line.pieces) AS pieces,
         SUM({_NET} * COALESCE(line.volume_ml, 0)) AS ml, NULL::bigint AS units
  FROM shops_sale AS sale JOIN shops_saleline AS line ON line.sale_id = sale.id
  WHERE sale.trip_id = trip.id AND sale.status = 'completed' AND line.category_code IN ({{codes}})
  GROUP BY line.category_code"""  # noqa: S608
_IMMEDIATE = f"""
  SELECT NULL::varchar AS category_code, line.immediate_kind AS kind, line.sku AS sku,
         NULL::bigint AS pieces, NULL::bigint AS ml,
         SUM({_NET} * CASE WHEN line.immediate_kind = ANY(%s::varchar[]) THEN line.pieces
                           ELSE 1 END) AS units
  FROM shops_sale AS sale JOIN shops_saleline AS line ON line.sale_id = sale.id
  WHERE sale.trip_id = trip.id AND sale.status = 'completed' AND sale.pickup = %s
    AND line.immediate_kind <> ''
  GROUP BY line.immediate_kind, line.sku"""  # noqa: S608


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
    parts: list[str] = []
    part_params: list[Any] = []
    if limited:
        parts.append(_CATEGORIES.format(codes=", ".join(["%s"] * len(limited))))
        part_params += [category.code for category in limited]
    if immediate:
        parts.append(_IMMEDIATE)
        piece_kinds = sorted(k.code for k in policy.immediate_kinds.values() if k.counts_pieces)
        part_params += [piece_kinds, PickupMode.IMMEDIATE.value]
    selected = ", ".join(f"trip.{column}" for column in columns)
    if parts:
        # Identifiers are the caller's column names; every value is a parameter.
        sql = (
            f"SELECT {selected}, u.category_code, u.kind, u.sku, u.pieces, u.ml, u.units "  # noqa: S608
            f"FROM ({trips_sql}) AS trip LEFT JOIN LATERAL ({' UNION ALL '.join(parts)}) AS u "
            "ON true"
        )
    else:
        sql = f"SELECT {selected}, NULL, NULL, NULL, NULL, NULL, NULL FROM ({trips_sql}) AS trip"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *part_params])
        rows = cursor.fetchall()
    width = len(columns)
    found: dict[Any, tuple[tuple[Any, ...], TripUsage]] = {}
    units_of = {category.code: category.limit_unit for category in limited}
    for row in rows:
        head = tuple(row[:width])
        category_code, kind, sku, pieces, ml, units = row[width:]
        _, usage = found.setdefault(head[0], (head, TripUsage()))
        if category_code:
            held = ml if units_of[category_code] == LimitUnit.ML else pieces
            usage.categories[category_code] = int(held or 0)
        elif kind:
            usage.immediate[kind] = usage.immediate.get(kind, 0) + int(units or 0)
            usage.immediate_sku[(kind, sku)] = int(units or 0)
    for _, usage in found.values():
        for category in limited:
            usage.categories.setdefault(category.code, 0)
    return list(found.values())
