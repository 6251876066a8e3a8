"""The terminal API: thin views over checkout and services (contract: ../shared/API.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, Throttled, UnsupportedMediaType
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from dutyfree import throttle
from quotas.api import ViolationSerializer, problem_responses
from quotas.choices import ImmediateUnit
from quotas.services import DEPARTURE_REASONS
from shops.api.auth import (
    IsTerminal,
    RefuseStaffToken,
    RefuseTerminalKey,
    StaffTokenAuthentication,
    TerminalAuthentication,
)
from shops.api.inputs import BasketIn, DepartureIn, LookupIn, NoBodyIn, QuoteIn, ReturnIn, parse
from shops.models import BARCODE, SKU, Sale, StoreChannel, Terminal
from shops.pos import answers, checkout, departures, idempotency, pickup, returns, search
from shops.reporting import stats
from shops.shoppers import lookup

_IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": _IDEMPOTENCY_KEY.pattern, "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "1–255 printable ASCII characters (spaces included), unique per terminal and request. "
        "The same key and request again answer the first answer byte for byte."
    ),
)


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not _IDEMPOTENCY_KEY.match(key):
        raise serializers.ValidationError(
            {
                "Idempotency-Key": [
                    gettext_lazy(
                        "Required: 1–255 printable ASCII characters (letters, digits, "
                        "punctuation and spaces)."
                    )
                ]
            }
        )
    return key


def fingerprint(request: Request, data: Any) -> str:
    """Of the validated request, so a retry that reorders keys or spacing is the same one."""
    return checkout.request_fingerprint(
        method=request.method or "", path=request.path, body=data.model_dump_json().encode()
    )


def retry_of(request: Request, terminal: Terminal, data: Any) -> idempotency.Retry:
    """The request's identity among its retries: the terminal, its Idempotency-Key, and the
    validated request's fingerprint.

    :raises ValidationError: no valid Idempotency-Key.
    """
    return idempotency.Retry(
        terminal_id=terminal.pk,
        key=idempotency_key(request),
        fingerprint=fingerprint(request, data),
    )


def answered(answer: idempotency.Answer) -> HttpResponse:
    """An answer as first rendered (or replayed): the same bytes, status and ``Location``."""
    response = HttpResponse(answer.content, status=answer.status, content_type="application/json")
    if answer.location:
        response["Location"] = answer.location
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def json_body(request: Request) -> bytes:
    """The raw JSON body (validated by pydantic in one pass, see shops.api.inputs).

    :raises UnsupportedMediaType: for anything but application/json.
    """
    body = request.body
    if not body:  # nothing sent: every required field is missing (400), as DRF would say
        return b"{}"
    if request.content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(request.content_type[:100])
    return body


def action_body(request: Request) -> bytes:
    """The body of an action that takes none (void, pickup): nothing, ``{}``, or an empty
    form as some clients send with a bare POST; anything else must be JSON (then parsed
    strictly, so a field sent is a 400 naming it).

    :raises UnsupportedMediaType: a non-empty body that is not JSON.
    """
    body = request.body
    media = request.content_type.split(";")[0].strip().lower()
    if not body.strip() or (
        media in {"multipart/form-data", "application/x-www-form-urlencoded"}
        and not request._request.POST
        and not request._request.FILES
    ):
        return b"{}"
    return json_body(request)


# --- Answers, as the schema declares them --------------------------------------------------
# Declarations for extend_schema only: the views answer the dicts that checkout, services,
# lookup and stats build. Extra members may come (the contract lets answers grow).
def _money(**kwargs: Any) -> serializers.RegexField:
    """Yuan as a decimal string with two places (``"1234.50"``, never a float)."""
    return serializers.RegexField(r"^-?\d+\.\d{2}$", **kwargs)


class QuotaOut(serializers.Serializer):
    year = serializers.IntegerField()
    limit = _money()
    used = _money()
    remaining = _money()


class QuoteQuotaOut(QuotaOut):
    remaining_after = _money()


class CategoryRefOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text="In the request's language (Accept-Language).")
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class TripLimitOut(serializers.Serializer):
    category = serializers.CharField()
    unit = serializers.CharField()
    limit = serializers.IntegerField()
    used = serializers.IntegerField()
    requested = serializers.IntegerField()
    remaining_after = serializers.IntegerField()


class ImmediateLimitOut(serializers.Serializer):
    kind = serializers.CharField(help_text="A kind of the immediate-pickup list (即购即提).")
    unit = serializers.ChoiceField(
        choices=ImmediateUnit.choices,
        help_text="piece: the pieces inside a set count (cosmetics); item: each unit sold.",
    )
    limit = serializers.IntegerField(help_text="The cap per departure.")
    used = serializers.IntegerField(help_text="Already picked up at once for this departure.")
    requested = serializers.IntegerField()
    remaining_after = serializers.IntegerField()


class QuotePolicyOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="In the request's language (Accept-Language).")
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    effective_from = serializers.DateTimeField(allow_null=True)


class QuoteLineOut(serializers.Serializer):
    sku = serializers.CharField()
    category = CategoryRefOut(allow_null=True)
    quantity = serializers.IntegerField(allow_null=True)
    unit_price = _money(allow_null=True)
    amount = _money(allow_null=True)
    allowed = serializers.BooleanField()
    violations = ViolationSerializer(many=True)


class QuoteOut(serializers.Serializer):
    allowed = serializers.BooleanField()
    policy = QuotePolicyOut()
    total = _money()
    lines = QuoteLineOut(many=True)
    violations = ViolationSerializer(many=True)
    quota = QuoteQuotaOut()
    trip_limits = TripLimitOut(many=True)
    immediate_limits = ImmediateLimitOut(
        many=True, required=False, help_text="Only when the pickup is immediate."
    )


class SaleLineOut(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    category = CategoryRefOut()
    quantity = serializers.IntegerField()
    unit_price = _money()
    amount = _money()


class SaleOut(serializers.Serializer):
    """A sale as first answered (a replay answers it again, byte for byte)."""

    id = serializers.IntegerField()
    receipt_no = serializers.CharField()
    store = serializers.CharField()
    terminal = serializers.CharField()
    sold_at = serializers.DateTimeField()
    status = serializers.CharField()
    pickup = serializers.CharField()
    total = _money()
    lines = SaleLineOut(many=True)
    quota = QuotaOut(help_text="The quota of the sale's year after the sale.")
    immediate_limits = ImmediateLimitOut(
        many=True,
        required=False,
        help_text="Only when the pickup is immediate: each kind's cap as the sale was judged.",
    )


class SaleDetailLineOut(SaleLineOut):
    returned_quantity = serializers.IntegerField()


class SaleReturnRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    amount = _money()
    created_at = serializers.DateTimeField()


class SaleDetailOut(SaleOut):
    """A sale as it stands now."""

    lines = SaleDetailLineOut(many=True)
    quota = QuotaOut(
        help_text="The quota of the sale's year as the shopper's account stands now (after "
        "this action, and every return and void since the sale)."
    )
    returned_amount = _money()
    picked_up_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    returns = SaleReturnRefOut(many=True)


class ReturnLineOut(serializers.Serializer):
    line = serializers.IntegerField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    amount = _money()


class ReturnOut(serializers.Serializer):
    id = serializers.IntegerField()
    sale = serializers.IntegerField()
    amount = _money()
    reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    lines = ReturnLineOut(many=True)
    quota = QuotaOut(help_text="The quota of the sale's year after the return.")


class ClosedTripOut(serializers.Serializer):
    carrier_ref = serializers.CharField()
    departs_at = serializers.DateTimeField(help_text="As scheduled when the goods were sold.")


class DepartureOut(serializers.Serializer):
    """What the departure decided, in one shape for every document: a document no shopper
    holds records nothing and is answered as a shopper with no trip to close."""

    matched = serializers.BooleanField(
        help_text="True: the departure closed (or had closed) the shopper's trip with this "
        "carrier reference scheduled within 12 hours of it. False: none to close."
    )
    reason = serializers.ChoiceField(choices=DEPARTURE_REASONS)
    message = serializers.CharField(help_text="What happened, in the request's language.")
    carrier_ref = serializers.CharField(help_text="The request's, without spaces or dashes.")
    departed_at = serializers.DateTimeField(help_text="The request's.")
    closed_trip = ClosedTripOut(allow_null=True)


class PurchaseOut(serializers.Serializer):
    receipt_no = serializers.CharField()
    sold_at = serializers.DateTimeField()
    store = serializers.CharField()
    amount = _money()
    status = serializers.CharField()


class OpenTripLimitOut(serializers.Serializer):
    category = serializers.CharField()
    unit = serializers.CharField()
    limit = serializers.IntegerField()
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()


class OpenTripImmediateOut(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField(help_text="In the request's language.")
    unit = serializers.ChoiceField(choices=ImmediateUnit.choices)
    unit_name = serializers.CharField(help_text="件, 瓶, 副 … or piece, bottle, pair …")
    limit = serializers.IntegerField()
    per_variety = serializers.IntegerField(allow_null=True)
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()


class OpenTripOut(serializers.Serializer):
    carrier_ref = serializers.CharField()
    departs_at = serializers.DateTimeField()
    trip_limits = OpenTripLimitOut(many=True)
    immediate_limits = OpenTripImmediateOut(
        many=True, help_text="What the trip may still take away at once, per kind."
    )


class LookupOut(serializers.Serializer):
    year = serializers.IntegerField()
    limit = _money()
    used = _money()
    remaining = _money()
    banned_until = serializers.DateTimeField(allow_null=True)
    purchases = PurchaseOut(many=True)
    open_trips = OpenTripOut(many=True)


class PeriodOut(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class StatsFiguresOut(serializers.Serializer):
    """Each figure with its ``previous_*`` and ``*_yoy_pct`` twins (only some shown here)."""

    amount = _money()
    previous_amount = _money()
    amount_yoy_pct = serializers.CharField(allow_null=True)
    items = serializers.IntegerField()
    sales = serializers.IntegerField()


class StatsTotalsOut(StatsFiguresOut):
    shopper_trips = serializers.IntegerField()
    shoppers = serializers.IntegerField()


class StatsGroupOut(StatsFiguresOut):
    key = serializers.CharField()
    name = serializers.CharField(
        required=False, help_text="With group_by=store: the store's name (Accept-Language)."
    )
    short_name = serializers.CharField(
        required=False,
        help_text=(
            "With group_by=store: the store's short name for charts and tables "
            "(Accept-Language); its name where it has none."
        ),
    )
    previous_key = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=(
            "With group_by=day: the previous period's day this day is compared with; null "
            "when none is (29 February, or a day beyond the previous Spring Festival window). "
            "A previous day no day names (the extra days of a longer previous window) is "
            "counted with the nearest day, so that the groups add up to the totals."
        ),
    )


class StatsOut(serializers.Serializer):
    period = PeriodOut()
    previous = PeriodOut()
    align = serializers.ChoiceField(choices=stats.ALIGNS)
    totals = StatsTotalsOut()
    groups = StatsGroupOut(many=True, required=False, help_text="With group_by.")
    as_of = serializers.DateTimeField(allow_null=True, help_text="The newest rollup.")


class PrivateAnswerApi(APIView):
    """An answer for the one client that asked — sales, a shopper's quota, a store's figures —
    never kept by a browser's or a proxy's cache (``Cache-Control: no-store``), refusals
    included. Every operation under /api/v1/ but the public policy is one of these; a view
    rather than a middleware, so that a view says what it answers
    (tests/shops/api/test_api_caching.py checks every route)."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_cache_control(response, no_store=True)
        return response


class TerminalApi(PrivateAnswerApi):
    authentication_classes = [TerminalAuthentication, RefuseStaffToken]
    permission_classes = [IsTerminal]

    @property
    def terminal(self) -> Terminal:
        return self.request.auth  # type: ignore[return-value]  # set by TerminalAuthentication


class QuoteApi(TerminalApi):
    @extend_schema(
        operation_id="quote",
        request=QuoteIn,
        responses={200: QuoteOut, **problem_responses(400, 401, 404, 415)},
    )
    def post(self, request: Request) -> Response:
        data = parse(QuoteIn, json_body(request))
        judgement = checkout.sale_quote(
            basket=data.basket(),
            at=data.at or timezone.now(),
            physical_store=self.terminal.store.channel == StoreChannel.PHYSICAL,
        )
        return Response(answers.quote_payload(judgement, translation.get_language()))


class SaleCreateApi(TerminalApi):
    @extend_schema(
        operation_id="sale_create",
        request=BasketIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: SaleOut,
            **problem_responses(400, 401, 404, 409, 415, 422),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        idempotency_key(request)  # a missing key is told before the body's errors
        data = parse(BasketIn, json_body(request))
        retry = retry_of(request, self.terminal, data)
        result = checkout.sale_commit(
            terminal=self.terminal,
            idempotency_key=retry.key,
            fingerprint=retry.fingerprint,
            basket=data.basket(),
            now=timezone.now(),
        )
        return answered(result.answer)


class SaleDetailApi(TerminalApi):
    @extend_schema(
        operation_id="sale_detail",
        responses={200: SaleDetailOut, **problem_responses(401, 404)},
    )
    def get(self, request: Request, sale_id: int) -> Response:
        return Response(
            answers.sale_detail(
                search.sale_of_store(store_id=self.terminal.store_id, sale_id=sale_id)
            )
        )


class SaleReturnApi(TerminalApi):
    @extend_schema(
        operation_id="sale_return",
        request=ReturnIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: ReturnOut,
            **problem_responses(400, 401, 404, 409, 415, 422),
        },
    )
    def post(self, request: Request, sale_id: int) -> HttpResponse:
        idempotency_key(request)
        data = parse(ReturnIn, json_body(request))
        retry = retry_of(request, self.terminal, data)
        return answered(
            returns.sale_return(
                terminal=self.terminal,
                sale_id=sale_id,
                idempotency_key=retry.key,
                fingerprint=retry.fingerprint,
                lines=[(line.line, line.quantity) for line in data.lines],
                reason=data.reason,
                now=timezone.now(),
            )
        )


class _SaleChangeApi(TerminalApi):
    """A void or a pickup: no body, an Idempotency-Key, the sale as it then stands."""

    change: Callable[..., Sale]

    def post(self, request: Request, sale_id: int) -> HttpResponse:
        idempotency_key(request)
        data = parse(NoBodyIn, action_body(request))
        return answered(
            returns.sale_change_once(
                retry=retry_of(request, self.terminal, data),
                change=type(self).change,
                terminal=self.terminal,
                sale_id=sale_id,
                now=timezone.now(),
            )
        )


_SALE_CHANGE_ANSWERS: dict[Any, Any] = {
    200: SaleDetailOut,
    **problem_responses(400, 401, 404, 409, 415, 422),
}


@extend_schema_view(
    post=extend_schema(
        operation_id="sale_void",
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses=_SALE_CHANGE_ANSWERS,
    )
)
class SaleVoidApi(_SaleChangeApi):
    change = staticmethod(returns.sale_void)


@extend_schema_view(
    post=extend_schema(
        operation_id="sale_pickup",
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses=_SALE_CHANGE_ANSWERS,
    )
)
class SalePickupApi(_SaleChangeApi):
    change = staticmethod(pickup.sale_pickup)


class DepartureApi(TerminalApi):
    @extend_schema(
        operation_id="departure_record",
        request=DepartureIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: DepartureOut, **problem_responses(400, 401, 409, 415, 422)},
    )
    def post(self, request: Request) -> HttpResponse:
        idempotency_key(request)
        data = parse(DepartureIn, json_body(request))
        return answered(
            departures.departure_record_once(
                retry=retry_of(request, self.terminal, data),
                now=timezone.now(),
                doc_type=data.document.type,
                country=data.document.country,
                number=data.document.number,
                carrier_ref=data.carrier_ref,
                departed_at=data.departed_at,
                kind=data.kind,
                mode=data.mode,
            )
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


class QuotaLookupApi(PrivateAnswerApi):
    """A shopper's own quota, by document and name (no credentials; throttled per client
    address, and per document across every address)."""

    throttle_classes = [LookupThrottle]

    @extend_schema(
        operation_id="quota_lookup",
        request=LookupIn,
        responses={200: LookupOut, **problem_responses(400, 415, 429)},
    )
    def post(self, request: Request) -> Response:
        data = parse(LookupIn, json_body(request))
        verdict = lookup.lookup_document_hit(data.query())
        if not verdict.allowed:
            raise Throttled(wait=verdict.retry_after)
        answer = lookup.quota_lookup(
            query=data.query(), now=timezone.now(), language=translation.get_language()
        )
        return Response(answer)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarDate(serializers.DateField):
    """A local day as ``YYYY-MM-DD``; a day the calendar does not have (2026-13-01,
    2026-02-30) is told so, not called a wrong format."""

    default_error_messages = {
        "no_such_day": gettext_lazy(
            "There is no such day as {value}: the month or the day is out of range."
        ),
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
            try:
                date.fromisoformat(value.strip())
            except ValueError:
                self.fail("no_such_day", value=value.strip())
        return super().to_internal_value(value)


class StatsQuery(serializers.Serializer):
    start = CalendarDate()
    end = CalendarDate()
    group_by = serializers.ChoiceField(choices=stats.GROUPS, required=False)
    align = serializers.ChoiceField(choices=stats.ALIGNS, required=False, default="calendar")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            stats.check_period(attrs["start"], attrs["end"])
        except stats.StatsError as exc:
            field = exc.field or api_settings.NON_FIELD_ERRORS_KEY
            raise serializers.ValidationError({field: [str(exc)]}) from None
        return attrs


class SalesStatsApi(PrivateAnswerApi):
    """Year-on-year sales figures for staff (token or a logged-in staff session)."""

    authentication_classes = [StaffTokenAuthentication, SessionAuthentication, RefuseTerminalKey]
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="stats_sales",
        parameters=[StatsQuery],
        responses={200: StatsOut, **problem_responses(400, 401, 403)},
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
            language=translation.get_language() or "zh-hans",
        )
        elapsed = (time.perf_counter() - started) * 1000
        return Response(answer, headers={"Server-Timing": f"app;dur={elapsed:.1f}"})


# --- A till finds things: the catalogue and its store's sales -------------------------------
class TillPagination(CursorPagination):
    """Cursor pages: ``{"results": [...], "next": "<URL of the next page>" | null}``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # Each list says which positions its first ordering field can have, as DRF writes them.
    position_is_valid: Callable[[str], bool]

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # DRF answers a cursor it cannot read with 404: a bad parameter
            raise serializers.ValidationError(
                {"cursor": [gettext_lazy("Not a cursor from this list; follow next as given.")]}
            ) from exc

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF reads a cursor's position as it is and filters the list's first ordering field
        by it: a position the list could not have written fails in the database layer, so it
        is refused here as a cursor DRF cannot read."""
        cursor = super().decode_cursor(request)
        # (str: a position is read from the query string, whatever the stubs say.)
        position = str(cursor.position) if cursor and cursor.position is not None else None
        if position is not None and not self.position_is_valid(position):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.get_next_link()})


class ProductPagination(TillPagination):
    ordering = "sku"

    def position_is_valid(self, position: str) -> bool:
        return SKU.fullmatch(position) is not None


class SalePagination(TillPagination):
    ordering = ("-sold_at", "-id")  # newest first

    def position_is_valid(self, position: str) -> bool:
        try:
            sold_at = parse_datetime(position)
        except ValueError:  # the shape of a time, but no such day or hour
            return False
        return sold_at is not None and timezone.is_aware(sold_at)


class PageQuery(serializers.Serializer):
    cursor = serializers.CharField(
        required=False, max_length=1000, help_text="The next page: as the answer's next gives it."
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=TillPagination.max_page_size, help_text="Default 50."
    )


def strict_query(query_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The query parameters, validated; one the operation does not define is a 400 naming it.

    :raises ValidationError: a bad or unknown parameter.
    """
    unknown = sorted(set(request.query_params) - set(query_class().fields))
    if unknown:
        raise serializers.ValidationError(
            {name: [gettext_lazy("Not a parameter of this operation.")] for name in unknown}
        )
    # (DRF reads "?sku=" as no sku at all, as an HTML form would: here it is a mistake.)
    params = request.query_params.items()
    empty = sorted(name for name, value in params if not value.strip())  # type: ignore[union-attr]  # QueryDict.items() gives str
    if empty:
        raise serializers.ValidationError(
            {name: [gettext_lazy("Give a value, or leave the parameter out.")] for name in empty}
        )
    query = query_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


MAX_SKUS = 100
MAX_WORDS = 10


class ProductQuery(PageQuery):
    sku = serializers.CharField(
        required=False,
        max_length=MAX_SKUS * 65,
        help_text=f"SKUs, comma-separated (at most {MAX_SKUS}).",
    )
    barcode = serializers.RegexField(BARCODE, required=False, help_text="As the scanner reads it.")
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Words that must all appear in the names (zh or en), brand or SKU; any case.",
    )

    def validate_sku(self, value: str) -> list[str]:
        skus = [sku.strip() for sku in value.split(",") if sku.strip()]
        if not skus or len(skus) > MAX_SKUS or not all(SKU.match(sku) for sku in skus):
            raise serializers.ValidationError(
                gettext_lazy("1 to %(most)s SKUs separated by commas.") % {"most": MAX_SKUS}
            )
        return skus

    def validate_q(self, value: str) -> list[str]:
        words = value.split()
        if not words or len(words) > MAX_WORDS:
            raise serializers.ValidationError(
                gettext_lazy("1 to %(most)s words.") % {"most": MAX_WORDS}
            )
        return words


class ProductOut(serializers.Serializer):
    sku = serializers.CharField()
    barcode = serializers.CharField(
        allow_null=True, help_text="As printed under the bars (EAN-13, UPC-A …), or null."
    )
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    brand = serializers.CharField(allow_blank=True)
    category = CategoryRefOut()
    retail_price = _money()
    volume_ml = serializers.IntegerField(allow_null=True)
    pieces = serializers.IntegerField()
    immediate_kind = serializers.CharField(
        allow_null=True,
        help_text="The code of its kind on the immediate-pickup list (即购即提) of the policy, "
        "such as cosmetics or sunglasses; null: never picked up at once.",
    )


class ProductPageOut(serializers.Serializer):
    results = ProductOut(many=True)
    next = serializers.URLField(allow_null=True)


class ProductListApi(TerminalApi):
    @extend_schema(
        operation_id="product_list",
        parameters=[ProductQuery],
        responses={200: ProductPageOut, **problem_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        params = strict_query(ProductQuery, request)
        paginator = ProductPagination()
        page = paginator.paginate_queryset(
            search.products_find(
                skus=params.get("sku", ()),
                barcode=params.get("barcode", ""),
                words=params.get("q", ()),
            ),
            request,
            view=self,
        )
        categories = search.categories_in_force(now=timezone.now())
        return paginator.get_paginated_response(
            [search.product_payload(product, categories) for product in page]
        )


class SaleQuery(PageQuery):
    receipt_no = serializers.RegexField(r"^[\x21-\x7e]{1,40}$", required=False)
    date = CalendarDate(required=False, help_text="A local (Asia/Shanghai) day.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("receipt_no") and not attrs.get("date"):
            raise serializers.ValidationError(
                {"receipt_no": [gettext_lazy("Give receipt_no or date (or both).")]}
            )
        return attrs


class SalePageOut(serializers.Serializer):
    results = SaleDetailOut(many=True)
    next = serializers.URLField(allow_null=True)


class SalesApi(SaleCreateApi):
    """``POST /sales`` makes a sale (SaleCreateApi); ``GET /sales`` finds the store's."""

    @extend_schema(
        operation_id="sale_list",
        parameters=[SaleQuery],
        responses={200: SalePageOut, **problem_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        params = strict_query(SaleQuery, request)
        paginator = SalePagination()
        page = paginator.paginate_queryset(
            search.sales_find(
                store_id=self.terminal.store_id,
                receipt_no=params.get("receipt_no", ""),
                day=params.get("date"),
            ),
            request,
            view=self,
        )
        return paginator.get_paginated_response(answers.sale_details(page))
