"""Pages for people: the home page ``/`` and the shopper's quota lookup ``/quota/``
(zh-hans by default, English by the switch or Accept-Language)."""

from __future__ import annotations

import contextlib
import re
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from captcha import views as captcha_views
from captcha.conf import settings as captcha_settings
from captcha.fields import CaptchaField, CaptchaTextInput
from captcha.helpers import captcha_image_url
from captcha.models import CaptchaStore
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.exceptions import Throttled

from dutyfree import throttle
from dutyfree.errors import PROBLEM_CONTENT_TYPE, problem
from quotas import identity
from quotas.choices import DocumentType
from quotas.errors import NoPolicyInForce
from shops.shoppers.lookup import LookupQuery, lookup_document_hit, quota_lookup
from shops.shoppers.names import DOCUMENT_TYPES, TRIP_MODES

STATUSES = {"completed": _("Completed"), "voided": _("Voided")}
UNITS = {"piece": _("pieces"), "ml": _("ml")}
# A unit word with an alternative in brackets, as the announcement writes it ("罐（包）"):
# the page writes "罐/包", so a sentence around it never nests brackets.
_UNIT_ALTERNATIVE = re.compile(r"^(.+?)（(.+)）$")


def unit_html(unit: str) -> SafeString:
    """A unit word for the page, kept on one line: the template joins it to its number with a
    no-break space, so "3 罐/包" never wraps between number and unit, nor inside the unit."""
    return format_html('<span class="unit">{}</span>', _UNIT_ALTERNATIVE.sub(r"\1/\2", unit))


def sum_challenge() -> tuple[str, str]:
    """The look-up's CAPTCHA (``CAPTCHA_CHALLENGE_FUNCT``): a two-digit plus a one-digit
    number, ``"27+8="``. Always a sum, so the label can say so, and the answer is typed on a
    phone's numeric keypad."""
    first, second = 10 + secrets.randbelow(30), 2 + secrets.randbelow(8)
    return f"{first}+{second}=", str(first + second)


class SumCaptchaInput(CaptchaTextInput):
    """The image at its size with localised alt text, a link to another sum (quota.js swaps it
    in place through the app's refresh view; without JavaScript the link reloads the page), and
    an answer box that brings up the numeric keypad."""

    # In shops/templates/: widgets render with the form renderer, whose engine sees the apps'
    # template folders, not the project's templates/.
    template_name = "shops/quota_captcha.html"

    def __init__(self) -> None:
        super().__init__()
        self.widgets[1].attrs.update(
            {"inputmode": "numeric", "pattern": "[0-9]*", "maxlength": "3", "size": "4"}
        )

    # The challenge to show, chosen by the page (:func:`captcha_key`); None: a new one.
    key: str | None = None

    def fetch_captcha_store(
        self, name: str, value: Any, attrs: Any = None, generator: Any = None
    ) -> None:
        if self.key is None:
            super().fetch_captcha_store(name, value, attrs, generator)
            return
        self._value = [self.key, ""]
        self._key = self.key
        self.id_ = self.build_attrs(attrs).get("id", None)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["refresh_url"] = self.refresh_url()
        context["image_size"] = captcha_settings.CAPTCHA_IMAGE_SIZE
        return context


class LookupForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("Document type"), choices=DOCUMENT_TYPES)
    # Asked for every document but the resident identity card (hidden for it by quota.css, and
    # by quota.js where :has() is missing; ignored for it here when a browser shows it anyway).
    country = forms.CharField(
        label=_("Issuing country code"),
        help_text=_("The three letters printed on the document, such as CHN."),
        required=False,
        initial=identity.RESIDENT_ID_COUNTRY,
        widget=forms.TextInput(
            attrs={
                "maxlength": "3",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "aria-describedby": "id_country_help",
            }
        ),
    )
    number = forms.CharField(
        label=_("Document number"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    name = forms.CharField(
        label=_("Name as on the document"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    captcha = CaptchaField(
        label=_("Answer the sum"),
        widget=SumCaptchaInput(),
        error_messages={
            "invalid": _("That is not the answer, or the sum has expired. Answer the new sum.")
        },
    )

    def __init__(self, *args: Any, captcha: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["captcha"].widget.key = captcha

    def clean_number(self) -> str:
        try:
            number = identity.normalise_document_number(self.cleaned_data["number"])
        except identity.InvalidDocument:
            raise forms.ValidationError(
                _("A document number has 4 to 32 letters and digits."), code="invalid"
            ) from None
        return number

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if "\x00" in name:
            raise forms.ValidationError(_("Enter the name as printed."), code="invalid")
        return name

    def clean(self) -> dict[str, Any]:
        data = cast("dict[str, Any]", super().clean())  # Django returns cleaned_data
        number = data.get("number")
        doc_type = data.get("doc_type")
        if doc_type == DocumentType.RESIDENT_ID:
            # The page never asks a resident identity card's country.
            data["country"] = identity.RESIDENT_ID_COUNTRY
            if number and not identity.RESIDENT_ID.match(number):
                self.add_error(
                    "number", _("A resident identity card number has 17 digits and a digit or X.")
                )
        elif doc_type:
            country = data.get("country", "").strip()
            if not country:
                self.add_error(
                    "country", _("Enter the country code printed on the document, such as CHN.")
                )
            elif not identity.COUNTRY.match(country):
                self.add_error("country", _("Three letters, such as CHN."))
            else:
                data["country"] = country.upper()
        return data

    def forget_identity(self) -> None:
        """Never send the number or the name back to the browser: after a post the form is
        shown again with its errors but without them."""
        if self.is_bound:
            data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict (or a dict)
            data["number"] = ""
            data["name"] = ""
            data["captcha_1"] = ""
            self.data = data


def _money(text: str) -> Decimal:
    return Decimal(text)


def _yuan(value: Decimal) -> str:
    """``¥100,000.00`` — the same digits in both languages."""
    return f"¥{value:,.2f}"


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _presented(answer: dict[str, Any]) -> dict[str, Any]:
    """The lookup's JSON answer, typed for the template."""
    limit, used = _money(answer["limit"]), _money(answer["used"])
    share = int(used * 100 / limit) if limit else 0
    return {
        "year": answer["year"],
        "limit": _yuan(limit),
        "used": _yuan(used),
        "remaining": _yuan(_money(answer["remaining"])),
        "used_percent": min(max(share, 0), 100),
        "banned_until": _when(answer["banned_until"]),
        "masked": answer["document"]["masked"],
        "purchases": [
            {
                **purchase,
                "sold_at": _when(purchase["sold_at"]),
                "amount": _yuan(_money(purchase["amount"])),
                "returned": _yuan(_money(purchase["returned"]))
                if _money(purchase["returned"])
                else "",
                "status_label": STATUSES.get(purchase["status"], purchase["status"]),
            }
            for purchase in answer["purchases"]
        ],
        "open_trips": [
            {
                **trip,
                "departs_at": _when(trip["departs_at"]),
                "mode_label": TRIP_MODES.get(trip["mode"], trip["mode"]),
                "trip_limits": [
                    {**limit, "unit_html": unit_html(str(UNITS.get(limit["unit"], limit["unit"])))}
                    for limit in trip["trip_limits"]
                ],
                "immediate_limits": [
                    {**limit, "unit_html": unit_html(limit["unit_name"])}
                    for limit in trip["immediate_limits"]
                ],
            }
            for trip in answer["open_trips"]
        ],
    }


@require_GET
def home_page(request: HttpRequest) -> HttpResponse:
    """Where each page is, and whom it is for (the admin's "View site" lands here)."""
    return render(request, "shops/home.html")


# --- The CAPTCHA: a row per challenge, so new ones are counted per address -------------------
def _pending_key(address: str) -> str:
    return f"captcha-pending:{address}"


def captcha_key(request: HttpRequest, *, fresh: bool = False) -> tuple[str | None, int]:
    """The challenge to show this client: the one it was last shown while it is still
    unanswered and unexpired, else a new one — at most ``CAPTCHA_RATE`` new ones per client
    address (``fresh``: a new one even if one is pending, as "Show another sum" asks). Returns
    the key and 0, or the pending key (None if there is none) and the seconds until a new one
    may be made."""
    address = throttle.client_address(request)
    try:
        pending = cache.get(_pending_key(address))
    except Exception:  # the cache away: no reuse, the rate still holds (dutyfree.throttle)
        pending = None
    if (
        pending is not None
        and not CaptchaStore.objects.filter(hashkey=pending, expiration__gt=timezone.now()).exists()
    ):
        pending = None
    if pending is not None and not fresh:
        return pending, 0
    verdict = throttle.hit("captcha", address, throttle.Rate.parse(settings.CAPTCHA_RATE))
    if not verdict.allowed:
        return pending, verdict.retry_after
    key = CaptchaStore.generate_key()
    with contextlib.suppress(Exception):
        cache.set(_pending_key(address), key, timeout=captcha_settings.CAPTCHA_TIMEOUT * 60)
    return key, 0


@require_GET
def captcha_refresh(request: HttpRequest) -> HttpResponse:
    """django-simple-captcha's refresh (the page script's "Show another sum"), counted per
    client address: beyond ``CAPTCHA_RATE`` new sums, 429 with Retry-After."""
    if request.headers.get("x-requested-with") != "XMLHttpRequest":
        raise Http404
    key, wait = captcha_key(request, fresh=True)
    if wait:
        body = problem(
            status=429,
            code="throttled",
            title=_("Too many requests"),
            detail=Throttled(wait=wait).detail,
        )
        response = JsonResponse(
            body,
            status=429,
            content_type=PROBLEM_CONTENT_TYPE,
            json_dumps_params={"ensure_ascii": False},
        )
        response["Retry-After"] = str(wait)
        return response
    assert key is not None  # noqa: S101 - a key whenever there is no wait
    return JsonResponse({"key": key, "image_url": captcha_image_url(key), "audio_url": None})


def captcha_image(request: HttpRequest, key: str) -> HttpResponse:
    """The challenge's image. Drawn from its key alone (the library seeds its noise with the
    key), so the image of a key never changes: it is drawn once and kept in the cache as long
    as the key lives, and the browser may keep it as long too."""
    lifetime = captcha_settings.CAPTCHA_TIMEOUT * 60
    drawn = cache.get(f"captcha-image:{key}")
    if drawn is not None:
        content, content_type = drawn
        response = HttpResponse(content, content_type=content_type)
    else:
        response = captcha_views.captcha_image(request, key, scale=1)
        if response.status_code == 200:
            drawn = (response.content, response["Content-Type"])
            cache.set(f"captcha-image:{key}", drawn, timeout=lifetime)
    if response.status_code == 200:
        patch_cache_control(response, private=True, max_age=lifetime, immutable=True)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def quota_page(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.POST or None)
    result, status, throttled, unavailable = None, 200, None, False
    if request.method == "POST":
        verdict = throttle.hit(
            "quota-lookup",
            throttle.client_address(request),
            throttle.Rate.parse(settings.QUOTA_LOOKUP_RATE),
        )
        if not verdict.allowed:
            status, throttled = 429, verdict.retry_after
            form = LookupForm()
        elif form.is_valid():
            data = form.cleaned_data
            query = LookupQuery(
                doc_type=data["doc_type"],
                country=data["country"],
                number=data["number"],
                name=data["name"],
            )
            verdict = lookup_document_hit(query)
            if not verdict.allowed:
                status, throttled = 429, verdict.retry_after
            else:
                try:
                    result = _presented(
                        quota_lookup(
                            query=query, now=timezone.now(), language=translation.get_language()
                        )
                    )
                except NoPolicyInForce:
                    status, unavailable = 503, True
            form = LookupForm()
        else:
            status = 400
            form.forget_identity()
    key, wait = captcha_key(request, fresh=request.method == "GET" and "sum" in request.GET)
    if key is None:  # no challenge to show, and no new one for now
        status, throttled = 429, wait
    form.fields["captcha"].widget.key = key
    response = render(
        request,
        "shops/quota.html",
        {"form": form, "result": result, "throttled": throttled, "unavailable": unavailable},
        status=status,
    )
    if throttled:
        response["Retry-After"] = str(throttled)
    return response
