"""The till's pages: ``/pos/`` (the sign-in, or the cashier screen once signed in) and its
sign-in and sign-out. The screen itself is ES modules on the public API
(``shops/static/shops/till/``): nothing here judges or sells."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dutyfree import throttle
from quotas.choices import TripKind
from shops.shoppers.names import DOCUMENT_TYPES, TRIP_MODES
from shops.till import sessions
from shops.till.texts import PICKUP_NAMES, resolved


class SignInForm(forms.Form):
    key = forms.CharField(
        label=_("Terminal key"),
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "autofocus": True}),
        help_text=_(
            "This till's key (df_…), from the store's administrator. The browser keeps a "
            "session until the shift ends, never the key."
        ),
    )


def _sign_in_page(request: HttpRequest, form: SignInForm, *, status: int = 200) -> HttpResponse:
    return render(request, "shops/till_sign_in.html", {"form": form}, status=status)


@never_cache
@require_GET
def till_page(request: HttpRequest) -> HttpResponse:
    """The cashier screen for a signed-in till, else its sign-in."""
    session = sessions.till_session_of(
        token=request.COOKIES.get(sessions.COOKIE, ""), now=timezone.now()
    )
    if session is None:
        return _sign_in_page(request, SignInForm())
    terminal = session.terminal
    return render(
        request,
        "shops/till.html",
        {
            "terminal": terminal,
            "store": terminal.store,
            "shift_ends_at": session.expires_at,
            "texts": resolved(),
            "document_types": DOCUMENT_TYPES,
            "trip_modes": list(TRIP_MODES.items()),
            "trip_kinds": [
                (TripKind.DOMESTIC, _("Elsewhere in China")),
                (TripKind.OUTBOUND, _("Abroad (leaving the country)")),
            ],
            "pickup_modes": list(PICKUP_NAMES.items()),
        },
    )


@never_cache
@require_POST
def till_sign_in(request: HttpRequest) -> HttpResponse:
    """Exchange a terminal's key for the till's session cookie (HttpOnly, SameSite=Strict,
    Secure under TLS), good until the shift ends."""
    verdict = throttle.hit(
        "till-sign-in",
        throttle.client_address(request),
        throttle.Rate.parse(settings.TILL_SIGN_IN_RATE),
    )
    form = SignInForm(request.POST)
    valid = form.is_valid()  # the bound form: what went wrong goes beside its field
    if not verdict.allowed:
        form.add_error(None, _("Too many sign-ins from this address: wait a minute."))
        response = _sign_in_page(request, form, status=429)
        response["Retry-After"] = str(verdict.retry_after)
        return response
    if not valid:
        return _sign_in_page(request, form, status=400)
    signed = sessions.till_sign_in(key=form.cleaned_data["key"], now=timezone.now())
    if signed is None:
        form.add_error(
            "key",
            _("That key is no active terminal's: check it, or ask for the terminal's key."),
        )
        return _sign_in_page(request, form, status=400)
    session, token = signed
    # A session this browser held before ends now (its token would otherwise stay valid until
    # its shift ended), and the CSRF token changes with the credential, as Django's login does.
    sessions.till_sign_out(token=request.COOKIES.get(sessions.COOKIE, ""))
    rotate_token(request)
    response = HttpResponseRedirect(reverse("till"), status=303)
    response.set_cookie(
        sessions.COOKIE,
        token,
        expires=session.expires_at,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


@never_cache
@require_POST
def till_sign_out(request: HttpRequest) -> HttpResponse:
    """End the till's session and forget its cookie."""
    sessions.till_sign_out(token=request.COOKIES.get(sessions.COOKIE, ""))
    response = HttpResponseRedirect(reverse("till"), status=303)
    response.delete_cookie(sessions.COOKIE, path="/", samesite="Strict")
    return response
