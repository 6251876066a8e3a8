"""The terminal API: thin views over checkout and services (contract: ../shared/API.md)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils import timezone, translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from quotas import services as quota_services

from . import checkout, services
from .auth import IsTerminal, TerminalAuthentication
from .models import Sale, Terminal
from .serializers import BasketSerializer, DepartureSerializer, QuoteSerializer, ReturnSerializer

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="1–255 printable ASCII characters, unique per terminal and request.",
)
PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="application/problem+json")


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not _IDEMPOTENCY_KEY.match(key):
        raise serializers.ValidationError(
            {"Idempotency-Key": ["Required: 1–255 printable ASCII characters, no spaces."]}
        )
    return key


def fingerprint(request: Request) -> str:
    """Of the parsed JSON, so a retry that reorders keys or spacing is the same request."""
    canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return checkout.request_fingerprint(
        method=request.method or "", path=request.path, body=canonical.encode()
    )


def body_object(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
    return request.data


class TerminalApi(APIView):
    authentication_classes = [TerminalAuthentication]
    permission_classes = [IsTerminal]

    @property
    def terminal(self) -> Terminal:
        return self.request.auth  # type: ignore[return-value]


class QuoteApi(TerminalApi):
    @extend_schema(
        operation_id="quote",
        request=QuoteSerializer,
        responses={200: OpenApiTypes.OBJECT, 400: PROBLEM, 401: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        data = QuoteSerializer(data=body_object(request))
        data.is_valid(raise_exception=True)
        at = data.validated_data.get("at") or timezone.now()
        judgement = checkout.sale_quote(basket=data.basket(), at=at)
        return Response(checkout.quote_payload(judgement, translation.get_language()))


class SaleCreateApi(TerminalApi):
    @extend_schema(
        operation_id="sale_create",
        request=BasketSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: OpenApiTypes.OBJECT,
            400: PROBLEM,
            401: PROBLEM,
            409: PROBLEM,
            422: PROBLEM,
        },
    )
    def post(self, request: Request) -> Response:
        key = idempotency_key(request)
        data = BasketSerializer(data=body_object(request))
        data.is_valid(raise_exception=True)
        result = checkout.sale_commit(
            terminal=self.terminal,
            idempotency_key=key,
            fingerprint=fingerprint(request),
            basket=data.basket(),
            now=timezone.now(),
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        headers["Location"] = f"/api/v1/sales/{result.sale.pk}"
        return Response(result.body, status=201, headers=headers)


def _sale(terminal: Terminal, sale_id: int) -> Sale:
    sale = None
    if 0 < sale_id <= services.MAX_ID:
        sale = (
            Sale.objects.select_related("store", "terminal")
            .filter(pk=sale_id, store_id=terminal.store_id)
            .first()
        )
    if sale is None:
        raise services.SaleNotFound(f"Sale {sale_id} is not a sale of this store.")
    return sale


class SaleDetailApi(TerminalApi):
    @extend_schema(operation_id="sale_detail", responses={200: OpenApiTypes.OBJECT, 404: PROBLEM})
    def get(self, request: Request, sale_id: int) -> Response:
        return Response(services.sale_detail(_sale(self.terminal, sale_id)))


class SaleReturnApi(TerminalApi):
    @extend_schema(
        operation_id="sale_return",
        request=ReturnSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: OpenApiTypes.OBJECT, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    )
    def post(self, request: Request, sale_id: int) -> Response:
        key = idempotency_key(request)
        data = ReturnSerializer(data=body_object(request))
        data.is_valid(raise_exception=True)
        answer = services.sale_return(
            terminal=self.terminal,
            sale_id=sale_id,
            idempotency_key=key,
            fingerprint=fingerprint(request),
            lines=[(line["line"], line["quantity"]) for line in data.validated_data["lines"]],
            reason=data.validated_data["reason"],
            now=timezone.now(),
        )
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
        return Response(answer.body, status=answer.status, headers=headers)


class SaleVoidApi(TerminalApi):
    @extend_schema(
        operation_id="sale_void",
        request=None,
        responses={200: OpenApiTypes.OBJECT, 404: PROBLEM, 409: PROBLEM},
    )
    def post(self, request: Request, sale_id: int) -> Response:
        sale = services.sale_void(terminal=self.terminal, sale_id=sale_id, now=timezone.now())
        return Response(services.sale_detail(sale))


class SalePickupApi(TerminalApi):
    @extend_schema(
        operation_id="sale_pickup",
        request=None,
        responses={200: OpenApiTypes.OBJECT, 404: PROBLEM, 409: PROBLEM},
    )
    def post(self, request: Request, sale_id: int) -> Response:
        sale = services.sale_pickup(terminal=self.terminal, sale_id=sale_id, now=timezone.now())
        return Response(services.sale_detail(sale))


class DepartureApi(TerminalApi):
    @extend_schema(
        operation_id="departure_record",
        request=DepartureSerializer,
        responses={201: OpenApiTypes.OBJECT, 400: PROBLEM, 404: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        data = DepartureSerializer(data=body_object(request))
        data.is_valid(raise_exception=True)
        document = data.validated_data["document"]
        trip = quota_services.departure_record(
            doc_type=document["type"],
            country=document["country"],
            number=document["number"],
            carrier_ref=data.validated_data["carrier_ref"],
            departed_at=data.validated_data["departed_at"],
            kind=data.validated_data["kind"],
            mode=data.validated_data["mode"],
            now=timezone.now(),
        )
        return Response(
            {
                "trip": trip.pk,
                "carrier_ref": trip.carrier_ref,
                "departs_at": timezone.localtime(trip.departs_at).isoformat(),
                "departed_at": timezone.localtime(trip.departed_at).isoformat(),  # type: ignore[arg-type]
            },
            status=201,
        )
