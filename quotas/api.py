"""HTTP for the quotas app: thin views over selectors and services."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dutyfree.answers import Answer, LocalTime, Money
from dutyfree.errors import PROBLEM_CONTENT_TYPE, Problem
from dutyfree.schema import demo_answer, demo_parameter
from dutyfree.validation import Query, parse_query, query_parameters

from .choices import ImmediateUnit, LimitUnit, PickupMode, TripKind, Verification
from .examples import policy_example
from .models import Category, ImmediatePickupKind, Policy
from .selectors import policy_in_force

# --- Errors in the schema ------------------------------------------------------------------
# Every API error is a dutyfree.errors.Problem; the terminal API (shops.api.views) declares its
# errors with problem_responses() too.


PROBLEMS = {
    400: "Malformed or invalid input; `errors` says what, by field.",
    401: "No valid credentials.",
    403: "The credentials do not allow this.",
    404: "Not found.",
    409: "Conflicts with the resource's state or a request still running.",
    413: "The body is larger than the server accepts.",
    415: "The body is not application/json.",
    422: "Refused: `code` says why.",
    429: "Too many requests from this client; see Retry-After.",
    503: "The database did not answer; retry after Retry-After (a sale with the same "
    "Idempotency-Key).",
}


def problem_responses(*statuses: int) -> dict[tuple[int, str], OpenApiResponse]:
    """``extend_schema(responses=...)`` entries: these statuses answer problem+json, and 503
    (any API view while the database is away: dutyfree.errors). An operation that reads a
    body (it lists 415) can also answer 413 (a body over the size limit)."""
    too_large = (413,) if 415 in statuses else ()
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(Problem, PROBLEMS[status])
        for status in sorted({*statuses, *too_large, 503})
    }


# The choices' values as JSON Schema enums (built at run time: to a type checker, strings).
if TYPE_CHECKING:
    LimitUnitValue: TypeAlias = str
    ImmediateUnitValue: TypeAlias = str
    VerificationValue: TypeAlias = str
else:
    LimitUnitValue = Literal[tuple(LimitUnit.values)]
    ImmediateUnitValue = Literal[tuple(ImmediateUnit.values)]
    VerificationValue = Literal[tuple(Verification.values)]


class PerTripLimitOut(Answer):
    unit: LimitUnitValue
    value: int


class CategoryOut(Answer):
    number: int
    code: str
    name_zh: str
    name_en: str
    per_trip_limit: PerTripLimitOut | None
    immediate_pickup: bool
    verified: VerificationValue
    note: str

    @classmethod
    def of(cls, category: Category) -> CategoryOut:
        return cls(
            number=category.number,
            code=category.code,
            name_zh=category.name_zh,
            name_en=category.name_en,
            per_trip_limit=PerTripLimitOut(
                unit=category.per_trip_limit_unit, value=category.per_trip_limit_value or 0
            )
            if category.per_trip_limit_unit
            else None,
            immediate_pickup=category.immediate_pickup,
            verified=category.verified,
            note=category.note,
        )


class ImmediateKindOut(Answer):
    """A kind of the immediate-pickup list (即购即提) and its caps per person per departure."""

    code: str
    name_zh: str
    name_en: str
    category: str | None = Field(
        description="The code of the category that holds the kind, if known."
    )
    unit: ImmediateUnitValue = Field(
        description="What the caps count: pieces inside a set (piece), or units sold (item)."
    )
    unit_zh: str
    unit_en: str
    per_trip: int
    per_variety: int | None

    @classmethod
    def of(cls, kind: ImmediatePickupKind) -> ImmediateKindOut:
        return cls(
            code=kind.code,
            name_zh=kind.name_zh,
            name_en=kind.name_en,
            category=kind.category_code or None,
            unit=ImmediateUnit.counting(counts_pieces=kind.counts_pieces),
            unit_zh=kind.unit_zh,
            unit_en=kind.unit_en,
            per_trip=kind.per_trip,
            per_variety=kind.per_variety,
        )


class ImmediatePickupOut(Answer):
    max_unit_price: Money = Field(
        description="Immediate pickup only for unit prices strictly below this."
    )
    kinds: list[ImmediateKindOut]


class PickupRulesOut(Answer):
    modes: list[str]
    immediate_max_unit_price_exclusive: Money
    guarantee_min_unit_price: Money
    departure_deadline_days: int
    ban_years: int
    return_to_island_within_months: int
    return_to_island_residents_only: bool
    outbound_modes: list[str]


class PolicyOut(Answer):
    id: int
    name: str = Field(description="In the request's language (Accept-Language).")
    name_zh: str
    name_en: str
    programme: str
    effective_from: LocalTime | None
    annual_limit: Money
    min_age: int
    traveller_kinds: list[str]
    pickup_rules: PickupRulesOut
    categories: list[CategoryOut]
    immediate_pickup: ImmediatePickupOut

    @classmethod
    def of(cls, policy: Policy) -> PolicyOut:
        """The policy with its categories and kinds (prefetched or not), by number."""
        outbound = (
            [PickupMode.DEPARTURE.value] if TripKind.OUTBOUND in policy.traveller_kinds else []
        )
        return cls(
            id=policy.pk,
            name=policy.name,
            name_zh=policy.name_zh,
            name_en=policy.name_en,
            programme=policy.programme.code,
            effective_from=policy.effective_from,
            annual_limit=policy.annual_limit,
            min_age=policy.min_age,
            traveller_kinds=policy.traveller_kinds,
            pickup_rules=PickupRulesOut(
                modes=policy.pickup_modes,
                immediate_max_unit_price_exclusive=policy.immediate_pickup_max_unit_price,
                guarantee_min_unit_price=policy.guarantee_pickup_min_unit_price,
                departure_deadline_days=policy.departure_deadline_days,
                ban_years=policy.ban_years,
                return_to_island_within_months=policy.return_pickup_within_months,
                return_to_island_residents_only=True,
                outbound_modes=outbound,
            ),
            categories=[
                CategoryOut.of(category)
                for category in sorted(policy.categories.all(), key=lambda c: c.number)
            ],
            immediate_pickup=ImmediatePickupOut(
                max_unit_price=policy.immediate_pickup_max_unit_price,
                kinds=[
                    ImmediateKindOut.of(kind)
                    for kind in sorted(policy.immediate_kinds.all(), key=lambda k: k.number)
                ],
            ),
        )


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601(value: Any) -> Any:
    """ISO 8601 text only (pydantic would also read a number as Unix time)."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise PydanticCustomError("datetime_parsing", "Input should be a valid datetime")
    return value


def _instant(value: datetime) -> datetime:
    """Without an offset, Asia/Shanghai; an instant the calendar cannot hold in UTC (the first
    hours of 0001-01-01, the last of 9999-12-31) is out of range."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.get_default_timezone())
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError(_("Datetime value out of range.")) from None
    return value


Instant = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_instant)]


class PolicyQuery(Query):
    # Public: a browser's cache buster, or "?at=" from a form (now), is not a mistake here.
    strict_parameters = False

    at: Instant | None = Field(
        default=None,
        description="ISO 8601 instant (default now); without an offset, Asia/Shanghai.",
    )


class PolicyInForceApi(APIView):
    """The policy in force at an instant (default: now)."""

    @extend_schema(
        operation_id="policy_in_force",
        parameters=query_parameters(PolicyQuery),
        tags=["policy"],
        summary=gettext_lazy("Read the policy in force"),
        responses={
            200: OpenApiResponse(PolicyOut, gettext_lazy("The policy in force.")),
            **problem_responses(400, 404),
        },
        examples=[
            demo_parameter("at", "query", lambda now: "2025-11-01T00:00:00+08:00"),
            demo_answer(PolicyOut, policy_example),
        ],
    )
    def get(self, request: Request) -> Response:
        query = parse_query(PolicyQuery, request.query_params)
        policy = policy_in_force(at=query.at or timezone.now())
        return Response(PolicyOut.of(policy).body())
