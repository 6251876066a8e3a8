"""Reading the recorded sales a preview judges: one snapshot, a server-side cursor, batches.

The sales come as :class:`RecordedSale` rows, trip by trip and each trip's sales in time order
(shops.sql.PREVIEW_SALES), so that a trip's earlier sales are at hand when a later one is
judged and nothing else is kept: memory stays flat whatever the window. Only reads: no row of
a sale, account or trip is locked (plain ``SELECT``, a ``READ ONLY`` transaction of its own on
its own connection, which may be a replica's: ``PREVIEW_DATABASE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections

from quotas.rules import LOCAL_TZ, ProductFacts
from quotas.selectors import preview_relations
from shops import sql

# Rows a round trip of the cursor brings (about 1 MB of sales with their lines).
BATCH = 2_000


@dataclass(slots=True)
class RecordedLine:
    id: int
    product: ProductFacts
    quantity: int
    amount: Decimal
    # (when, how many) of each return of this line, if any.
    returns: list[tuple[datetime, int]] | None


@dataclass(slots=True)
class RecordedSale:
    id: int
    receipt_no: str
    store_id: int
    trip_id: int | None
    sold_at: datetime
    judged: bool  # a completed sale of the window; otherwise it only held something a while
    imported: bool
    pickup: str
    traveller_kind: str
    voided_at: datetime | None
    total: Decimal
    quota_used_after: Decimal
    shopper_age: int | None  # as presented with the basket; None: not recorded then
    shopper_resident: bool | None
    birth_year: int  # the shopper's row (for a sale that did not record the age)
    hainan_resident: bool  # the shopper's row, as last presented
    banned_from: datetime | None
    banned_until: datetime | None
    trip_mode: str | None
    departs_at: datetime | None
    departed_at: datetime | None
    outbound: bool | None  # trip-less: a departure recorded earlier in the sale's year
    lines: list[RecordedLine]


def _sale(row: tuple[Any, ...]) -> RecordedSale:
    (*head, ids, skus, categories, quantities, prices, amounts, pieces, volumes, kinds) = row[:-3]
    returned_lines, returned_at, returned_quantities = row[-3:]
    returns: dict[int, list[tuple[datetime, int]]] = {}
    if returned_lines:
        for line_id, at, quantity in zip(
            returned_lines, returned_at, returned_quantities, strict=True
        ):
            returns.setdefault(line_id, []).append((at, quantity))
    lines = [
        RecordedLine(
            id=line_id,
            product=ProductFacts(
                sku=sku,
                category_code=category,
                unit_price=price,
                volume_ml=volume,
                pieces=piece_count,
                immediate_kind=kind or None,
            ),
            quantity=quantity,
            amount=amount,
            returns=returns.get(line_id),
        )
        for line_id, sku, category, quantity, price, amount, piece_count, volume, kind in zip(
            *(
                column or ()
                for column in (
                    ids,
                    skus,
                    categories,
                    quantities,
                    prices,
                    amounts,
                    pieces,
                    volumes,
                    kinds,
                )
            ),
            strict=True,
        )
    ]
    return RecordedSale(*head, lines)  # type: ignore[call-arg]  # head: the fields in order


@contextmanager
def _snapshot() -> Iterator[Any]:
    """A psycopg connection in a ``REPEATABLE READ READ ONLY`` transaction of its own (one
    snapshot for the counts and every batch), closed after; or, when the caller already holds
    a transaction on that database (a test's, a caller's that wants its own view), that one."""
    alias = settings.PREVIEW_DATABASE
    caller = connections[alias]
    if caller.in_atomic_block:
        caller.ensure_connection()
        yield caller.connection
        return
    own = connections.create_connection(alias)
    try:
        own.ensure_connection()
        raw = own.connection
        with raw.transaction():
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield raw
    finally:
        own.close()


@dataclass(frozen=True)
class Counts:
    sales: int
    shoppers: int
    shoppers_over: int
    shoppers_at_limit: int


@contextmanager
def recorded_sales(
    *,
    start: date,
    end: date,
    policies: list[int],
    limits: dict[int, Decimal],
    limit: Decimal,
) -> Iterator[tuple[Counts, Iterator[RecordedSale]]]:
    """The window's counts and its sales (:data:`shops.sql.PREVIEW_SALES`), in one snapshot.

    ``policies``: the programme's versions whose sales are judged; ``limits``: each one's
    annual limit; ``limit``: the previewed annual limit."""
    params = {"start": start, "end": end, "policies": policies, "zone": LOCAL_TZ.key}
    versions = sorted(limits)
    with _snapshot() as raw:
        with raw.cursor() as cursor:
            cursor.execute(
                sql.PREVIEW_COUNTS,
                {
                    **params,
                    "limit": limit,
                    "versions": versions,
                    "limits": [limits[v] for v in versions],
                },
            )
            counts = Counts(*cursor.fetchone())
        statement = sql.PREVIEW_SALES.format(
            **{name: relation[0] for name, relation in preview_relations().items()}
        )
        # A server-side cursor: PostgreSQL keeps the result, this process a batch at a time.
        with raw.cursor(name="policy_preview", binary=True) as cursor:
            cursor.itersize = BATCH
            cursor.execute(statement, params)
            yield counts, (_sale(row) for row in cursor)
