"""dutyfree.headers.CSPMiddleware writes the header django-csp's own middleware writes, for every
kind of response: the configured policy (built once), a view's own change, an exemption, a
nonce drawn by a page, Django's debug pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.decorators import csp_exempt, csp_replace, csp_update
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test import RequestFactory, override_settings

from dutyfree.headers import CSPMiddleware


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("{}", content_type="application/json")


def with_nonce(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")  # type: ignore[attr-defined]


def missing(request: HttpRequest) -> HttpResponse:
    return HttpResponse("nothing here", status=404)


VIEWS: dict[str, Callable[[HttpRequest], HttpResponseBase]] = {
    "plain": plain,
    "updated": csp_update({"style-src": ["'sha256-abc='"]})(plain),
    "replaced": csp_replace({"img-src": ["'self'"]})(plain),
    "exempt": csp_exempt()(plain),
    "nonce": with_nonce,
    "missing": missing,
}


def headers(
    middleware: type[Any], view: Callable[[HttpRequest], HttpResponseBase]
) -> dict[str, str]:
    request = RequestFactory().get("/somewhere")
    response = middleware(view)(request)
    return {name: response[name] for name in (HEADER, HEADER_REPORT_ONLY) if name in response}


@pytest.mark.parametrize("name", sorted(VIEWS))
@pytest.mark.parametrize("debug", [False, True])
def test_the_same_header_as_django_csp(name: str, debug: bool) -> None:
    with override_settings(DEBUG=debug):
        ours = headers(CSPMiddleware, VIEWS[name])
        theirs = headers(DjangoCSPMiddleware, VIEWS[name])
    assert ours == theirs
    if name in ("plain", "updated", "replaced", "nonce") or (name == "missing" and not debug):
        assert HEADER in ours  # the comparison is not between two empty headers


def test_a_view_change_is_not_remembered_for_the_next_response() -> None:
    middleware = CSPMiddleware(VIEWS["updated"])
    first = middleware.process_response(RequestFactory().get("/"), VIEWS["updated"](None))[HEADER]  # type: ignore[arg-type]
    second = middleware.process_response(RequestFactory().get("/"), plain(None))[HEADER]  # type: ignore[arg-type]
    assert "sha256-abc=" in first
    assert "sha256-abc=" not in second


@override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {"default-src": ["'none'"]}})
def test_the_report_only_header_too() -> None:
    ours, theirs = headers(CSPMiddleware, plain), headers(DjangoCSPMiddleware, plain)
    assert ours == theirs
    assert ours[HEADER_REPORT_ONLY] == "default-src 'none'"


def test_a_nonce_asked_after_the_header_is_an_error() -> None:
    request = RequestFactory().get("/")
    CSPMiddleware(plain)(request)
    with pytest.raises(Exception, match="csp_nonce"):
        str(request.csp_nonce)  # type: ignore[attr-defined]
