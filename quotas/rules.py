"""The policy, as pure functions: judge a basket against one policy version.

No database, no clock, no settings: everything the verdict depends on is passed in, so the
same facts always give the same verdict and every rule can be tested at its boundaries.
:func:`judge_basket` returns **every** violation at once, never only the first.

Violation codes are the contract's (``../shared/API.md``); each violation carries its message
in both languages and, for ``traveller_not_eligible``, ``pickup_not_allowed`` and
``invalid_quantity``, a finer ``reason``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from dutyfree import money

from .choices import ImmediateUnit, LimitUnit, PickupMode, TravellerKind, TripKind, TripMode

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_LINE_QUANTITY = 999

# Violation codes, in the order a verdict lists them.
UNDERAGE = "underage"
BANNED = "banned"
TRAVELLER_NOT_ELIGIBLE = "traveller_not_eligible"
TRIP_REQUIRED = "trip_required"
TRIP_DEPARTED = "trip_departed"
INVALID_QUANTITY = "invalid_quantity"
UNKNOWN_SKU = "unknown_sku"
NOT_DUTY_FREE_CATEGORY = "not_duty_free_category"
PICKUP_NOT_ALLOWED = "pickup_not_allowed"
PER_TRIP_LIMIT_EXCEEDED = "per_trip_limit_exceeded"
IMMEDIATE_PICKUP_LIMIT_EXCEEDED = "immediate_pickup_limit_exceeded"
ANNUAL_QUOTA_EXCEEDED = "annual_quota_exceeded"
CODES = (
    UNDERAGE,
    BANNED,
    TRAVELLER_NOT_ELIGIBLE,
    TRIP_REQUIRED,
    TRIP_DEPARTED,
    INVALID_QUANTITY,
    UNKNOWN_SKU,
    NOT_DUTY_FREE_CATEGORY,
    PICKUP_NOT_ALLOWED,
    PER_TRIP_LIMIT_EXCEEDED,
    IMMEDIATE_PICKUP_LIMIT_EXCEEDED,
    ANNUAL_QUOTA_EXCEEDED,
)


# --- Facts in -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryRule:
    code: str
    number: int
    name_zh: str
    name_en: str
    limit_unit: str | None = None  # LimitUnit value, or None: no per-trip limit
    limit_value: int | None = None
    immediate_pickup: bool = False


@dataclass(frozen=True)
class ImmediateKindRule:
    """A kind of goods on the immediate-pickup list (即购即提) and its caps per departure."""

    code: str
    number: int
    name_zh: str
    name_en: str
    per_trip: int
    category_code: str | None = None  # None: the annex does not say
    unit_zh: str = "件"
    unit_en: str = "piece"
    counts_pieces: bool = False  # a set counts the pieces inside (cosmetics); else units
    per_variety: int | None = None  # at most this many of any single SKU

    @property
    def unit(self) -> str:
        return ImmediateUnit.counting(counts_pieces=self.counts_pieces)


@dataclass(frozen=True)
class PolicyRules:
    annual_limit: Decimal
    min_age: int
    traveller_kinds: frozenset[str]
    pickup_modes: frozenset[str]
    immediate_max_unit_price: Decimal  # exclusive: immediate pickup needs unit price < this
    guarantee_min_unit_price: Decimal  # inclusive: guarantee pickup needs unit price >= this
    categories: Mapping[str, CategoryRule]
    # The immediate-pickup list by kind code (announcement 2023 No. 25).
    immediate_kinds: Mapping[str, ImmediateKindRule] = field(default_factory=dict)
    id: int | None = None
    effective_from: datetime | None = None

    @property
    def limited_categories(self) -> list[CategoryRule]:
        return sorted((c for c in self.categories.values() if c.limit_unit), key=lambda c: c.number)


@dataclass(frozen=True)
class ShopperFacts:
    birth_date: date
    hainan_resident: bool = False
    # The shopper's bans span [banned_from, banned_until): none is in force outside it.
    banned_from: datetime | None = None
    banned_until: datetime | None = None
    # A Hainan resident who left the island this calendar year (a recorded departure).
    outbound_record_this_year: bool = False


@dataclass(frozen=True)
class TripFacts:
    kind: str  # TripKind
    mode: str  # TripMode
    departs_at: datetime
    departed_at: datetime | None = None  # confirmed departure, if recorded


@dataclass(frozen=True)
class ProductFacts:
    sku: str
    category_code: str
    unit_price: Decimal
    volume_ml: int | None = None  # per unit
    pieces: int = 1  # per unit: a set of five counts five pieces
    immediate_kind: str | None = None  # its kind on the immediate-pickup list, if any


@dataclass(frozen=True)
class BasketLine:
    sku: str
    quantity: object  # validated here: an int from 1 to MAX_LINE_QUANTITY
    product: ProductFacts | None  # None: the SKU is unknown


@dataclass(frozen=True)
class Usage:
    annual_used: Decimal = money.ZERO
    # Per category code, what this trip already holds, in the category's unit (pieces or ml).
    trip_used: Mapping[str, int] = field(default_factory=dict)
    # Per kind code, what this departure already holds by immediate pickup (the kind's unit),
    # and per (kind code, SKU) for the per-variety caps.
    immediate_used: Mapping[str, int] = field(default_factory=dict)
    immediate_sku_used: Mapping[tuple[str, str], int] = field(default_factory=dict)


# --- Verdict out ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    code: str
    message_zh: str = field(compare=False)
    message_en: str = field(compare=False)
    reason: str | None = None
    sku: str | None = None
    category: str | None = None
    kind: str | None = None
    unit: str | None = None
    limit: int | Decimal | None = None
    already: int | Decimal | None = None
    requested: int | Decimal | None = None

    def message(self, language: str | None) -> str:
        return self.message_en if (language or "").lower().startswith("en") else self.message_zh

    def sort_key(self) -> tuple[object, ...]:
        """Listing order: by code, then what the violation is about; never by line order."""
        return (
            CODES.index(self.code),
            self.category or "",
            self.kind or "",
            self.sku or "",
            self.reason or "",
            str(self.limit),
            str(self.already),
            str(self.requested),
        )


@dataclass(frozen=True)
class LineVerdict:
    sku: str
    quantity: object
    product: ProductFacts | None
    category: CategoryRule | None
    amount: Decimal | None
    violations: tuple[Violation, ...]

    @property
    def allowed(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class TripLimit:
    category: CategoryRule
    unit: str
    limit: int
    used: int
    requested: int

    @property
    def remaining_after(self) -> int:
        return self.limit - self.used - self.requested


@dataclass(frozen=True)
class ImmediateLimit:
    """One kind's cap for immediate pickup on this departure: held already, asked for now."""

    kind: ImmediateKindRule
    used: int
    requested: int

    @property
    def limit(self) -> int:
        return self.kind.per_trip

    @property
    def unit(self) -> str:
        return self.kind.unit

    @property
    def remaining_after(self) -> int:
        return self.limit - self.used - self.requested


@dataclass(frozen=True)
class Verdict:
    violations: tuple[Violation, ...]
    lines: tuple[LineVerdict, ...]
    total: Decimal
    annual_limit: Decimal
    annual_used: Decimal
    trip_limits: tuple[TripLimit, ...]
    # Every listed kind's cap, when the pickup is immediate; empty for other pickups.
    immediate_limits: tuple[ImmediateLimit, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.violations

    @property
    def remaining(self) -> Decimal:
        return self.annual_limit - self.annual_used

    @property
    def remaining_after(self) -> Decimal:
        return self.annual_limit - self.annual_used - self.total


# --- Messages -------------------------------------------------------------------------------
_UNIT_ZH = {LimitUnit.PIECE: "件", LimitUnit.ML: "毫升"}
_UNIT_EN = {LimitUnit.PIECE: "pieces", LimitUnit.ML: "ml"}
_KIND_ZH: dict[str, str] = {TripKind.DOMESTIC: "离岛（国内）", TripKind.OUTBOUND: "离岛离境"}
_PICKUP_ZH: dict[str, str] = {
    PickupMode.DEPARTURE: "离岛提货",
    PickupMode.MAIL: "邮寄送达",
    PickupMode.RETURN_TO_ISLAND: "返岛提取",
    PickupMode.IMMEDIATE: "即购即提",
    PickupMode.GUARANTEE: "担保即提",
}


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


def _violation(code: str, zh: str, en: str, **facts: object) -> Violation:
    return Violation(code=code, message_zh=zh, message_en=en, **facts)  # type: ignore[arg-type]  # facts: its optional fields


# --- Helpers --------------------------------------------------------------------------------
def local_date(at: datetime) -> date:
    """The calendar day of ``at`` in Asia/Shanghai.

    :raises ValueError: if ``at`` is naive.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("Times must be aware (carry an offset).")
    return at.astimezone(LOCAL_TZ).date()


def ban_in_force(
    *, banned_from: datetime | None, banned_until: datetime | None, at: datetime
) -> bool:
    """A ban bites from its start (inclusive) to its end (exclusive), never before or after;
    no start means in force from the first (as recorded before bans carried one)."""
    if banned_until is None or at >= banned_until:
        return False
    return banned_from is None or banned_from <= at


# A flight, train or ship reference as a terminal or the importer may send it ("HU7181", "HU 7181").
CARRIER_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-/]{0,31}$")
_CARRIER_SEPARATORS = re.compile(r"[\s\-/]+")


def carrier_ref_key(value: str) -> str:
    """A carrier reference as trips are matched by it: separators dropped, upper case, so that
    "HU 7181", "hu-7181" and "HU7181" are one flight (per-trip limits, departures)."""
    return _CARRIER_SEPARATORS.sub("", value).upper()


def quota_year(at: datetime) -> int:
    """The quota year of an instant: the calendar year in Asia/Shanghai."""
    return local_date(at).year


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day``; a 29 February birthday falls on 1 March in other years."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def _valid_quantity(quantity: object) -> bool:
    return (
        isinstance(quantity, int)
        and not isinstance(quantity, bool)
        and 1 <= quantity <= MAX_LINE_QUANTITY
    )


def units_per_item(category: CategoryRule, product: ProductFacts) -> int | None:
    """How much one unit of ``product`` counts towards ``category``'s per-trip limit."""
    if category.limit_unit == LimitUnit.ML:
        return product.volume_ml if product.volume_ml and product.volume_ml > 0 else None
    return max(product.pieces, 1)


# --- The judgement --------------------------------------------------------------------------
def judge_eligibility(
    *,
    policy: PolicyRules,
    shopper: ShopperFacts,
    trip: TripFacts | None,
    pickup: str,
    at: datetime,
) -> list[Violation]:
    """Who may buy, when, and for which departure."""
    found: list[Violation] = []
    today = local_date(at)
    age = age_on(shopper.birth_date, today)
    if age < policy.min_age:
        found.append(
            _violation(
                UNDERAGE,
                f"购物者须年满{policy.min_age}周岁（{today.isoformat()}时{age}周岁）。",
                f"Shoppers must be at least {policy.min_age} years old "
                f"(age on {today.isoformat()}: {age}).",
                limit=policy.min_age,
                requested=age,
            )
        )
    if shopper.banned_until is not None and ban_in_force(
        banned_from=shopper.banned_from, banned_until=shopper.banned_until, at=at
    ):
        until = local_date(shopper.banned_until).isoformat()
        found.append(
            _violation(
                BANNED,
                f"该购物者在{until}前不得享受离岛免税购物政策。",
                f"This shopper may not buy duty-free until {until}.",
            )
        )
    if trip is None:
        resident_exception = (
            TravellerKind.RESIDENT_OUTBOUND_RECORD in policy.traveller_kinds
            and shopper.hainan_resident
            and shopper.outbound_record_this_year
            and pickup == PickupMode.IMMEDIATE
        )
        if not resident_exception:
            found.append(
                _violation(
                    TRIP_REQUIRED,
                    "须提供离岛行程（航班、车次或船班）。",
                    "A departure from the island (flight, train or ship) is required.",
                )
            )
        return found
    if trip.kind not in policy.traveller_kinds:
        kind_zh = _KIND_ZH.get(trip.kind, trip.kind)
        found.append(
            _violation(
                TRAVELLER_NOT_ELIGIBLE,
                f"现行政策不适用于{kind_zh}旅客。",
                f"The policy in force does not cover {trip.kind} travellers.",
                reason=trip.kind,
            )
        )
    elif trip.kind == TripKind.OUTBOUND and trip.mode == TripMode.RAIL:
        # Travellers leaving the country need an air or ship ticket leaving Hainan: a train
        # takes them to the mainland, not out of the country from Hainan.
        found.append(
            _violation(
                TRAVELLER_NOT_ELIGIBLE,
                "离境旅客须持离开海南的机票或船票，乘火车离岛不适用。",
                "Travellers leaving the country need an air or ship ticket leaving Hainan; "
                "a train does not qualify.",
                reason="outbound_by_rail",
            )
        )
    if trip.departed_at is not None or trip.departs_at <= at:
        found.append(
            _violation(
                TRIP_DEPARTED,
                "该行程已经出发，不能再为其购物。",
                "This departure has already left; it cannot be shopped for.",
            )
        )
    return found


def _pickup_basket_violations(
    *,
    policy: PolicyRules,
    shopper: ShopperFacts,
    trip: TripFacts | None,
    pickup: str,
    physical_store: bool,
) -> list[Violation]:
    found: list[Violation] = []
    if pickup == PickupMode.IMMEDIATE and not physical_store:
        found.append(
            _violation(
                PICKUP_NOT_ALLOWED,
                "即购即提仅限实体店：线上销售不能即购即提。",
                "Immediate pickup is for physical stores only; an online sale cannot use it.",
                reason="online_store",
            )
        )
    pickup_zh = _PICKUP_ZH.get(pickup, pickup)
    if pickup not in policy.pickup_modes:
        found.append(
            _violation(
                PICKUP_NOT_ALLOWED,
                f"现行政策不允许“{pickup_zh}”提货方式。",
                f"The policy in force does not allow pickup '{pickup}'.",
                reason="mode_not_in_policy",
            )
        )
    if pickup == PickupMode.RETURN_TO_ISLAND and not shopper.hainan_resident:
        found.append(
            _violation(
                PICKUP_NOT_ALLOWED,
                "返岛提取仅限海南居民。",
                "Pickup on return to the island is for Hainan residents only.",
                reason="residents_only",
            )
        )
    if trip is not None and trip.kind == TripKind.OUTBOUND and pickup != PickupMode.DEPARTURE:
        found.append(
            _violation(
                PICKUP_NOT_ALLOWED,
                "离境旅客只能在机场、港口的离岛提货点提货。",
                "Travellers leaving the country collect only at airport or port pickup points.",
                reason="outbound_departure_only",
            )
        )
    return found


def _pickup_line_violations(
    *,
    policy: PolicyRules,
    pickup: str,
    category: CategoryRule,
    product: ProductFacts,
) -> list[Violation]:
    found: list[Violation] = []
    price = product.unit_price
    if pickup == PickupMode.IMMEDIATE:
        if product.immediate_kind not in policy.immediate_kinds:
            found.append(
                _violation(
                    PICKUP_NOT_ALLOWED,
                    f"商品“{product.sku}”不属于即购即提商品清单所列的商品种类，不能即购即提。",
                    f"Product '{product.sku}' is not of a kind on the immediate-pickup list; it "
                    "cannot be taken away at once.",
                    reason="kind_not_immediate",
                    sku=product.sku,
                    category=category.code,
                    kind=product.immediate_kind or None,
                )
            )
        if price >= policy.immediate_max_unit_price:
            found.append(
                _violation(
                    PICKUP_NOT_ALLOWED,
                    f"即购即提仅限单价低于{_yuan(policy.immediate_max_unit_price)}元的商品"
                    f"（本件{_yuan(price)}元）。",
                    f"Immediate pickup needs a unit price below "
                    f"{_yuan(policy.immediate_max_unit_price)} yuan (this one: {_yuan(price)}).",
                    reason="immediate_unit_price",
                    sku=product.sku,
                    category=category.code,
                    limit=policy.immediate_max_unit_price,
                    requested=price,
                )
            )
    elif pickup == PickupMode.GUARANTEE and price < policy.guarantee_min_unit_price:
        found.append(
            _violation(
                PICKUP_NOT_ALLOWED,
                f"担保即提仅限单价不低于{_yuan(policy.guarantee_min_unit_price)}元的商品"
                f"（本件{_yuan(price)}元）。",
                f"Guarantee pickup needs a unit price of at least "
                f"{_yuan(policy.guarantee_min_unit_price)} yuan (this one: {_yuan(price)}).",
                reason="guarantee_unit_price",
                sku=product.sku,
                category=category.code,
                limit=policy.guarantee_min_unit_price,
                requested=price,
            )
        )
    return found


def _judge_line(*, policy: PolicyRules, pickup: str, line: BasketLine) -> LineVerdict:
    found: list[Violation] = []
    valid_quantity = _valid_quantity(line.quantity)
    if not valid_quantity:
        found.append(
            _violation(
                INVALID_QUANTITY,
                f"数量须为1至{MAX_LINE_QUANTITY}之间的整数。",
                f"Quantity must be a whole number from 1 to {MAX_LINE_QUANTITY}.",
                reason="quantity",
                sku=line.sku,
            )
        )
    product = line.product
    if product is None:
        found.append(
            _violation(
                UNKNOWN_SKU,
                f"商品“{line.sku}”不存在。",
                f"Unknown product '{line.sku}'.",
                sku=line.sku,
            )
        )
        return LineVerdict(line.sku, line.quantity, None, None, None, tuple(found))
    amount = money.line_total(product.unit_price, line.quantity) if valid_quantity else None  # type: ignore[arg-type]  # valid: an int
    category = policy.categories.get(product.category_code)
    if category is None:
        found.append(
            _violation(
                NOT_DUTY_FREE_CATEGORY,
                f"商品“{line.sku}”所属品类（{product.category_code}）不在现行离岛免税商品清单内。",
                f"Product '{line.sku}' is in category '{product.category_code}', which is not "
                f"duty-free under the policy in force.",
                sku=line.sku,
                category=product.category_code,
            )
        )
        return LineVerdict(line.sku, line.quantity, product, None, amount, tuple(found))
    if category.limit_unit and units_per_item(category, product) is None:
        found.append(
            _violation(
                INVALID_QUANTITY,
                f"商品“{line.sku}”缺少容量（毫升），无法计入{category.name_zh}限量。",
                f"Product '{line.sku}' has no volume in ml, so it cannot be counted against the "
                f"{category.name_en} limit.",
                reason="volume_unknown",
                sku=line.sku,
                category=category.code,
            )
        )
    found.extend(
        _pickup_line_violations(policy=policy, pickup=pickup, category=category, product=product)
    )
    return LineVerdict(line.sku, line.quantity, product, category, amount, tuple(found))


def _counted(line: LineVerdict) -> int:
    """What ``line`` adds to its category's per-trip count (0: it cannot be counted)."""
    if line.category is None or line.product is None or not _valid_quantity(line.quantity):
        return 0
    per_unit = units_per_item(line.category, line.product)
    if not line.category.limit_unit or per_unit is None:
        return 0
    return per_unit * line.quantity  # type: ignore[operator]  # valid above: an int


def _counts_towards(category: CategoryRule, line: LineVerdict) -> bool:
    return line.category is not None and line.category.code == category.code and _counted(line) > 0


def _with(line: LineVerdict, violation: Violation) -> LineVerdict:
    return replace(line, violations=(*line.violations, violation))


def trip_limits(
    *, policy: PolicyRules, lines: Sequence[LineVerdict], usage: Usage
) -> tuple[TripLimit, ...]:
    """Per-trip usage of every limited category: already held, requested by this basket."""
    requested: dict[str, int] = {}
    for line in lines:
        if counted := _counted(line):
            code = line.category.code  # type: ignore[union-attr]  # counted: has a category
            requested[code] = requested.get(code, 0) + counted
    return tuple(
        TripLimit(
            category=category,
            unit=category.limit_unit or "",
            limit=category.limit_value or 0,
            used=int(usage.trip_used.get(category.code, 0)),
            requested=requested.get(category.code, 0),
        )
        for category in policy.limited_categories
    )


def _kind_units(
    policy: PolicyRules, pickup: str, product: ProductFacts, quantity: int
) -> tuple[str, int] | None:
    """The kind ``quantity`` of ``product`` counts towards for immediate pickup and how much."""
    if pickup != PickupMode.IMMEDIATE:
        return None
    kind = policy.immediate_kinds.get(product.immediate_kind or "")
    if kind is None:
        return None
    per_unit = max(product.pieces, 1) if kind.counts_pieces else 1
    return kind.code, per_unit * quantity


def _immediate_units(policy: PolicyRules, pickup: str, line: LineVerdict) -> tuple[str, int] | None:
    """The kind ``line`` counts towards for immediate pickup and how much, or None."""
    product = line.product
    if product is None or not _valid_quantity(line.quantity):
        return None
    return _kind_units(policy, pickup, product, line.quantity)  # type: ignore[arg-type]  # valid above: an int


@dataclass(frozen=True)
class HeldLine:
    """What a departure holds of one line bought for it: the sale's pickup, the product as
    sold, and the quantity still held (sold, net of returns)."""

    pickup: str
    product: ProductFacts
    quantity: int


def usage_held(*, policy: PolicyRules, annual_used: Decimal, held: Iterable[HeldLine]) -> Usage:
    """The usage a basket for a departure is judged with under ``policy``, from every line the
    departure already holds: each limited category in its unit (:func:`units_per_item`), and
    by immediate pickup each listed kind and each (kind, SKU), as the per-trip limits and the
    immediate-pickup caps count them. (The sale path reads the same sums from the database,
    shops.pos.trip_usage; a policy preview counts recorded lines under another version.)"""
    trip: dict[str, int] = {}
    kinds: dict[str, int] = {}
    skus: dict[tuple[str, str], int] = {}
    for line in held:
        if line.quantity <= 0:
            continue
        category = policy.categories.get(line.product.category_code)
        if category is not None and category.limit_unit:
            per_unit = units_per_item(category, line.product)
            if per_unit is not None:
                trip[category.code] = trip.get(category.code, 0) + per_unit * line.quantity
        if counted := _kind_units(policy, line.pickup, line.product, line.quantity):
            code, units = counted
            kinds[code] = kinds.get(code, 0) + units
            skus[(code, line.product.sku)] = skus.get((code, line.product.sku), 0) + units
    return Usage(
        annual_used=annual_used, trip_used=trip, immediate_used=kinds, immediate_sku_used=skus
    )


def _immediate_kind_of(policy: PolicyRules, pickup: str, line: LineVerdict) -> str | None:
    counted = _immediate_units(policy, pickup, line)
    return counted[0] if counted else None


def immediate_limits(
    *, policy: PolicyRules, pickup: str, lines: Sequence[LineVerdict], usage: Usage
) -> tuple[ImmediateLimit, ...]:
    """Each listed kind's cap for immediate pickup: already held this departure, requested by
    this basket. Empty unless the pickup is immediate (no other pickup is capped by the list)."""
    if pickup != PickupMode.IMMEDIATE:
        return ()
    requested: dict[str, int] = {}
    for line in lines:
        if counted := _immediate_units(policy, pickup, line):
            requested[counted[0]] = requested.get(counted[0], 0) + counted[1]
    return tuple(
        ImmediateLimit(
            kind=kind,
            used=int(usage.immediate_used.get(kind.code, 0)),
            requested=requested.get(kind.code, 0),
        )
        for kind in sorted(policy.immediate_kinds.values(), key=lambda k: k.number)
    )


def _immediate_violations(
    *,
    policy: PolicyRules,
    pickup: str,
    lines: tuple[LineVerdict, ...],
    usage: Usage,
    limits: Sequence[ImmediateLimit],
) -> tuple[list[Violation], tuple[LineVerdict, ...]]:
    """The caps per kind and per variety; each violation also on the lines that caused it."""
    found: list[Violation] = []
    for limit in limits:
        if limit.requested and limit.used + limit.requested > limit.limit:
            kind = limit.kind
            over = _violation(
                IMMEDIATE_PICKUP_LIMIT_EXCEEDED,
                f"{kind.name_zh}即购即提每次离岛限{limit.limit}{kind.unit_zh}："
                f"本次离岛已提{limit.used}{kind.unit_zh}，本次{limit.requested}{kind.unit_zh}。",
                f"{kind.name_en}: at most {limit.limit} (unit: {kind.unit_en}) per departure by "
                f"immediate pickup; already {limit.used}, this basket {limit.requested}.",
                kind=kind.code,
                unit=kind.unit,
                limit=limit.limit,
                already=limit.used,
                requested=limit.requested,
            )
            found.append(over)
            lines = tuple(
                _with(line, over) if _immediate_kind_of(policy, pickup, line) == kind.code else line
                for line in lines
            )
    by_sku: dict[tuple[str, str], int] = {}
    for line in lines:
        if counted := _immediate_units(policy, pickup, line):
            key = (counted[0], line.sku)
            by_sku[key] = by_sku.get(key, 0) + counted[1]
    for (code, sku), requested in sorted(by_sku.items()):
        kind = policy.immediate_kinds[code]
        already = int(usage.immediate_sku_used.get((code, sku), 0))
        if kind.per_variety is None or already + requested <= kind.per_variety:
            continue
        over = _violation(
            IMMEDIATE_PICKUP_LIMIT_EXCEEDED,
            f"{kind.name_zh}即购即提单一品种限{kind.per_variety}{kind.unit_zh}：商品“{sku}”"
            f"本次离岛已提{already}{kind.unit_zh}，本次{requested}{kind.unit_zh}。",
            f"{kind.name_en}: at most {kind.per_variety} (unit: {kind.unit_en}) of any single "
            f"product per departure by immediate pickup; '{sku}': already {already}, this "
            f"basket {requested}.",
            kind=code,
            sku=sku,
            unit=kind.unit,
            limit=kind.per_variety,
            already=already,
            requested=requested,
        )
        found.append(over)
        lines = tuple(
            _with(line, over)
            if line.sku == sku and _immediate_kind_of(policy, pickup, line) == code
            else line
            for line in lines
        )
    return found, lines


def judge_basket(
    *,
    policy: PolicyRules,
    shopper: ShopperFacts,
    trip: TripFacts | None,
    pickup: str,
    lines: Sequence[BasketLine],
    usage: Usage,
    at: datetime,
    physical_store: bool = True,
) -> Verdict:
    """Judge a basket at instant ``at`` under ``policy``; list every violation.

    ``usage`` is what the shopper already holds: this quota year's used amount and, for this
    trip, each limited category's count across every store, and what it took away by immediate
    pickup per kind (and per SKU). A resident buying without a trip holds nothing: the caps
    apply to each purchase. ``physical_store``: the store sells in person (immediate pickup
    is for physical stores only).

    :raises ValueError: if ``at`` is naive.
    """
    found = judge_eligibility(policy=policy, shopper=shopper, trip=trip, pickup=pickup, at=at)
    found += _pickup_basket_violations(
        policy=policy, shopper=shopper, trip=trip, pickup=pickup, physical_store=physical_store
    )

    judged = tuple(_judge_line(policy=policy, pickup=pickup, line=line) for line in lines)
    for line in judged:
        found.extend(line.violations)

    limits = trip_limits(policy=policy, lines=judged, usage=usage)
    for limit in limits:
        if limit.requested and limit.used + limit.requested > limit.limit:
            category = limit.category
            unit_zh = _UNIT_ZH[LimitUnit(limit.unit)]
            unit_en = _UNIT_EN[LimitUnit(limit.unit)]
            over = _violation(
                PER_TRIP_LIMIT_EXCEEDED,
                f"{category.name_zh}每次离岛限购{limit.limit}{unit_zh}："
                f"本行程已购{limit.used}{unit_zh}，本次{limit.requested}{unit_zh}。",
                f"{category.name_en}: at most {limit.limit} {unit_en} per trip; "
                f"already {limit.used}, this basket {limit.requested}.",
                category=category.code,
                unit=limit.unit,
                limit=limit.limit,
                already=limit.used,
                requested=limit.requested,
            )
            found.append(over)
            # The basket lists it once; each line that counts towards the category carries it
            # too, so a till can point at the lines to change.
            judged = tuple(
                _with(line, over) if _counts_towards(category, line) else line for line in judged
            )

    immediate = immediate_limits(policy=policy, pickup=pickup, lines=judged, usage=usage)
    over_caps, judged = _immediate_violations(
        policy=policy, pickup=pickup, lines=judged, usage=usage, limits=immediate
    )
    found += over_caps

    total = money.total(line.amount for line in judged if line.amount is not None)
    if usage.annual_used + total > policy.annual_limit:
        found.append(
            _violation(
                ANNUAL_QUOTA_EXCEEDED,
                f"超出年度免税额度：额度{_yuan(policy.annual_limit)}元，"
                f"已用{_yuan(usage.annual_used)}元，本次{_yuan(total)}元。",
                f"Annual duty-free quota exceeded: limit {_yuan(policy.annual_limit)} yuan, "
                f"used {_yuan(usage.annual_used)}, this basket {_yuan(total)}.",
                limit=policy.annual_limit,
                already=usage.annual_used,
                requested=total,
            )
        )

    return Verdict(
        violations=tuple(sorted(found, key=Violation.sort_key)),
        lines=judged,
        total=total,
        annual_limit=policy.annual_limit,
        annual_used=usage.annual_used,
        trip_limits=limits,
        immediate_limits=immediate,
    )
