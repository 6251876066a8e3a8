"""HTTP for the quotas app: thin views over selectors and services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .choices import ImmediateUnit, PickupMode, TripKind
from .models import Category, ImmediatePickupKind, Policy
from .selectors import policy_in_force

# --- Errors in the schema ------------------------------------------------------------------
# The shape dutyfree.errors.problem() gives every API error; the terminal API (shops.api.views)
# declares its errors with problem_responses() too.
PROBLEM_CONTENT_TYPE = "application/problem+json"


class ViolationSerializer(serializers.Serializer):
    """Why a purchase is not allowed (the contract's Violation)."""

    code = serializers.CharField()
    message = serializers.CharField(help_text="In the request's language.")
    category = serializers.CharField(required=False)
    kind = serializers.CharField(
        required=False, help_text="An immediate-pickup kind (immediate_pickup_limit_exceeded)."
    )
    unit = serializers.CharField(required=False)
    limit = serializers.JSONField(required=False, help_text="A number or a decimal string.")
    already = serializers.JSONField(required=False, help_text="A number or a decimal string.")
    requested = serializers.JSONField(required=False, help_text="A number or a decimal string.")
    sku = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, ``application/problem+json``."""

    type = serializers.CharField(help_text="urn:dutyfree:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField(min_value=400, max_value=599)
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable, machine-readable.")
    errors = serializers.DictField(  # type: ignore[assignment]  # the problem's field, not .errors
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Every 400: messages by field (nested fields joined with dots).",
    )
    violations = ViolationSerializer(
        many=True, required=False, help_text="422 purchase_not_allowed: what the policy forbids."
    )


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
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, PROBLEMS[status])
        for status in sorted({*statuses, *too_large, 503})
    }


class PerTripLimitSerializer(serializers.Serializer):
    unit = serializers.ChoiceField(choices=["piece", "ml"])
    value = serializers.IntegerField()


class CategoryOutputSerializer(serializers.ModelSerializer):
    per_trip_limit = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = (
            "number",
            "code",
            "name_zh",
            "name_en",
            "per_trip_limit",
            "immediate_pickup",
            "verified",
            "note",
        )

    @extend_schema_field(PerTripLimitSerializer(allow_null=True))
    def get_per_trip_limit(self, category: Category) -> dict[str, Any] | None:
        if not category.per_trip_limit_unit:
            return None
        return {"unit": category.per_trip_limit_unit, "value": category.per_trip_limit_value}


class ImmediateKindOutputSerializer(serializers.ModelSerializer):
    """A kind of the immediate-pickup list (即购即提) and its caps per person per departure."""

    category = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()

    class Meta:
        model = ImmediatePickupKind
        fields = (
            "code",
            "name_zh",
            "name_en",
            "category",
            "unit",
            "unit_zh",
            "unit_en",
            "per_trip",
            "per_variety",
        )

    @extend_schema_field(
        serializers.CharField(
            allow_null=True, help_text="The code of the category that holds the kind, if known."
        )
    )
    def get_category(self, kind: ImmediatePickupKind) -> str | None:
        return kind.category_code or None

    @extend_schema_field(
        serializers.ChoiceField(
            choices=ImmediateUnit.choices,
            help_text="What the caps count: pieces inside a set (piece), or units sold (item).",
        )
    )
    def get_unit(self, kind: ImmediatePickupKind) -> str:
        return ImmediateUnit.counting(counts_pieces=kind.counts_pieces)


class ImmediatePickupSerializer(serializers.Serializer):
    max_unit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Immediate pickup only for unit prices strictly below this.",
    )
    kinds = ImmediateKindOutputSerializer(many=True)


class PickupRulesSerializer(serializers.Serializer):
    modes = serializers.ListField(child=serializers.CharField())
    immediate_max_unit_price_exclusive = serializers.DecimalField(max_digits=14, decimal_places=2)
    guarantee_min_unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    departure_deadline_days = serializers.IntegerField()
    ban_years = serializers.IntegerField()
    return_to_island_within_months = serializers.IntegerField()
    return_to_island_residents_only = serializers.BooleanField()
    outbound_modes = serializers.ListField(child=serializers.CharField())


class PolicyOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="In the request's language (Accept-Language).")
    programme = serializers.CharField(source="programme.code")
    pickup_rules = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()
    immediate_pickup = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = (
            "id",
            "name",
            "name_zh",
            "name_en",
            "programme",
            "effective_from",
            "annual_limit",
            "min_age",
            "traveller_kinds",
            "pickup_rules",
            "categories",
            "immediate_pickup",
        )

    @extend_schema_field(PickupRulesSerializer)
    def get_pickup_rules(self, policy: Policy) -> dict[str, Any]:
        outbound = (
            [PickupMode.DEPARTURE.value] if TripKind.OUTBOUND in policy.traveller_kinds else []
        )
        return PickupRulesSerializer(
            {
                "modes": policy.pickup_modes,
                "immediate_max_unit_price_exclusive": policy.immediate_pickup_max_unit_price,
                "guarantee_min_unit_price": policy.guarantee_pickup_min_unit_price,
                "departure_deadline_days": policy.departure_deadline_days,
                "ban_years": policy.ban_years,
                "return_to_island_within_months": policy.return_pickup_within_months,
                "return_to_island_residents_only": True,
                "outbound_modes": outbound,
            }
        ).data

    @extend_schema_field(CategoryOutputSerializer(many=True))
    def get_categories(self, policy: Policy) -> list[dict[str, Any]]:
        categories = sorted(policy.categories.all(), key=lambda c: c.number)
        return CategoryOutputSerializer(categories, many=True).data  # type: ignore[return-value]  # a list

    @extend_schema_field(ImmediatePickupSerializer)
    def get_immediate_pickup(self, policy: Policy) -> dict[str, Any]:
        kinds = sorted(policy.immediate_kinds.all(), key=lambda k: k.number)
        return ImmediatePickupSerializer(
            {"max_unit_price": policy.immediate_pickup_max_unit_price, "kinds": kinds}
        ).data


class InstantField(serializers.DateTimeField):
    """An instant; without an offset, Asia/Shanghai. DRF catches an overflow only when an
    offset is given: a time without one at the calendar's first hours (0001-01-01) overflows
    while it is checked against the zone, and is out of range all the same."""

    def enforce_timezone(self, value: datetime) -> datetime:
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


class PolicyInForceApi(APIView):
    """The policy in force at an instant (default: now)."""

    class InputSerializer(serializers.Serializer):
        at = InstantField(
            required=False,
            help_text="ISO 8601; without an offset the time is read as Asia/Shanghai.",
        )

    @extend_schema(
        operation_id="policy_in_force",
        parameters=[
            OpenApiParameter(
                "at",
                OpenApiTypes.DATETIME,
                description="ISO 8601 instant (default now); without an offset, Asia/Shanghai.",
            )
        ],
        responses={200: PolicyOutputSerializer, **problem_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        at = params.validated_data.get("at") or timezone.now()
        policy = policy_in_force(at=at)
        return Response(PolicyOutputSerializer(policy).data)
