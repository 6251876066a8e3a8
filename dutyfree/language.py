"""The language of a request: pages follow the visitor's choice, the API follows the request.

Pages (``/quota/``, the dashboard, the admin) keep Django's order: the language switch's
cookie, then Accept-Language. An API request is answered in the language its Accept-Language
asks for (zh-hans or en; zh-hans when it names neither): a cookie left by the pages' switch
in the same browser (Swagger UI, a till's web view) must not turn an English client's
errors Chinese while our own titles stayed English.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation.trans_real import language_code_re, parse_accept_lang_header

API_PREFIX = "/api/"


def language_from_header(request: HttpRequest) -> str:
    """The first supported language of the request's Accept-Language, else the default."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in parse_accept_lang_header(header[:1000]):
        if code == "*":
            break
        if not language_code_re.search(code):
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class RequestLanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, except that the API listens to Accept-Language only."""

    def process_request(self, request: HttpRequest) -> None:
        if not request.path_info.startswith(API_PREFIX):
            super().process_request(request)
            return
        translation.activate(language_from_header(request))
        request.LANGUAGE_CODE = translation.get_language()


def in_language(*, zh: str, en: str) -> str:
    """A name in the active language: English under ``en``, else Chinese (the default)."""
    return en if (translation.get_language() or "").startswith("en") else zh
