"""RFC 9457 problem details: the one place errors become HTTP.

Domain code raises :class:`DomainError` subclasses (no HTTP knowledge beyond a status hint);
DRF's exception handler below turns those and DRF's own exceptions into
``application/problem+json`` bodies ``{"type", "title", "status", "detail", "code", ...}``.
Plain Django 404/500 pages under ``/api/`` get the same shape from :func:`api_aware_404`
and :func:`api_aware_500`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django import db
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import ConfigDict, Field
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from dutyfree.answers import MISSING, Absent, Answer, Money

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:dutyfree:problem:"


# --- The shape of every error --------------------------------------------------------------
class Violation(Answer):
    """Why a purchase is not allowed (the contract's Violation)."""

    code: str
    message: str = Field(description="In the request's language.")
    category: str | Absent = MISSING
    kind: str | Absent = Field(
        default=MISSING, description="An immediate-pickup kind (immediate_pickup_limit_exceeded)."
    )
    unit: str | Absent = MISSING
    limit: int | Money | Absent = Field(
        default=MISSING, description="A number or a decimal string."
    )
    already: int | Money | Absent = Field(
        default=MISSING, description="A number or a decimal string."
    )
    requested: int | Money | Absent = Field(
        default=MISSING, description="A number or a decimal string."
    )
    sku: str | Absent = MISSING
    reason: str | Absent = MISSING


class Problem(Answer):
    """RFC 9457 problem details, ``application/problem+json``: every API error (:func:`problem`).
    Open: a refusal may add members of its own (``NoPolicyInForce`` its ``at``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:dutyfree:problem:<code>")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(description="Stable, machine-readable.")
    errors: dict[str, list[str]] | Absent = Field(
        default=MISSING,
        description="Every 400: messages by field (nested fields joined with dots).",
    )
    violations: list[Violation] | Absent = Field(
        default=MISSING, description="422 purchase_not_allowed: what the policy forbids."
    )


class DomainError(Exception):
    """A refusal the domain explains: a stable ``code``, a status, a human ``detail``.

    ``title`` is a lazy translation (``gettext_lazy``): a class attribute is evaluated when
    the problem body is built, in the request's language, not once at import in the default
    one. A ``detail`` is translated where it is raised, during the request.
    """

    status: int = 400
    code: str = "domain_error"
    title: Any = _("Request refused")

    def __init__(self, detail: Any = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def extra_for(self, language: str | None) -> dict[str, Any]:
        """Members added to the problem body, in the request's language where it matters."""
        return self.extra


class NotFoundError(DomainError):
    status = 404
    code = "not_found"
    title = _("Not found")


class ConflictError(DomainError):
    status = 409
    code = "conflict"
    title = _("Conflict")


def problem(
    *, status: int, code: str, title: Any, detail: Any = "", **extra: Any
) -> dict[str, Any]:
    """A problem body. ``title`` and ``detail`` may be lazy translations: they are rendered
    here, in the language of the request being answered."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": str(title),
        "status": status,
        "detail": str(detail or title),
        "code": code,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    if status == 400 and not body.get("errors"):  # the contract: every 400 says what in errors
        body["errors"] = {"non_field_errors": [body["detail"]]}
    if "errors" in body:  # (messages may be lazy translations: rendered now)
        body["errors"] = {field: [str(m) for m in ms] for field, ms in body["errors"].items()}
    return Problem.model_validate(body).body()


def _flatten_errors(detail: Any) -> dict[str, list[str]]:
    """DRF error details as ``{field: [message, ...]}``; nested fields joined with dots."""
    result: dict[str, list[str]] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, list) and node and all(not isinstance(n, dict | list) for n in node):
            result.setdefault(prefix or "non_field_errors", []).extend(str(n) for n in node)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if value:
                    walk(f"{prefix}.{index}" if prefix else str(index), value)
        else:
            result.setdefault(prefix or "non_field_errors", []).append(str(node))

    walk("", detail)
    return result


class WrongCredentialKind(drf_exceptions.AuthenticationFailed):
    """A credential of the other kind: a terminal key where a staff token is taken, or the
    reverse. Its ``detail`` names the credential the endpoint takes."""


class TillSessionEnded(drf_exceptions.AuthenticationFailed):
    """The cashier screen's session cookie no longer signs a till in (its shift is over, it
    signed out, its terminal was revoked): the screen goes back to its sign-in."""


# In order: the first class an exception is an instance of gives its code.
_DRF_CODES: dict[type[Exception], tuple[str, Any]] = {
    WrongCredentialKind: ("wrong_credential_kind", _("Wrong kind of credential")),
    TillSessionEnded: ("till_session_ended", _("The till's session has ended")),
    drf_exceptions.ParseError: ("malformed_request", _("Malformed request")),
    drf_exceptions.AuthenticationFailed: ("not_authenticated", _("Authentication failed")),
    drf_exceptions.NotAuthenticated: ("not_authenticated", _("Authentication required")),
    drf_exceptions.PermissionDenied: ("permission_denied", _("Permission denied")),
    drf_exceptions.NotFound: ("not_found", _("Not found")),
    drf_exceptions.MethodNotAllowed: ("method_not_allowed", _("Method not allowed")),
    drf_exceptions.NotAcceptable: ("not_acceptable", _("Not acceptable")),
    drf_exceptions.UnsupportedMediaType: ("unsupported_media_type", _("Unsupported media type")),
    drf_exceptions.Throttled: ("throttled", _("Too many requests")),
}


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE, headers=headers)


# The database restarting or unreachable: 503, never a 500. A transaction cut short rolls
# back; a cut during COMMIT leaves the outcome unknown to us, which is why a terminal retries
# with the same Idempotency-Key (a sale commits at most once).
DATABASE_UNAVAILABLE = (db.OperationalError, db.InterfaceError)
RETRY_AFTER = "5"


def database_unavailable() -> dict[str, Any]:
    return problem(
        status=503,
        code="service_unavailable",
        title=_("Service unavailable"),
        detail=_(
            "The database did not answer. Retry with the same Idempotency-Key: a sale is "
            "committed at most once."
        ),
    )


class DatabaseUnavailableMiddleware:
    """503 instead of a 500 page when the database is down, for views outside DRF (pages,
    admin): problem+json under /api/, plain text elsewhere. Django drops the broken connection
    at the end of the request, so the next one reconnects: no restart needed."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        logger.warning("Database unavailable at %s: %s", request.path, type(exception))
        if _wants_problem(request):
            response = HttpResponse(
                json.dumps(database_unavailable()),
                status=503,
                content_type=PROBLEM_CONTENT_TYPE,
            )
        else:
            response = HttpResponse(
                "Service unavailable: the database did not answer. Try again shortly.\n",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        response["Retry-After"] = RETRY_AFTER
        return response


def too_large() -> dict[str, Any]:
    """413: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django refuses to read it)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return problem(
        status=413,
        code="payload_too_large",
        title=gettext("Request body too large"),
        detail=gettext("The request body is larger than the %(limit)s bytes accepted.")
        % {"limit": f"{limit:,}" if limit else "0"},
    )


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF ``EXCEPTION_HANDLER``: every API error becomes problem+json, nothing becomes a 500
    page of HTML."""
    if isinstance(exc, DomainError):
        extra = exc.extra_for(translation.get_language())
        return problem_response(
            problem(status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, **extra)
        )
    if isinstance(exc, RequestDataTooBig):
        return problem_response(too_large())
    if isinstance(exc, SuspiciousOperation):  # e.g. too many fields in a form
        return problem_response(
            problem(
                status=400,
                code="malformed_request",
                title=_("Malformed request"),
                detail=_("The request could not be read (too many fields or files?)."),
            )
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, drf_exceptions.ValidationError):
        errors = _flatten_errors(exc.detail)
        return problem_response(
            problem(
                status=400,
                code="invalid_input",
                title=_("Invalid input"),
                detail=_("The request has invalid fields; see errors."),
                errors=errors,
            )
        )
    if isinstance(exc, drf_exceptions.APIException):
        code, title = "error", _("Error")
        for klass, pair in _DRF_CODES.items():
            if isinstance(exc, klass):
                code, title = pair
                break
        headers: dict[str, str] = {}
        if auth_header := getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = auth_header
        if wait := getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(wait))
        return problem_response(
            problem(status=exc.status_code, code=code, title=title, detail=str(exc.detail)),
            headers=headers,
        )
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning(
            "Database unavailable in %s: %s", context.get("view").__class__.__name__, type(exc)
        )
        return problem_response(database_unavailable(), headers={"Retry-After": RETRY_AFTER})
    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    return problem_response(
        problem(
            status=500,
            code="internal_error",
            title=_("Internal error"),
            detail=_("The server could not complete the request. Nothing was changed."),
        )
    )


def _wants_problem(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# Also the view of unknown /api/ paths (dutyfree.urls): without csrf_exempt a POST there got
# CsrfViewMiddleware's 403 HTML page instead of this 404 problem.
@csrf_exempt
def api_aware_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_problem(request):
        return JsonResponse(
            problem(
                status=404,
                code="not_found",
                title=_("Not found"),
                detail=_("No such path in this API."),
            ),
            status=404,
            content_type=PROBLEM_CONTENT_TYPE,
            json_dumps_params={"ensure_ascii": False},
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def api_aware_500(request: HttpRequest) -> HttpResponse:
    if _wants_problem(request):
        return JsonResponse(
            problem(status=500, code="internal_error", title=_("Internal error")),
            status=500,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    from django.views.defaults import server_error

    return server_error(request)
