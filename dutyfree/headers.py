"""Content-Security-Policy on every response: django-csp's middleware, its header built once.

django-csp builds the header from the settings for every response (two dataclass copies and a
walk over every directive, twice with the report-only header). With no nonce drawn and no
per-view change (``csp_update``, ``csp_replace``, ``csp``, ``csp_exempt``), the header is the
configured policy, the same for every response: built once per process here, and every other
response goes through django-csp as it is.
"""

from __future__ import annotations

from functools import cached_property

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# What a view or decorator sets on a response to change or drop the policy for it.
_PER_RESPONSE = tuple(
    f"_csp_{what}{suffix}"
    for what in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


class CSPMiddleware(DjangoCSPMiddleware):
    @cached_property
    def _headers(self) -> tuple[tuple[str, str], ...]:
        """The configured policy's headers (the report-only one when configured)."""
        built = ((HEADER, build_policy()), (HEADER_REPORT_ONLY, build_policy(report_only=True)))
        return tuple((name, value) for name, value in built if value)

    @cached_property
    def _excluded(self) -> tuple[str, ...]:
        prefixes: set[str] = set()
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
            prefixes.update((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())
        return tuple(prefixes)

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in _PER_RESPONSE)
            or (self._excluded and request.path_info.startswith(self._excluded))
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        for name, value in self._headers:
            if name not in response:
                response[name] = value
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]  # django-csp sets it on the request
        return response
