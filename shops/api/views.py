"""The terminal API: thin views over checkout and services (contract: ../shared/API.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from pydantic import Field
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, Throttled, UnsupportedMediaType
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.permissions import BasePermission, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from dutyfree import throttle
from dutyfree.answers import Answer
from dutyfree.schema import demo_answer, demo_parameter, demo_request
from dutyfree.validation import InvalidInput, parse, parse_query, query_parameters
from quotas.api import problem_responses
from quotas.rules import local_date
from shops.api.auth import (
    IsTerminal,
    RefuseStaffToken,
    RefuseTerminalKey,
    StaffTokenAuthentication,
    TerminalAuthentication,
    TillSessionAuthentication,
)
from shops.api.inputs import (
    MAX_PAGE_SIZE,
    BasketIn,
    DepartureIn,
    LookupIn,
    NoBodyIn,
    PolicyPreviewIn,
    ProductQuery,
    QuoteIn,
    ReturnIn,
    SaleQuery,
    StatsQuery,
    TerminalReportQuery,
)
from shops.demo.examples import (
    DEMO_PREVIEW_ID,
    DEMO_SALE_ID,
    POLICY_PREVIEW_DONE,
    POLICY_PREVIEW_QUEUED,
    POLICY_PREVIEW_REQUEST,
    RETURN_KEY,
    SALE_KEY,
    STATS_ANSWER,
    STATS_QUERY,
    TERMINAL_REPORT_ANSWER,
    Examples,
    constant,
    demo,
)
from shops.models import SKU, Sale, StoreChannel, Terminal
from shops.operators.scope import is_platform, visible_store_ids
from shops.pos import answers, checkout, departures, idempotency, pickup, returns, search, shift
from shops.pos.answers import DepartureOut, QuoteOut, ReturnOut, SaleDetailOut, SaleOut
from shops.pos.search import ProductOut
from shops.pos.shift import TerminalReportOut
from shops.previews.answers import PolicyPreviewOut, preview_answer
from shops.previews.services import (
    PreviewError,
    default_window,
    preview_of,
    preview_request,
)
from shops.reporting import stats
from shops.reporting.stats import StatsOut
from shops.shoppers import lookup
from shops.shoppers.lookup import LookupOut

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
                    _(
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


# The example's sale: the demo shopper's first purchase, at the demo terminal's store.
SALE_ONE = demo_parameter("sale_id", "path", constant(DEMO_SALE_ID))


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
    authentication_classes = [TerminalAuthentication, TillSessionAuthentication, RefuseStaffToken]
    permission_classes = [IsTerminal]

    @property
    def terminal(self) -> Terminal:
        return self.request.auth  # type: ignore[return-value]  # set by TerminalAuthentication


class QuoteApi(TerminalApi):
    @extend_schema(
        operation_id="quote",
        tags=["quotes"],
        summary=_("Judge a basket (writes nothing)"),
        request=QuoteIn,
        responses={
            200: OpenApiResponse(QuoteOut, _("The verdict: allowed or not, and every reason.")),
            **problem_responses(400, 401, 404, 415),
        },
        examples=[
            demo_request(demo(Examples.basket)),
            demo_answer(QuoteOut, demo(Examples.quote_answer)),
        ],
    )
    def post(self, request: Request) -> Response:
        data = parse(QuoteIn, json_body(request))
        judgement = checkout.sale_quote(
            basket=data.basket(),
            at=data.at or timezone.now(),
            store=self.terminal.store,
            physical_store=self.terminal.store.channel == StoreChannel.PHYSICAL,
        )
        return Response(answers.quote_payload(judgement, translation.get_language()))


class SaleCreateApi(TerminalApi):
    @extend_schema(
        operation_id="sale_create",
        tags=["sales"],
        summary=_("Make a sale"),
        request=BasketIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: OpenApiResponse(
                SaleOut, _("The sale, committed; the same key and body again answer it again.")
            ),
            **problem_responses(400, 401, 404, 409, 415, 422),
        },
        examples=[
            demo_request(demo(Examples.basket)),
            demo_parameter("Idempotency-Key", "header", constant(SALE_KEY)),
            demo_answer(SaleOut, demo(Examples.sale_answer), status=201),
        ],
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
        tags=["sales"],
        summary=_("Read a sale as it stands now"),
        responses={
            200: OpenApiResponse(SaleDetailOut, _("The sale as it stands now.")),
            **problem_responses(401, 404),
        },
        examples=[SALE_ONE, demo_answer(SaleDetailOut, demo(Examples.sale_one))],
    )
    def get(self, request: Request, sale_id: int) -> Response:
        return Response(
            answers.sale_detail(
                search.sale_of_store(
                    store_id=self.terminal.store_id,
                    sale_id=sale_id,
                    training_only=self.terminal.training,
                )
            )
        )


class SaleReturnApi(TerminalApi):
    @extend_schema(
        operation_id="sale_return",
        tags=["returns"],
        summary=_("Take goods of a sale back"),
        request=ReturnIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: OpenApiResponse(ReturnOut, _("The return, recorded.")),
            **problem_responses(400, 401, 404, 409, 415, 422),
        },
        examples=[
            SALE_ONE,
            demo_request(demo(Examples.return_request)),
            demo_parameter("Idempotency-Key", "header", constant(RETURN_KEY)),
            demo_answer(ReturnOut, demo(Examples.return_answer), status=201),
        ],
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


def _sale_change_schema(
    *, operation_id: str, summary: str | Promise, answered: str | Promise, key: str, example: Any
) -> Callable[[type], type]:
    """The schema of a void or a pickup: no body, an Idempotency-Key, the sale as it then
    stands."""
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            tags=["sales"],
            summary=summary,
            request=None,
            parameters=[IDEMPOTENCY_HEADER],
            responses={
                200: OpenApiResponse(SaleDetailOut, answered),
                **problem_responses(400, 401, 404, 409, 415, 422),
            },
            examples=[
                SALE_ONE,
                demo_parameter("Idempotency-Key", "header", constant(key)),
                demo_answer(SaleDetailOut, example),
            ],
        )
    )


@_sale_change_schema(
    operation_id="sale_void",
    summary=_("Void a whole sale"),
    answered=_("The sale, voided."),
    key="void 1 at till demo-1",
    example=demo(Examples.voided),
)
class SaleVoidApi(_SaleChangeApi):
    change = staticmethod(returns.sale_void)


@_sale_change_schema(
    operation_id="sale_pickup",
    summary=_("Record that the goods were handed over"),
    answered=_("The sale, handed over."),
    key="pickup 1 at till demo-1",
    example=demo(Examples.picked_up),
)
class SalePickupApi(_SaleChangeApi):
    change = staticmethod(pickup.sale_pickup)


class DepartureApi(TerminalApi):
    @extend_schema(
        operation_id="departure_record",
        tags=["departures"],
        summary=_("Record that a shopper left the island"),
        request=DepartureIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: OpenApiResponse(DepartureOut, _("The departure, recorded.")),
            **problem_responses(400, 401, 409, 415, 422),
        },
        examples=[
            demo_request(demo(Examples.departure_request)),
            demo_parameter(
                "Idempotency-Key", "header", constant("departure HU7181 at till demo-1")
            ),
            demo_answer(DepartureOut, demo(Examples.departure_answer), status=201),
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        idempotency_key(request)
        data = parse(DepartureIn, json_body(request))
        return answered(
            departures.departure_record_once(
                retry=retry_of(request, self.terminal, data),
                store_id=self.terminal.store_id,
                training=self.terminal.training,
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
        tags=["shoppers"],
        summary=_("Look up a shopper's own quota"),
        request=LookupIn,
        responses={
            200: OpenApiResponse(LookupOut, _("The shopper's quota this year.")),
            **problem_responses(400, 415, 429),
        },
        examples=[
            demo_request(demo(Examples.lookup_request)),
            demo_answer(LookupOut, demo(Examples.lookup_answer)),
        ],
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


class SalesStatsApi(PrivateAnswerApi):
    """Year-on-year sales figures for staff (token or a logged-in staff session)."""

    authentication_classes = [StaffTokenAuthentication, SessionAuthentication, RefuseTerminalKey]
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="stats_sales",
        tags=["stats"],
        summary=_("Sales figures, year on year"),
        parameters=query_parameters(StatsQuery),
        responses={
            200: OpenApiResponse(StatsOut, _("The figures and last year's.")),
            **problem_responses(400, 401, 403),
        },
        examples=[
            *(
                demo_parameter(name, "query", constant(value))
                for name, value in STATS_QUERY.items()
            ),
            demo_answer(StatsOut, constant(STATS_ANSWER)),
        ],
    )
    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        query = parse_query(StatsQuery, request.query_params)
        answer = stats.sales_stats(
            start=query.start,
            end=query.end,
            group_by=query.group_by,
            align=query.align,
            language=translation.get_language() or "zh-hans",
            stores=visible_store_ids(request.user),
        )
        elapsed = (time.perf_counter() - started) * 1000
        return Response(answer, headers={"Server-Timing": f"app;dur={elapsed:.1f}"})


# --- Policy previews: the platform's staff ---------------------------------------------------
class PreviewPermission(BasePermission):
    """The platform's staff (administrators, customs), as for the statistics; an operator's
    staff never: a preview counts every operator's sales."""

    message = _("Policy previews are for the platform's administrators and customs.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_platform(request.user)


class PreviewApi(PrivateAnswerApi):
    """The platform's staff: a token or a signed-in session."""

    authentication_classes = [StaffTokenAuthentication, SessionAuthentication, RefuseTerminalKey]
    permission_classes = [IsAdminUser, PreviewPermission]


class PolicyPreviewsApi(PreviewApi):
    """Ask for a policy preview."""

    @extend_schema(
        operation_id="policy_preview_create",
        tags=["policy previews"],
        summary=_("Preview a policy version against recorded sales"),
        description=_(
            "Every completed sale of the window (local days, inclusive; imported sales "
            "included) judged again, as of its own time, under the version: 202 at once, "
            "the preview's progress and result at its Location. A preview already queued "
            "or running for the same version and window is answered instead of a new one."
        ),
        request=PolicyPreviewIn,
        responses={
            202: OpenApiResponse(PolicyPreviewOut, _("Queued (or already on its way).")),
            **problem_responses(400, 401, 403, 415),
        },
        examples=[
            demo_request(constant(POLICY_PREVIEW_REQUEST)),
            demo_answer(PolicyPreviewOut, constant(POLICY_PREVIEW_QUEUED), status=202),
        ],
    )
    def post(self, request: Request) -> Response:
        data = parse(PolicyPreviewIn, json_body(request))
        now = timezone.now()
        start, end = default_window(now, start=data.start, end=data.end)
        try:
            preview, _created = preview_request(
                policy_id=data.policy, start=start, end=end, now=now, user=request.user
            )
        except PreviewError as exc:
            raise InvalidInput(
                _("The request has invalid fields; see errors."), errors={exc.field: [str(exc)]}
            ) from None
        location = reverse("api:policy-preview", args=[preview.pk])
        return Response(preview_answer(preview).body(), status=202, headers={"Location": location})


class PolicyPreviewApi(PreviewApi):
    """A policy preview: its progress and, when done, its result."""

    @extend_schema(
        operation_id="policy_preview_detail",
        tags=["policy previews"],
        summary=_("A policy preview's progress and result"),
        responses={
            200: OpenApiResponse(PolicyPreviewOut, _("The preview.")),
            **problem_responses(401, 403, 404),
        },
        examples=[
            demo_parameter("preview_id", "path", constant(DEMO_PREVIEW_ID)),
            demo_answer(PolicyPreviewOut, constant(POLICY_PREVIEW_DONE)),
        ],
    )
    def get(self, request: Request, preview_id: int) -> Response:
        preview = preview_of(preview_id)
        if preview is None:
            raise NotFound(_("There is no such policy preview."))
        return Response(preview_answer(preview).body())


# --- A till finds things: the catalogue and its store's sales -------------------------------
class TillPagination(CursorPagination):
    """Cursor pages: each list answers its ``*PageOut`` (``results`` and the ``next`` URL)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    # Each list says which positions its first ordering field can have, as DRF writes them.
    position_is_valid: Callable[[str], bool]

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # DRF answers a cursor it cannot read with 404: a bad parameter
            raise serializers.ValidationError(
                {"cursor": [_("Not a cursor from this list; follow next as given.")]}
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


class ProductPageOut(Answer):
    results: list[ProductOut]
    next: str | None = Field(description="The next page's URL, or null on the last page.")


class ProductListApi(TerminalApi):
    @extend_schema(
        operation_id="product_list",
        tags=["catalogue"],
        summary=_("Find products by SKU, barcode or words"),
        parameters=query_parameters(ProductQuery),
        responses={
            200: OpenApiResponse(ProductPageOut, _("The products found, a page at a time.")),
            **problem_responses(400, 401),
        },
        examples=[
            demo_parameter("sku", "query", demo(Examples.products_query)),
            demo_answer(ProductPageOut, demo(Examples.products_answer)),
        ],
    )
    def get(self, request: Request) -> Response:
        query = parse_query(ProductQuery, request.query_params)
        paginator = ProductPagination()
        page = paginator.paginate_queryset(
            search.products_find(
                operator_id=self.terminal.store.operator_id,
                skus=query.skus,
                barcode=query.barcode or "",
                words=query.words,
            ),
            request,
            view=self,
        )
        categories = search.categories_in_force(now=timezone.now())
        return Response(
            ProductPageOut(
                results=[search.product_out(product, categories) for product in page],
                next=paginator.get_next_link(),
            ).body()
        )


class TerminalReportApi(TerminalApi):
    @extend_schema(
        operation_id="terminal_report",
        tags=["sales"],
        summary=_("The terminal's day: its X report"),
        description=_(
            "The sales this terminal made on a local day, the returns it took and its sales "
            "voided, in all and by pickup mode. Read at any time; it closes nothing."
        ),
        parameters=query_parameters(TerminalReportQuery),
        responses={
            200: OpenApiResponse(TerminalReportOut, _("The terminal's day so far.")),
            **problem_responses(400, 401),
        },
        examples=[demo_answer(TerminalReportOut, constant(TERMINAL_REPORT_ANSWER))],
    )
    def get(self, request: Request) -> Response:
        query = parse_query(TerminalReportQuery, request.query_params)
        now = timezone.now()
        report = shift.terminal_report(
            terminal=self.terminal, day=query.date or local_date(now), now=now
        )
        return Response(report.body())


class SalePageOut(Answer):
    results: list[SaleDetailOut]
    next: str | None = Field(description="The next page's URL, or null on the last page.")


class SalesApi(SaleCreateApi):
    """``POST /sales`` makes a sale (SaleCreateApi); ``GET /sales`` finds the store's."""

    @extend_schema(
        operation_id="sale_list",
        tags=["sales"],
        summary=_("Find the store's sales by receipt number or day"),
        parameters=query_parameters(SaleQuery),
        responses={
            200: OpenApiResponse(
                SalePageOut, _("The store's sales, newest first, a page at a time.")
            ),
            **problem_responses(400, 401),
        },
        examples=[
            demo_parameter("date", "query", demo(Examples.first_sale_day)),
            demo_answer(SalePageOut, demo(Examples.sales_answer)),
        ],
    )
    def get(self, request: Request) -> Response:
        query = parse_query(SaleQuery, request.query_params)
        paginator = SalePagination()
        page = paginator.paginate_queryset(
            search.sales_find(
                store_id=self.terminal.store_id,
                receipt_no=query.receipt_no or "",
                day=query.date,
                training_only=self.terminal.training,
            ),
            request,
            view=self,
        )
        return Response(
            SalePageOut(results=answers.sale_details(page), next=paginator.get_next_link()).body()
        )
