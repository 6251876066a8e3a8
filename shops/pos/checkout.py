"""Quote and commit: the only ways a sale is judged and written.

``sale_commit`` runs in one durable transaction that first locks the shopper and the shopper's
quota account of the year, then recounts this trip's usage across every store, judges the basket
with ``quotas.rules``, and writes the sale, its lines, the ledger entry and a dirty-day mark. No
network call happens while the locks are held, and nothing outside the database is touched.

Statements per commit, whatever the basket size (the policy in force comes from a per-process
cache):

1. the prelude: the idempotency try-lock, the key's recorded answer, fresh ids, the products;
2. the lock: the shopper's upsert and the year's account's, one statement that locks both rows
   (``quotas.services.quota_account_lock``; one or two more while an identity key rotation is
   under way);
3. the recount, after the lock (a fresh snapshot): the trip with its usage, or for a trip-less
   resident a departure this year; none for a shopper the lock just inserted (nothing yet), nor
   for a basket with no per-trip limit and no immediate pickup (its verdict depends on nothing
   the trip holds: the write finds the trip, and a departed one fails it, :class:`TripNotOpen`,
   and the sale is judged again with the trip read, which refuses it);
4. the write: the trip unless the recount read it, the sale, its lines, the dirty-day mark, the
   key's record of the first answer, the ledger entry and the account's balance (the quota side
   as parts from ``quotas.services``).

So 4 for a known shopper whose basket needs the recount, 3 otherwise and for a shopper the sale
inserts; a request to the API looks its terminal up first: 5 and 4
(tests/shops/pos/test_checkout.py, TestQueryBudget). They are plain statements
(dutyfree.db; why: docs/ARCHITECTURE.md).

A training terminal's sale (``Terminal.training``) is judged as any other, under the same lock,
with the trip always read (its write makes no trip, so the recount is what tells a departed
one), and written by a statement of its own (``shops.sql.training_sale_write_sql``): the sale
(``training`` set, no trip), its lines and the key's record; no ledger entry, no balance, no
dirty-day mark, no event. Nothing that counts or reports sales reads it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction

from dutyfree import money
from dutyfree.db import column_array, fetch_all, insert_rows, loaded, select_rows
from quotas import rules
from quotas.choices import PickupMode, TravellerKind
from quotas.models import QuotaAccount, Shopper, Trip
from quotas.rules import LOCAL_TZ, BasketLine, ProductFacts, ShopperFacts, TripFacts
from quotas.selectors import (
    PolicyInForce,
    account_of_year,
    departed_in_year,
    policy_in_force_cached,
    shopper_of_document,
    trip_of_departure,
)
from quotas.services import (
    Part,
    PresentedShopper,
    limits_kept,
    quota_account_lock,
    sale_debit_part,
    sale_trip_part,
)
from quotas.sql import SALE_TRIP_ID
from shops import sql
from shops.feed.events import sealed_identity_of
from shops.locks import IDEMPOTENCY_KEY_TRY_LOCK, idempotency_key_lock_params
from shops.models import (
    DirtyDay,
    IdempotencyRecord,
    Product,
    Sale,
    SaleLine,
    SaleStatus,
    Store,
    StoreChannel,
    Terminal,
)
from shops.pos.answers import WrittenLine, first_answer, immediate_limits_payload
from shops.pos.errors import PurchaseNotAllowed
from shops.pos.idempotency import (
    IN_PROGRESS,
    RECORD_COLUMNS,
    Answer,
    RequestInProgress,
    Retry,
    record_row,
    replay,
)
from shops.pos.idempotency import answer as first_answer_of
from shops.pos.trip_usage import TripUsage, trips_with_usage
from shops.tasks import pump_feed_after_commit, refresh_stats_after_commit

_RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


# --- Input -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TripInput:
    kind: str
    mode: str
    carrier_ref: str
    departs_at: datetime


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Basket:
    shopper: PresentedShopper
    trip: TripInput | None
    pickup: str
    lines: tuple[LineInput, ...]


# --- Output and errors -----------------------------------------------------------------------
@dataclass(frozen=True)
class Judgement:
    """A verdict with what it was judged under (for a quote's answer)."""

    version: PolicyInForce
    verdict: rules.Verdict
    year: int
    pickup: str


@dataclass(frozen=True)
class CommitResult:
    """A sale's answer as sent (or replayed), and the sale (read on demand for a replay)."""

    answer: Answer
    sale_id: int
    written: Sale | None = None

    @property
    def replayed(self) -> bool:
        return self.answer.replayed

    @property
    def body(self) -> dict[str, Any]:
        return self.answer.body

    @property
    def sale(self) -> Sale:
        if self.written is not None:
            return self.written
        return Sale.objects.select_related("store", "terminal").get(pk=self.sale_id)


# --- Reads shared by quote and commit --------------------------------------------------------
_PRODUCT_FIELDS = [
    Product._meta.get_field(name)
    for name in (
        "id",
        "sku",
        "category_code",
        "retail_price",
        "volume_ml",
        "pieces",
        "immediate_kind",
        "operator",
        "active",
    )
]


class KnownProduct(NamedTuple):
    """What a sale needs of an active product: its id (for the line) and its facts (for the
    rules). Not a model instance: a sale reads three columns' worth of each and writes none."""

    pk: int
    facts: ProductFacts


def sold_here(rows: Iterable[Sequence[Any]], operator_id: int | None) -> list[Sequence[Any]]:
    """Of (…, operator_id, active) rows of a basket's products in every catalogue, the ones a
    store of ``operator_id`` (``None``: the platform's) sells: per SKU its operator's product
    where it lists one (active or not: one it withdrew is not sold instead at the island's
    price), else the island's; never another operator's; the active ones only. Without the
    last two columns."""
    chosen: dict[str, Sequence[Any]] = {}
    for row in rows:
        owner = row[-2]
        if owner == operator_id and owner is not None:
            chosen[row[1]] = row
        elif owner is None:
            chosen.setdefault(row[1], row)
    return [row[:-2] for row in chosen.values() if row[-1]]


def _products(rows: Iterable[Sequence[Any]]) -> dict[str, KnownProduct]:
    """Products by SKU from (id, sku, category_code, retail_price, volume_ml, pieces,
    immediate_kind) rows."""
    return {
        sku: KnownProduct(
            pk,
            ProductFacts(
                sku=sku,
                category_code=category,
                unit_price=price,
                volume_ml=volume,
                pieces=pieces,
                immediate_kind=kind or None,
            ),
        )
        for pk, sku, category, price, volume, pieces, kind in rows
    }


def products_by_sku(skus: Sequence[str], *, operator_id: int | None) -> dict[str, KnownProduct]:
    """The active products with these SKUs that a store of ``operator_id`` (``None``: the
    platform's) sells: its operator's own, else the island catalogue's. One statement."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    return _products(
        sold_here(
            select_rows(sql.PRODUCTS_BY_SKU, [column_array(wanted)], _PRODUCT_FIELDS), operator_id
        )
    )


def _basket_lines(basket: Basket, products: Mapping[str, KnownProduct]) -> list[BasketLine]:
    return [
        BasketLine(
            sku=line.sku,
            quantity=line.quantity,
            product=products[line.sku].facts if line.sku in products else None,
        )
        for line in basket.lines
    ]


def trip_with_usage(
    *,
    shopper_id: int,
    trip: TripInput,
    policy: rules.PolicyRules,
    categories: Iterable[str] | None = None,
    immediate: bool = False,
) -> tuple[Trip | None, TripUsage]:
    """The shopper's trip for this departure and what it already holds (shops.pos.trip_usage): per
    limited category and, with ``immediate``, per immediate-pickup kind and SKU, across every
    store. One query.

    ``categories`` narrows the recount to the limited categories a basket asks for (default:
    every limited category, as a quote shows them all); a basket with none of them and no
    immediate pickup reads only the trip. Runs after the account lock: a statement started
    under the lock sees every sale that committed before it, so the recount is never stale.
    """
    found = trips_with_usage(
        trips=trip_of_departure(
            shopper_id=shopper_id, carrier_ref=trip.carrier_ref, departs_at=trip.departs_at
        ),
        columns=("id", "departed_at"),
        policy=policy,
        categories=None if categories is None else sorted(set(categories)),
        immediate=immediate,
    )
    if not found:
        return None, TripUsage()
    (trip_id, departed_at), usage = found[0]
    stored = loaded(
        Trip,
        id=trip_id,
        shopper=shopper_id,
        kind=trip.kind,
        mode=trip.mode,
        carrier_ref=trip.carrier_ref,
        departs_at=trip.departs_at,
        departed_at=departed_at,
    )
    return stored, usage


def _trip_facts(trip: TripInput, stored: Trip | None) -> TripFacts:
    return TripFacts(
        kind=trip.kind,
        mode=trip.mode,
        departs_at=trip.departs_at,
        departed_at=stored.departed_at if stored else None,
    )


def _shopper_facts(basket: Basket, shopper: Shopper | None, *, outbound: bool) -> ShopperFacts:
    return ShopperFacts(
        birth_date=basket.shopper.birth_date,
        hainan_resident=basket.shopper.hainan_resident,
        banned_from=shopper.banned_from if shopper else None,
        banned_until=shopper.banned_until if shopper else None,
        outbound_record_this_year=outbound,
    )


def _holdings_matter(
    version: PolicyInForce, basket: Basket, products: Mapping[str, KnownProduct]
) -> bool:
    """Whether the verdict depends on what the trip already holds: a category of the basket has
    a per-trip limit, or the pickup is immediate (the per-departure caps)."""
    if basket.pickup == PickupMode.IMMEDIATE:
        return True
    categories = version.rules.categories
    return any(
        (rule := categories.get(product.facts.category_code)) is not None and bool(rule.limit_unit)
        for product in products.values()
    )


class TripNotOpen(Exception):
    """The sale's write met its trip departed (the verdict was made without reading the trip):
    nothing was written; judge again with the trip read."""


def _judge(
    *,
    version: PolicyInForce,
    basket: Basket,
    products: Mapping[str, KnownProduct],
    shopper: Shopper | None,
    used: Decimal,
    year: int,
    at: datetime,
    all_limits: bool,
    physical_store: bool,
    shopper_inserted: bool = False,
    read_trip: bool = True,
) -> tuple[Trip | None, rules.Verdict]:
    """Gather what the shopper already holds (this trip's usage, or for a trip-less resident
    an off-island record this year) and judge the basket. Returns the stored trip, if any.
    A trip-less resident holds nothing towards the immediate-pickup caps: they apply to each
    purchase.

    ``all_limits``: recount every limited category (a quote reports them all); otherwise only
    those the basket asks for, which are all a verdict depends on. ``shopper_inserted``: the
    shopper row was inserted by this very transaction (no trip, no purchase, no departure yet:
    nothing to read). ``read_trip`` (a quote's, a sale's after :class:`TripNotOpen`): read the
    trip even when what it holds does not matter; otherwise the sale's write checks it."""
    trip, usage, outbound = None, TripUsage(), False
    if shopper is None or shopper_inserted:
        pass
    elif basket.trip is not None and not (
        read_trip or all_limits or _holdings_matter(version, basket, products)
    ):
        # Nothing the verdict depends on but the trip's own facts: the write upserts the trip
        # and refuses one that has departed (TripNotOpen), so no recount is spent on it.
        pass
    elif basket.trip is not None:
        trip, usage = trip_with_usage(
            shopper_id=shopper.pk,
            trip=basket.trip,
            policy=version.rules,
            categories=None if all_limits else {p.facts.category_code for p in products.values()},
            immediate=basket.pickup == PickupMode.IMMEDIATE,
        )
    else:
        outbound = departed_in_year(shopper_id=shopper.pk, year=year)
    verdict = rules.judge_basket(
        policy=version.rules,
        shopper=_shopper_facts(basket, shopper, outbound=outbound),
        trip=_trip_facts(basket.trip, trip) if basket.trip else None,
        pickup=basket.pickup,
        lines=_basket_lines(basket, products),
        usage=usage.as_rules_usage(used),
        at=at,
        physical_store=physical_store,
    )
    return trip, verdict


# --- Quote -----------------------------------------------------------------------------------
def sale_quote(
    *, basket: Basket, at: datetime, store: Store | None = None, physical_store: bool = True
) -> Judgement:
    """Judge a basket as of ``at`` against everything the shopper already bought, as ``store``
    would sell it (its operator's catalogue; none: the island catalogue), a physical store (or
    not: no immediate pickup online). Writes nothing.

    :raises NoPolicyInForce: when no policy was in force at ``at``.
    """
    version = policy_in_force_cached(at=at)
    year = rules.quota_year(at)
    products = products_by_sku(
        [line.sku for line in basket.lines],
        operator_id=store.operator_id if store is not None else None,
    )
    presented = basket.shopper
    # During a key rotation a shopper not yet re-keyed is still this shopper (the sale
    # re-keys; a quote only reads).
    shopper = shopper_of_document(
        doc_type=presented.doc_type,
        country=presented.country,
        number=presented.number,
        fields=("id", "banned_from", "banned_until"),
    )
    used = money.ZERO
    if shopper is not None:
        account = account_of_year(
            shopper_id=shopper.pk, programme_id=version.policy.programme_id, year=year
        )
        used = account.used if account is not None else money.ZERO
    _, verdict = _judge(
        all_limits=True,
        physical_store=physical_store,
        version=version,
        basket=basket,
        products=products,
        shopper=shopper,
        used=used,
        year=year,
        at=at,
    )
    return Judgement(version=version, verdict=verdict, year=year, pickup=basket.pickup)


# --- Commit ----------------------------------------------------------------------------------
def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """What tells a retry (same request) from a reuse of its key (another request)."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", path.encode(), b"\n", body):
        digest.update(part)
    return digest.hexdigest()


_PRELUDE_SQL = sql.SALE_PRELUDE.format(
    lock=IDEMPOTENCY_KEY_TRY_LOCK,
    record=", ".join(f"record.{column}" for column in RECORD_COLUMNS),
)


class _PreludeRow(NamedTuple):
    locked: bool
    sale_id: int
    line_ids: list[int]
    fingerprint: str | None
    status_code: int | None
    content: str | None
    location: str | None
    product_id: int | None
    sku: str | None
    category_code: str | None
    retail_price: Decimal | None
    volume_ml: int | None
    pieces: int | None
    immediate_kind: str | None
    product_operator_id: int | None
    product_active: bool | None


@dataclass(frozen=True)
class _Prelude:
    replay: Answer | None
    products: dict[str, KnownProduct]
    sale_id: int
    line_ids: list[int]


def _prelude(*, retry: Retry, skus: Sequence[str], lines: int, operator_id: int | None) -> _Prelude:
    """The key's first answer (if it has one), the basket's products as a store of
    ``operator_id`` sells them (``products_by_sku``), and fresh ids.

    The same statement takes a transaction-scoped advisory lock on (terminal, key): if another
    transaction holds it, the same request is still running. (If that twin commits between
    this statement's snapshot and the lock, the record insert meets the unique key and the
    commit is retried, which then replays the twin's answer.)

    :raises RequestInProgress: while another request with the key is in flight.
    :raises IdempotencyKeyReused: the key answered another request.
    """
    rows = [
        _PreludeRow(*row)
        for row in fetch_all(
            _PRELUDE_SQL,
            [
                *idempotency_key_lock_params(retry.terminal_id, retry.key),
                lines,
                retry.terminal_id,
                retry.key,
                column_array(sorted(set(skus))),
            ],
        )
    ]
    first = rows[0]
    if not first.locked:
        raise RequestInProgress(IN_PROGRESS)
    if first.fingerprint is not None:
        stored = (first.fingerprint, first.status_code, first.content, first.location)
        return _Prelude(
            replay(fingerprint=retry.fingerprint, stored=stored),  # type: ignore[arg-type]  # a record's columns are NOT NULL
            {},
            first.sale_id,
            [],
        )
    products = _products(sold_here((row[7:] for row in rows if row.sku is not None), operator_id))
    return _Prelude(None, products, first.sale_id, list(first.line_ids))


def _receipt_no(*, terminal: Terminal, now: datetime) -> str:
    local = now.astimezone(LOCAL_TZ)
    token = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(6))
    return f"{terminal.store.code}-{local:%Y%m%d-%H%M%S}-{token}"


def _traveller_kind(trip: TripInput | None) -> str:
    return trip.kind if trip is not None else TravellerKind.RESIDENT


@cache
def _columns(model: type[Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(model._meta.get_field(name) for name in names)


# What the key's record takes from the first answer; its terminal, key, fingerprint and time are
# the sale's own columns (the same values: shops.pos.idempotency.record_row), read from the sale's
# CTE, so the statement stays under psycopg's limit of 50 parameters for a cached conversion.
_RECORD_NAMES = ("status_code", "content", "location")


@cache
def _write_sale_sql(line_names: tuple[str, ...], new_trip: str | None, debit: str) -> str:
    """The write statement (``shops.sql.sale_write_sql``) for these line columns and quota
    parts (``debit``, and ``new_trip`` when there is one: parts from ``quotas.services``), its
    columns read from the models."""
    quote = connection.ops.quote_name
    trip = SALE_TRIP_ID if new_trip else "%s"
    return sql.sale_write_sql(
        sale=tuple(
            (quote(field.column), trip if field.name == "trip" else "%s")
            for field in _columns(Sale, ("id", *COMMIT_COLUMNS))
        ),
        lines=tuple(
            (quote(field.column), field.db_type(connection))
            for field in _columns(SaleLine, line_names)
        ),
        record=tuple(quote(field.column) for field in _columns(IdempotencyRecord, _RECORD_NAMES)),
        parts=f"{new_trip}, {debit}" if new_trip else debit,
    )


def _sale_params(
    *,
    sale_row: dict[str, Any],
    line_rows: list[dict[str, Any]],
    record: dict[str, Any],
    sale: Sequence[Any],
) -> list[Any]:
    """The write's parameters of the sale (its columns ``sale``, ``trip`` left out when the
    statement makes the trip), its lines (one array per column) and the key's record."""
    real = connections[DEFAULT_DB_ALIAS]  # not the proxy: looked up once, not per value
    params = [field.get_db_prep_save(sale_row[field.name], real) for field in sale]
    # A line's values are ints, Decimals and strings, which each column takes as they are: one
    # array literal per column (dutyfree.db.column_array), not a list psycopg adapts by element.
    params += [column_array([row[name] for row in line_rows]) for name in line_rows[0]]
    params += [
        field.get_db_prep_save(record[name], real)
        for name, field in zip(
            _RECORD_NAMES, _columns(IdempotencyRecord, _RECORD_NAMES), strict=True
        )
    ]
    return params


def write_sale(
    *,
    sale_row: dict[str, Any],
    line_rows: list[dict[str, Any]],
    record: dict[str, Any],
    debit: Part,
    new_trip: Part | None = None,
    sealed_identity: str = "",
) -> int | None:
    """Insert a sale and its lines (with their ids given), the dirty-day mark of its (local
    day, store), the key's record of its first answer (:func:`shops.pos.idempotency.record_row`;
    its terminal, key, fingerprint and time are the sale's) and the quota side: ``debit``
    (``quotas.services.sale_debit_part``) and, for a departure not stored yet, ``new_trip``
    (``quotas.services.sale_trip_part``, whose id the sale takes instead of
    ``sale_row["trip"]``), and the sale's event in the outbox (``shops.feed.events``: its data
    the first answer, ``sealed_identity`` for customs). One statement. Returns the sale's trip
    id.

    :raises QuotaConflict: the account's check refused the debit (nothing was written).
    """
    refresh_stats_after_commit()
    pump_feed_after_commit()
    names = tuple(line_rows[0])
    trip_sql, params = new_trip if new_trip is not None else (None, [])
    debit_sql, debit_params = debit
    params = [*params, *debit_params]  # the parts come first in the statement
    params += _sale_params(
        sale_row=sale_row,
        line_rows=line_rows,
        record=record,
        sale=[
            field
            for field in _columns(Sale, ("id", *COMMIT_COLUMNS))
            if not (trip_sql and field.name == "trip")
        ],
    )
    params.append(sealed_identity)
    with limits_kept():
        ((trip_id, _),) = fetch_all(_write_sale_sql(names, trip_sql, debit_sql), params)
    return trip_id


@cache
def _write_training_sale_sql(line_names: tuple[str, ...]) -> str:
    """The training sale's write (``shops.sql.training_sale_write_sql``) for these line
    columns, its columns read from the models."""
    quote = connection.ops.quote_name
    return sql.training_sale_write_sql(
        sale=tuple(
            (quote(field.column), "%s") for field in _columns(Sale, ("id", *TRAINING_COLUMNS))
        ),
        lines=tuple(
            (quote(field.column), field.db_type(connection))
            for field in _columns(SaleLine, line_names)
        ),
        record=tuple(quote(field.column) for field in _columns(IdempotencyRecord, _RECORD_NAMES)),
    )


def write_training_sale(
    *, sale_row: dict[str, Any], line_rows: list[dict[str, Any]], record: dict[str, Any]
) -> None:
    """Insert a training terminal's sale (``sale_row["training"]`` true, no trip) and its lines
    (with their ids given), and the key's record of its first answer, as :func:`write_sale`
    does, and nothing else: no quota side, no dirty-day mark, no event. One statement."""
    params = _sale_params(
        sale_row=sale_row,
        line_rows=line_rows,
        record=record,
        sale=_columns(Sale, ("id", *TRAINING_COLUMNS)),
    )
    fetch_all(_write_training_sale_sql(tuple(line_rows[0])), params)


def mark_dirty(*, sale: Sale, now: datetime) -> None:
    """Queue the sale's (local day, store) slice for the rollups, in the caller's transaction;
    nothing for a training sale, which no rollup counts."""
    if sale.training:
        return
    insert_rows(DirtyDay, [{"day": sale.local_date, "store": sale.store_id, "marked_at": now}])
    refresh_stats_after_commit()


def sale_commit(
    *, terminal: Terminal, idempotency_key: str, fingerprint: str, basket: Basket, now: datetime
) -> CommitResult:
    """Judge and record a sale exactly once per (terminal, idempotency key).

    A retry with the same key and request gets the first answer again, byte for byte
    (``replayed``); the same key with another request is refused. Judged at ``now``, the moment
    it commits.

    :raises PurchaseNotAllowed: the policy forbids it; nothing is written.
    :raises IdempotencyKeyReused: the key was used for another request.
    :raises RequestInProgress: the first request with the key is still running.
    :raises NoPolicyInForce: no policy is in force.
    """
    version = policy_in_force_cached(at=now)
    year = rules.quota_year(now)
    retry = Retry(terminal_id=terminal.pk, key=idempotency_key, fingerprint=fingerprint)
    read_trip = False
    for attempt in range(3):
        try:
            return _commit_once(
                terminal=terminal,
                retry=retry,
                basket=basket,
                now=now,
                version=version,
                year=year,
                read_trip=read_trip,
            )
        except TripNotOpen:
            read_trip = True  # judged again with the trip read: the verdict tells it departed
        except IntegrityError:
            # A concurrent twin committed first (same key: replay it), or a receipt number
            # collided (draw another). Anything else fails again and is raised.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@transaction.atomic(durable=True)
def _commit_once(
    *,
    terminal: Terminal,
    retry: Retry,
    basket: Basket,
    now: datetime,
    version: PolicyInForce,
    year: int,
    read_trip: bool,
) -> CommitResult:
    prelude = _prelude(
        retry=retry,
        skus=[line.sku for line in basket.lines],
        lines=len(basket.lines),
        operator_id=terminal.store.operator_id,
    )
    if prelude.replay is not None:
        return CommitResult(prelude.replay, sale_id=prelude.replay.body["id"])
    products = prelude.products
    training = terminal.training

    policy = version.policy
    account, shopper_inserted = quota_account_lock(
        presented=basket.shopper,
        programme_id=policy.programme_id,
        year=year,
        limit=policy.annual_limit,
        now=now,
        keep_stored=training,
    )
    shopper = account.shopper
    # A statement of its own after the locks: its snapshot sees every sale committed before.
    trip, verdict = _judge(
        all_limits=False,
        read_trip=read_trip or training,  # a training sale's write makes no trip, checks none
        shopper_inserted=shopper_inserted,
        physical_store=terminal.store.channel == StoreChannel.PHYSICAL,
        version=version,
        basket=basket,
        products=products,
        shopper=shopper,
        used=account.used,
        year=year,
        at=now,
    )
    if not verdict.allowed:
        raise PurchaseNotAllowed(verdict)
    if training:
        return _commit_training(
            prelude=prelude,
            terminal=terminal,
            retry=retry,
            basket=basket,
            verdict=verdict,
            account=account,
            policy_id=policy.pk,
            now=now,
        )
    new_trip = None
    if basket.trip is not None and trip is None:
        new_trip = sale_trip_part(
            shopper_id=shopper.pk,
            kind=basket.trip.kind,
            mode=basket.trip.mode,
            carrier_ref=basket.trip.carrier_ref,
            departs_at=basket.trip.departs_at,
            now=now,
        )

    sale_row = _sale_row(
        prelude=prelude,
        terminal=terminal,
        retry=retry,
        basket=basket,
        verdict=verdict,
        shopper_id=shopper.pk,
        trip_id=trip.pk if trip else None,
        account=account,
        policy_id=policy.pk,
        now=now,
    )
    rows = _line_rows(line_ids=prelude.line_ids, verdict=verdict, products=products)
    sale, first = _first_answer(sale_row=sale_row, line_rows=rows, terminal=terminal)
    trip_id = write_sale(
        sale_row=sale_row,
        line_rows=rows,
        record=record_row(retry=retry, first=first, now=now),
        new_trip=new_trip,
        debit=sale_debit_part(
            account=account, amount=verdict.total, reference=f"sale:{sale.pk}", now=now
        ),
        sealed_identity=sealed_identity_of(
            doc_type=basket.shopper.doc_type,
            number=basket.shopper.number,
            country=basket.shopper.country,
            name=basket.shopper.name,
            birth_date=basket.shopper.birth_date,
        ),
    )
    if basket.trip is not None and trip_id is None:
        raise TripNotOpen  # rolls the write back as it leaves the transaction
    sale.trip_id = trip_id
    return CommitResult(first, sale_id=sale.pk, written=sale)


def _commit_training(
    *,
    prelude: _Prelude,
    terminal: Terminal,
    retry: Retry,
    basket: Basket,
    verdict: rules.Verdict,
    account: QuotaAccount,
    policy_id: int,
    now: datetime,
) -> CommitResult:
    """A training terminal's sale, judged allowed: written with its lines and its first
    answer's record, and nothing else (:func:`write_training_sale`). No trip: a trip made for
    it would show among the shopper's open trips and be closed by the shopper's departure."""
    sale_row = _sale_row(
        prelude=prelude,
        terminal=terminal,
        retry=retry,
        basket=basket,
        verdict=verdict,
        shopper_id=account.shopper_id,
        trip_id=None,
        account=account,
        policy_id=policy_id,
        now=now,
        training=True,
    )
    rows = _line_rows(line_ids=prelude.line_ids, verdict=verdict, products=prelude.products)
    sale, first = _first_answer(sale_row=sale_row, line_rows=rows, terminal=terminal)
    write_training_sale(
        sale_row=sale_row, line_rows=rows, record=record_row(retry=retry, first=first, now=now)
    )
    return CommitResult(first, sale_id=sale.pk, written=sale)


def _sale_row(
    *,
    prelude: _Prelude,
    terminal: Terminal,
    retry: Retry,
    basket: Basket,
    verdict: rules.Verdict,
    shopper_id: int,
    trip_id: int | None,
    account: QuotaAccount,
    policy_id: int,
    now: datetime,
    training: bool = False,
) -> dict[str, Any]:
    """The sale's row as the write statement takes it: every column of TRAINING_COLUMNS (a real
    sale's statement writes those of COMMIT_COLUMNS), and the id the prelude drew. A training
    sale spends nothing: the account's ``used`` after it is ``used`` before."""
    return {
        "id": prelude.sale_id,
        "receipt_no": _receipt_no(terminal=terminal, now=now),
        "store": terminal.store_id,
        "terminal": terminal.pk,
        "shopper": shopper_id,
        "trip": trip_id,
        "account": account.pk,
        "policy": policy_id,
        "sold_at": now,
        "local_date": now.astimezone(LOCAL_TZ).date(),
        "pickup": basket.pickup,
        "shopper_age": rules.age_on(basket.shopper.birth_date, rules.local_date(now)),
        "shopper_resident": basket.shopper.hainan_resident,
        "traveller_kind": _traveller_kind(basket.trip),
        "status": SaleStatus.COMPLETED,
        "total": verdict.total,
        "returned_amount": money.ZERO,
        "quota_used_after": account.used if training else account.used + verdict.total,
        "idempotency_key": retry.key,
        "request_fingerprint": retry.fingerprint,
        "imported": False,
        "immediate_limits": immediate_limits_payload(verdict.immediate_limits)
        if basket.pickup == PickupMode.IMMEDIATE
        else None,
        "training": training,
    }


def _line_rows(
    *, line_ids: Sequence[int], verdict: rules.Verdict, products: Mapping[str, KnownProduct]
) -> list[dict[str, Any]]:
    """The lines' rows, numbered from 1 in the basket's order, with the ids the prelude drew;
    each snapshots what it sold as (price, pieces, ml, immediate-pickup kind)."""
    return [
        {
            "id": line_id,
            "line_no": number,
            "product": products[line.sku].pk,
            "sku": line.sku,
            "category_code": line.product.category_code,  # type: ignore[union-attr]  # allowed: a known product
            "quantity": line.quantity,
            "unit_price": line.product.unit_price,  # type: ignore[union-attr]  # allowed: a known product
            "amount": line.amount,
            "pieces": line.product.pieces,  # type: ignore[union-attr]  # allowed: a known product
            "volume_ml": line.product.volume_ml,  # type: ignore[union-attr]  # allowed: a known product
            "immediate_kind": line.product.immediate_kind or "",  # type: ignore[union-attr]  # allowed: a known product
            "returned_quantity": 0,
        }
        for number, (line_id, line) in enumerate(zip(line_ids, verdict.lines, strict=True), start=1)
    ]


def _first_answer(
    *, sale_row: dict[str, Any], line_rows: Sequence[dict[str, Any]], terminal: Terminal
) -> tuple[Sale, Answer]:
    """The sale about to be written (every column: TRAINING_COLUMNS, the id, the two left NULL)
    and its first answer, rendered before the write so that the write records it."""
    sale = loaded(Sale, **sale_row, picked_up_at=None, voided_at=None)
    sale.store, sale.terminal = terminal.store, terminal
    lines = [
        WrittenLine(
            pk=row["id"],
            sku=row["sku"],
            category_code=row["category_code"],
            quantity=row["quantity"],
            unit_price=row["unit_price"],
            amount=row["amount"],
        )
        for row in line_rows
    ]
    first = first_answer_of(
        201, first_answer(sale, lines=lines), location=f"/api/v1/sales/{sale.pk}"
    )
    return sale, first


# The columns of a sale as the hot path and import_sales write them.
SALE_COLUMNS = (
    "receipt_no",
    "store",
    "terminal",
    "shopper",
    "trip",
    "account",
    "policy",
    "sold_at",
    "local_date",
    "pickup",
    "shopper_age",
    "shopper_resident",
    "traveller_kind",
    "status",
    "total",
    "returned_amount",
    "quota_used_after",
    "idempotency_key",
    "request_fingerprint",
    "imported",
)
# What the hot path writes: SALE_COLUMNS but ``returned_amount`` (nothing is returned yet: the
# column's database default), so that the write stays within psycopg's 50 parameters of a cached
# conversion; and the immediate-pickup caps of its answer.
COMMIT_COLUMNS = (*(c for c in SALE_COLUMNS if c != "returned_amount"), "immediate_limits")
# What a training sale writes besides: its flag (a real sale's statement leaves it to the
# column's default, false, and keeps its text).
TRAINING_COLUMNS = (*COMMIT_COLUMNS, "training")
