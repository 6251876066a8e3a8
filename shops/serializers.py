"""Input shapes of the terminal API (validation only; the domain judges)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from rest_framework import serializers

from quotas import identity
from quotas.choices import DocumentType, PickupMode, TripKind, TripMode
from quotas.rules import MAX_LINE_QUANTITY
from quotas.services import PresentedShopper

from .checkout import Basket, LineInput, TripInput

_CARRIER_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-/]{0,31}$")
_COUNTRY = re.compile(r"^[A-Za-z]{3}$")
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: no strings, floats or booleans."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string: an identifier sent as a number would lose its leading zeros."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=str(data)[:20])
        return data


class DocumentSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=DocumentType.choices)
    number = StrictCharField(max_length=64)
    country = serializers.CharField(max_length=3, default="CHN")

    def validate_country(self, value: str) -> str:
        if not _COUNTRY.match(value):
            raise serializers.ValidationError("An ISO 3166 three-letter code, e.g. CHN.")
        return value.upper()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            number = identity.normalise_document_number(attrs["number"])
        except identity.InvalidDocument as exc:
            raise serializers.ValidationError({"number": [str(exc)]}) from exc
        if attrs["type"] == DocumentType.RESIDENT_ID and not _RESIDENT_ID.match(number):
            raise serializers.ValidationError(
                {"number": ["A resident identity card number has 17 digits and a digit or X."]}
            )
        return {**attrs, "number": number}


class ShopperSerializer(serializers.Serializer):
    document = DocumentSerializer()
    name = serializers.CharField(max_length=100)
    birth_date = serializers.DateField()
    hainan_resident = StrictBooleanField(default=False)

    def validate_birth_date(self, value: date) -> date:
        if value < date(1900, 1, 1) or value > date.today():  # noqa: DTZ011 - a sanity bound
            raise serializers.ValidationError("Not a plausible birth date.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        document = attrs["document"]
        if document["type"] == DocumentType.RESIDENT_ID:
            printed = document["number"][6:14]
            if printed != attrs["birth_date"].strftime("%Y%m%d"):
                raise serializers.ValidationError(
                    {"birth_date": ["Does not match the birth date in the identity number."]}
                )
        return attrs


class TripSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=TripMode.choices)
    kind = serializers.ChoiceField(choices=TripKind.choices)
    carrier_ref = StrictCharField(max_length=32)
    departs_at = serializers.DateTimeField()

    def validate_carrier_ref(self, value: str) -> str:
        if not _CARRIER_REF.match(value):
            raise serializers.ValidationError("A flight, train or ship reference such as HU7181.")
        return value.upper()


class LineSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class BasketSerializer(serializers.Serializer):
    shopper = ShopperSerializer()
    trip = TripSerializer(required=False, allow_null=True, default=None)
    pickup = serializers.ChoiceField(choices=PickupMode.choices)
    lines = serializers.ListField(child=LineSerializer(), min_length=1, max_length=100)

    def basket(self) -> Basket:
        data = self.validated_data
        shopper, document = data["shopper"], data["shopper"]["document"]
        trip = data.get("trip")
        return Basket(
            shopper=PresentedShopper(
                doc_type=document["type"],
                country=document["country"],
                number=document["number"],
                name=shopper["name"],
                birth_date=shopper["birth_date"],
                hainan_resident=shopper["hainan_resident"],
            ),
            trip=TripInput(**trip) if trip else None,
            pickup=data["pickup"],
            lines=tuple(
                LineInput(sku=line["sku"], quantity=line["quantity"]) for line in data["lines"]
            ),
        )


class QuoteSerializer(BasketSerializer):
    at = serializers.DateTimeField(required=False, help_text="Judge as of this instant.")


class ReturnLineSerializer(serializers.Serializer):
    line = StrictIntegerField(min_value=1, max_value=2**62)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class ReturnSerializer(serializers.Serializer):
    lines = serializers.ListField(child=ReturnLineSerializer(), min_length=1, max_length=100)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_lines(self, lines: list[dict[str, int]]) -> list[dict[str, int]]:
        ids = [line["line"] for line in lines]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("Each sale line once.")
        return lines


class DepartureSerializer(serializers.Serializer):
    document = DocumentSerializer()
    carrier_ref = StrictCharField(max_length=32)
    departed_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=TripKind.choices, default=TripKind.DOMESTIC)
    mode = serializers.ChoiceField(choices=TripMode.choices, default=TripMode.AIR)

    def validate_carrier_ref(self, value: str) -> str:
        return TripSerializer().validate_carrier_ref(value)
