"""What every page of the quotas admin uses: a service's refusal in the page's language, the
signed-in staff user, a time as a person reads it here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext

from dutyfree.errors import DomainError

from ..rules import LOCAL_TZ

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def refusal(exc: DomainError) -> str:
    """A service's refusal in the page's language (services mark their messages with
    gettext_noop and raise them in English, or raise a lazy translation that carries its
    values, rendered here)."""
    if isinstance(exc.detail, str):
        return gettext(exc.detail)
    return str(exc.detail)


def staff(request: HttpRequest) -> User:
    """The signed-in staff user: the admin site serves no one else."""
    return cast("User", request.user)


def local(at: Any) -> str:
    """A time as a person reads it here: Asia/Shanghai, minutes."""
    return f"{at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"
