"""The terminal API: thin views over checkout and services (contract: ../shared/API.md)."""

from __future__ import annotations

import re
import time
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from dutyfree import throttle
from quotas import services as quota_services

from . import checkout, lookup, services, stats
from .auth import IsTerminal, TerminalAuthentication
from .models import Terminal
from .schemas import BasketIn, DepartureIn, LookupIn, QuoteIn, ReturnIn, parse

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


def fingerprint(request: Request, data: Any) -> str:
    """Of the validated request, so a retry that reorders keys or spacing is the same one."""
    return checkout.request_fingerprint(
        method=request.method or "", path=request.path, body=data.model_dump_json().encode()
    )


def json_body(request: Request) -> bytes:
    """The raw JSON body (validated by pydantic in one pass, see shops.schemas).

    :raises UnsupportedMediaType: for anything but application/json.
    """
    body = request.body
    if not body:  # nothing sent: every required field is missing (400), as DRF would say
        return b"{}"
    if request.content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(request.content_type[:100])
    return body


class TerminalApi(APIView):
    authentication_classes = [TerminalAuthentication]
    permission_classes = [IsTerminal]

    @property
    def terminal(self) -> Terminal:
        return self.request.auth  # type: ignore[return-value]


class QuoteApi(TerminalApi):
    @extend_schema(
        operation_id="quote",
        request=QuoteIn,
        responses={200: OpenApiTypes.OBJECT, 400: PROBLEM, 401: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        data = parse(QuoteIn, json_body(request))
        judgement = checkout.sale_quote(basket=data.basket(), at=data.at or timezone.now())
        return Response(checkout.quote_payload(judgement, translation.get_language()))


class SaleCreateApi(TerminalApi):
    @extend_schema(
        operation_id="sale_create",
        request=BasketIn,
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
        data = parse(BasketIn, json_body(request))
        result = checkout.sale_commit(
            terminal=self.terminal,
            idempotency_key=key,
            fingerprint=fingerprint(request, data),
            basket=data.basket(),
            now=timezone.now(),
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        headers["Location"] = f"/api/v1/sales/{result.sale.pk}"
        return Response(result.body, status=201, headers=headers)


class SaleDetailApi(TerminalApi):
    @extend_schema(operation_id="sale_detail", responses={200: OpenApiTypes.OBJECT, 404: PROBLEM})
    def get(self, request: Request, sale_id: int) -> Response:
        return Response(
            services.sale_detail(
                services.sale_of_store(store_id=self.terminal.store_id, sale_id=sale_id)
            )
        )


class SaleReturnApi(TerminalApi):
    @extend_schema(
        operation_id="sale_return",
        request=ReturnIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: OpenApiTypes.OBJECT, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    )
    def post(self, request: Request, sale_id: int) -> Response:
        key = idempotency_key(request)
        data = parse(ReturnIn, json_body(request))
        answer = services.sale_return(
            terminal=self.terminal,
            sale_id=sale_id,
            idempotency_key=key,
            fingerprint=fingerprint(request, data),
            lines=[(line.line, line.quantity) for line in data.lines],
            reason=data.reason,
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
        request=DepartureIn,
        responses={201: OpenApiTypes.OBJECT, 400: PROBLEM, 404: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        data = parse(DepartureIn, json_body(request))
        trip = quota_services.departure_record(
            doc_type=data.document.type,
            country=data.document.country,
            number=data.document.number,
            carrier_ref=data.carrier_ref,
            departed_at=data.departed_at,
            kind=data.kind,
            mode=data.mode,
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


class LookupThrottle(BaseThrottle):
    """``QUOTA_LOOKUP_RATE`` per client address, counted atomically in the shared cache
    (the page and the API share one count)."""

    scope = "quota-lookup"

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.verdict = throttle.hit(
            self.scope,
            throttle.client_address(request),
            throttle.Rate.parse(settings.QUOTA_LOOKUP_RATE),
        )
        return self.verdict.allowed

    def wait(self) -> float:
        return float(self.verdict.retry_after)


class QuotaLookupApi(APIView):
    """A shopper's own quota, by document and name (no credentials; throttled per client)."""

    throttle_classes = [LookupThrottle]

    @extend_schema(
        operation_id="quota_lookup",
        request=LookupIn,
        responses={200: OpenApiTypes.OBJECT, 400: PROBLEM, 429: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        data = parse(LookupIn, json_body(request))
        answer = lookup.quota_lookup(
            query=data.query(), now=timezone.now(), language=translation.get_language()
        )
        return Response(answer, headers={"Cache-Control": "no-store"})


class StaffTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` (create_staff_token)."""


class StatsQuery(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    group_by = serializers.ChoiceField(choices=stats.GROUPS, required=False)
    align = serializers.ChoiceField(choices=stats.ALIGNS, required=False, default="calendar")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["end is before start."]})
        if (attrs["end"] - attrs["start"]).days >= stats.MAX_DAYS:
            raise serializers.ValidationError(
                {"end": [f"A period covers at most {stats.MAX_DAYS} days."]}
            )
        return attrs


class SalesStatsApi(APIView):
    """Year-on-year sales figures for staff (token or a logged-in staff session)."""

    authentication_classes = [StaffTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="stats_sales",
        parameters=[StatsQuery],
        responses={200: OpenApiTypes.OBJECT, 400: PROBLEM, 401: PROBLEM, 403: PROBLEM},
    )
    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        query = StatsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        answer = stats.sales_stats(
            start=data["start"],
            end=data["end"],
            group_by=data.get("group_by"),
            align=data["align"],
        )
        elapsed = (time.perf_counter() - started) * 1000
        return Response(answer, headers={"Server-Timing": f"app;dur={elapsed:.1f}"})
