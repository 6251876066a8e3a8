"""What the point of sale answers: the bodies of quotes, sales, returns' quotas and
departures, built from what was judged or stored. A sale's first answer is rendered before the
sale is written (the write records it for replays), so it is rebuilt here from columns that
never change after the commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias

from django.utils.translation import gettext as _
from pydantic import Field

from dutyfree.answers import MISSING, Absent, Answer, LocalTime, Money
from dutyfree.errors import Violation
from dutyfree.language import in_language
from quotas import rules
from quotas.api import ImmediateUnitValue
from quotas.choices import PickupMode
from quotas.models import QuotaAccount, Trip
from quotas.rules import LOCAL_TZ
from quotas.selectors import PolicyInForce, accounts_by_id, policy_by_id_cached, trips_by_id
from quotas.services import ALREADY_RECORDED, CLOSED_OPEN_TRIP, DEPARTURE_REASONS, DepartureRecorded
from shops.feed.reconcile import Customs, CustomsStatus, customs_of
from shops.models import Sale, SaleLine, SaleStatus

if TYPE_CHECKING:
    from shops.pos.checkout import Judgement


@dataclass(frozen=True)
class WrittenLine:
    """What an answer shows of a sale line just written (no model instance needed)."""

    pk: int
    sku: str
    category_code: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


# --- Answers: each model builds its body and describes it in the schema ---------------------
# The choices' values as JSON Schema enums (built at run time: to a type checker, strings).
if TYPE_CHECKING:
    DepartureReason: TypeAlias = str
else:
    DepartureReason = Literal[DEPARTURE_REASONS]


class CategoryRefOut(Answer):
    code: str
    name: str = Field(description="In the request's language (Accept-Language).")
    name_zh: str
    name_en: str


def category_ref(categories: Mapping[str, rules.CategoryRule], code: str) -> CategoryRefOut:
    """A category as answers name it, by the policy's ``categories``; by its code alone when
    that policy does not list it (the product is not duty-free under it). ``name`` is in the
    active language (the request's)."""
    return CategoryRefOut.model_validate(_category_fields(categories, code))


def _category_fields(categories: Mapping[str, rules.CategoryRule], code: str) -> dict[str, str]:
    """:func:`category_ref`'s fields, for an answer validated in one call with its parts."""
    category = categories.get(code)
    if category is None:
        return {"code": code, "name": code, "name_zh": code, "name_en": code}
    return {
        "code": code,
        "name": in_language(zh=category.name_zh, en=category.name_en),
        "name_zh": category.name_zh,
        "name_en": category.name_en,
    }


def _category(version: PolicyInForce, code: str) -> CategoryRefOut:
    return category_ref(version.rules.categories, code)


def violation_out(violation: rules.Violation, language: str | None) -> Violation:
    present = {
        name: value
        for name in ("category", "kind", "unit", "limit", "already", "requested", "sku", "reason")
        if (value := getattr(violation, name)) is not None
    }
    return Violation(code=violation.code, message=violation.message(language), **present)


class QuotaOut(Answer):
    year: int
    limit: Money
    used: Money
    remaining: Money

    @classmethod
    def of(cls, *, year: int, limit: Decimal, used: Decimal) -> Self:
        return cls(year=year, limit=limit, used=used, remaining=limit - used)


class QuoteQuotaOut(QuotaOut):
    remaining_after: Money


class TripLimitOut(Answer):
    category: str
    unit: str
    limit: int
    used: int
    requested: int
    remaining_after: int


class ImmediateLimitOut(Answer):
    kind: str = Field(description="A kind of the immediate-pickup list (即购即提).")
    unit: ImmediateUnitValue = Field(
        description="piece: the pieces inside a set count (cosmetics); item: each unit sold."
    )
    limit: int = Field(description="The cap per departure.")
    used: int = Field(description="Already picked up at once for this departure.")
    requested: int
    remaining_after: int


class QuotePolicyOut(Answer):
    id: int
    name: str = Field(description="In the request's language (Accept-Language).")
    name_zh: str
    name_en: str
    effective_from: LocalTime | None


class QuoteLineOut(Answer):
    sku: str
    category: CategoryRefOut | None
    quantity: int | None
    unit_price: Money | None
    amount: Money | None
    allowed: bool
    violations: list[Violation]


class QuoteOut(Answer):
    allowed: bool
    policy: QuotePolicyOut
    total: Money
    lines: list[QuoteLineOut]
    violations: list[Violation]
    quota: QuoteQuotaOut
    trip_limits: list[TripLimitOut]
    immediate_limits: list[ImmediateLimitOut] | Absent = Field(
        default=MISSING, description="Only when the pickup is immediate."
    )


def quote_payload(judgement: Judgement, language: str | None) -> dict[str, Any]:
    verdict, version = judgement.verdict, judgement.version
    policy = version.policy
    return QuoteOut(
        allowed=verdict.allowed,
        policy=QuotePolicyOut(
            id=policy.pk,
            name=policy.name,
            name_zh=policy.name_zh,
            name_en=policy.name_en,
            effective_from=policy.effective_from,
        ),
        total=verdict.total,
        lines=[
            QuoteLineOut(
                sku=line.sku,
                category=_category(version, line.product.category_code) if line.product else None,
                quantity=line.quantity if isinstance(line.quantity, int) else None,
                unit_price=line.product.unit_price if line.product else None,
                amount=line.amount,
                allowed=line.allowed,
                violations=[violation_out(v, language) for v in line.violations],
            )
            for line in verdict.lines
        ],
        violations=[violation_out(v, language) for v in verdict.violations],
        quota=QuoteQuotaOut(
            year=judgement.year,
            limit=verdict.annual_limit,
            used=verdict.annual_used,
            remaining=verdict.annual_limit - verdict.annual_used,
            remaining_after=verdict.remaining_after,
        ),
        trip_limits=[
            TripLimitOut(
                category=limit.category.code,
                unit=limit.unit,
                limit=limit.limit,
                used=limit.used,
                requested=limit.requested,
                remaining_after=limit.remaining_after,
            )
            for limit in verdict.trip_limits
        ],
        immediate_limits=_immediate_limits(verdict.immediate_limits)
        if judgement.pickup == PickupMode.IMMEDIATE
        else MISSING,
    ).body()


def _immediate_limits(limits: Sequence[rules.ImmediateLimit]) -> list[ImmediateLimitOut]:
    return [
        ImmediateLimitOut(
            kind=limit.kind.code,
            unit=limit.unit,
            limit=limit.limit,
            used=limit.used,
            requested=limit.requested,
            remaining_after=limit.remaining_after,
        )
        for limit in limits
    ]


def immediate_limits_payload(limits: Sequence[rules.ImmediateLimit]) -> list[dict[str, Any]]:
    """The caps as a sale stores them (and its first answer shows them)."""
    return [limit.body() for limit in _immediate_limits(limits)]


class SaleLineOut(Answer):
    id: int
    sku: str
    category: CategoryRefOut
    quantity: int
    unit_price: Money
    amount: Money


class SaleOut(Answer):
    """A sale as first answered (a replay answers it again, byte for byte)."""

    id: int
    receipt_no: str
    store: str
    terminal: str
    training: bool = Field(
        description="Sold at a training terminal: judged as any sale, but it spends no quota, "
        "and no figure, audit or event counts it."
    )
    sold_at: LocalTime
    status: str
    pickup: str
    total: Money
    lines: list[SaleLineOut]
    quota: QuotaOut = Field(description="The quota of the sale's year after the sale.")
    immediate_limits: list[ImmediateLimitOut] | Absent = Field(
        default=MISSING,
        description="Only when the pickup is immediate: each kind's cap as the sale was judged.",
    )


def _sale_out(
    sale: Sale, lines: Sequence[SaleLine] | Sequence[WrittenLine], **changes: Any
) -> dict[str, Any]:
    """The fields of a sale's first answer (rebuilt from columns that never change after the
    commit), with ``changes``; lines as mappings, validated with the answer in one call."""
    version = policy_by_id_cached(sale.policy_id)
    return {
        "id": sale.pk,
        "receipt_no": sale.receipt_no,
        "store": sale.store.code,
        "terminal": sale.terminal.name,
        "training": sale.training,
        "sold_at": sale.sold_at,
        "status": SaleStatus.COMPLETED.value,
        "pickup": sale.pickup,
        "total": sale.total,
        "lines": [
            {
                "id": line.pk,
                "sku": line.sku,
                "category": _category_fields(version.rules.categories, line.category_code),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
            }
            for line in lines
        ],
        "quota": QuotaOut.of(
            year=sale.sold_at.astimezone(LOCAL_TZ).year,
            limit=version.policy.annual_limit,
            used=sale.quota_used_after,
        ),
        "immediate_limits": sale.immediate_limits if sale.immediate_limits is not None else MISSING,
        **changes,
    }


def first_answer(
    sale: Sale, lines: Sequence[SaleLine] | Sequence[WrittenLine] | None = None
) -> dict[str, Any]:
    """The 201 body of a sale, rebuilt from columns that never change after the commit, so a
    replay is byte-for-byte the first answer whatever happened to the sale since."""
    if lines is None:
        lines = list(sale.lines.order_by("line_no"))
    return SaleOut.model_validate(_sale_out(sale, lines)).body()


class SaleDetailLineOut(SaleLineOut):
    returned_quantity: int


class SaleReturnRefOut(Answer):
    id: int
    amount: Money
    created_at: LocalTime


class CustomsOut(Answer):
    status: CustomsStatus = Field(
        description="The sale's report to customs' supervision system (its sale.completed "
        "on the customs channel): delivered, still being delivered, failed after three days "
        "of retries, not_configured when there is no customs channel, or training for a sale "
        "of a training terminal (never reported)."
    )
    at: LocalTime | None = Field(description="When it was delivered, or failed; else null.")


class SaleTripOut(Answer):
    mode: str
    kind: str
    carrier_ref: str
    departs_at: LocalTime = Field(description="As scheduled.")
    departed_at: LocalTime | None = Field(description="The recorded departure, or null.")

    @classmethod
    def of(cls, trip: Trip) -> Self:
        return cls(
            mode=trip.mode,
            kind=trip.kind,
            carrier_ref=trip.carrier_ref,
            departs_at=trip.departs_at,
            departed_at=trip.departed_at,
        )


class SaleDetailOut(SaleOut):
    """A sale as it stands now."""

    customs: CustomsOut
    trip: SaleTripOut | None = Field(
        description="The departure the goods leave with, as it stands now (what a pickup "
        "counter matches a slip to); null for a sale without a trip."
    )

    lines: list[SaleDetailLineOut]  # type: ignore[assignment]  # each line adds what came back
    quota: QuotaOut = Field(
        description="The quota of the sale's year as the shopper's account stands now (after "
        "this action, and every return and void since the sale)."
    )
    returned_amount: Money
    picked_up_at: LocalTime | None
    voided_at: LocalTime | None
    returns: list[SaleReturnRefOut]


def sale_detail(sale: Sale, *, account: QuotaAccount | None = None) -> dict[str, Any]:
    """:func:`sale_detail_out`'s body."""
    return sale_detail_out(sale, account=account).body()


def sale_detail_out(
    sale: Sale,
    *,
    account: QuotaAccount | None = None,
    customs: Customs | None = None,
    trips: Mapping[int, Trip] | None = None,
) -> SaleDetailOut:
    """A sale as it stands now: the first answer plus status, pickup, returns, its customs
    status, its trip, and the quota of the sale's year as the shopper's account stands now
    (after every return and void since), not as it stood at the sale. ``lines``/``returns``
    may be prefetched, ``account``, ``customs`` and ``trips`` (by id) given."""
    if account is None:
        account = accounts_by_id([sale.account_id])[sale.account_id]
    if customs is None:
        customs = customs_of([sale])[sale.pk]
    if trips is None:
        trips = trips_by_id([sale.trip_id])
    lines = sorted(sale.lines.all(), key=attrgetter("line_no"))
    first = _sale_out(sale, lines)
    for line, stored in zip(first["lines"], lines, strict=True):
        line["returned_quantity"] = stored.returned_quantity
    return SaleDetailOut.model_validate(
        first
        | {
            "status": sale.status,
            "quota": QuotaOut.of(year=account.year, limit=account.limit, used=account.used),
            "returned_amount": sale.returned_amount,
            "picked_up_at": sale.picked_up_at,
            "voided_at": sale.voided_at,
            "customs": CustomsOut(status=customs.status, at=customs.at),
            "trip": None if sale.trip_id is None else SaleTripOut.of(trips[sale.trip_id]),
            "returns": [
                SaleReturnRefOut(id=r.pk, amount=r.amount, created_at=r.created_at)
                for r in sorted(sale.returns.all(), key=attrgetter("pk"))
            ],
        }
    )


class ReturnLineOut(Answer):
    line: int
    sku: str
    quantity: int
    amount: Money


class ReturnOut(Answer):
    id: int
    sale: int
    amount: Money
    reason: str
    created_at: LocalTime
    lines: list[ReturnLineOut]
    quota: QuotaOut = Field(description="The quota of the sale's year after the return.")


class ClosedTripOut(Answer):
    carrier_ref: str
    departs_at: LocalTime = Field(description="As scheduled when the goods were sold.")


class DepartureOut(Answer):
    """What the departure decided, in one shape for every document: a document no shopper
    holds records nothing and is answered as a shopper with no trip to close."""

    matched: bool = Field(
        description="True: the departure closed (or had closed) the shopper's trip with this "
        "carrier reference scheduled within 12 hours of it. False: none to close."
    )
    reason: DepartureReason
    message: str = Field(description="What happened, in the request's language.")
    carrier_ref: str = Field(description="The request's, without spaces or dashes.")
    departed_at: LocalTime = Field(description="The request's.")
    closed_trip: ClosedTripOut | None


def _departure_message(outcome: DepartureRecorded) -> str:
    ref = {"carrier_ref": outcome.carrier_ref}
    if outcome.reason == ALREADY_RECORDED:
        return _("This departure was recorded before; nothing changed.")
    if outcome.reason == CLOSED_OPEN_TRIP:
        return _("Closed the shopper's trip %(carrier_ref)s.") % ref
    return (
        _(
            "No open trip %(carrier_ref)s scheduled within 12 hours of this departure: "
            "nothing closed."
        )
        % ref
    )


def departure_answer(outcome: DepartureRecorded) -> dict[str, Any]:
    """What the departure decided — whether it closed a trip on the request's carrier, and
    which — in one shape for every document: nothing of the shopper's other trips, and no
    sign of whether a document no shopper holds was known."""
    closed = outcome.closed
    return DepartureOut(
        matched=outcome.matched,
        reason=outcome.reason,
        message=_departure_message(outcome),
        carrier_ref=outcome.carrier_ref,
        departed_at=outcome.departed_at,
        closed_trip=None
        if closed is None
        else ClosedTripOut(carrier_ref=closed.carrier_ref, departs_at=closed.departs_at),
    ).body()


def sale_details(sales: Sequence[Sale]) -> list[SaleDetailOut]:
    """:func:`sale_detail_out` of each sale; their quota accounts read in one query, their
    trips in one, their customs status in two."""
    accounts = accounts_by_id(sale.account_id for sale in sales)
    trips = trips_by_id(sale.trip_id for sale in sales)
    customs = customs_of(sales)
    return [
        sale_detail_out(
            sale, account=accounts[sale.account_id], customs=customs[sale.pk], trips=trips
        )
        for sale in sales
    ]
