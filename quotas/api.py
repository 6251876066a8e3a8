"""HTTP for the quotas app: thin views over selectors and services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .choices import PickupMode, TripKind
from .models import Category, Policy
from .selectors import policy_in_force


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
    programme = serializers.CharField(source="programme.code")
    pickup_rules = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = (
            "id",
            "name",
            "programme",
            "effective_from",
            "annual_limit",
            "min_age",
            "traveller_kinds",
            "pickup_rules",
            "categories",
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
        return CategoryOutputSerializer(categories, many=True).data


class PolicyInForceApi(APIView):
    """The policy in force at an instant (default: now)."""

    class InputSerializer(serializers.Serializer):
        at = serializers.DateTimeField(
            required=False,
            help_text="ISO 8601; without an offset the time is read as Asia/Shanghai.",
        )

    @extend_schema(
        operation_id="policy_in_force",
        parameters=[OpenApiParameter("at", str, description="ISO 8601 instant (default now)")],
        responses={200: PolicyOutputSerializer},
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        at = params.validated_data.get("at") or timezone.now()
        policy = policy_in_force(at=at)
        return Response(PolicyOutputSerializer(policy).data)
