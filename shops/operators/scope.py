"""What a staff user may see: their operator's stores, or every store for the platform's people.

An operator's staff member (``OperatorStaff``) sees their operator's stores and what happened
there; a staff user with none belongs to the platform (customs, administrators) and sees all.
Every list, figure and detail an operator's people reach is filtered here, so that another
operator's object is never found (a 404, as a missing one), never refused (403).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.db import models

from shops.models import Operator, OperatorStaff, Store

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

M = TypeVar("M", bound=models.Model)


def operator_of(user: AbstractBaseUser | AnonymousUser | None) -> Operator | None:
    """The operator ``user`` works for; ``None`` for the platform's people (and for no user)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_operator_of", Ellipsis)
    if cached is Ellipsis:
        staff = (
            OperatorStaff.objects.select_related("operator")
            .filter(user_id=cast(int, user.pk))
            .first()
        )
        cached = staff.operator if staff is not None else None
        user._operator_of = cached  # type: ignore[union-attr]  # once per request's user
    return cached


def is_platform(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Whether ``user`` is a staff user of the platform's (customs, administrators)."""
    return bool(getattr(user, "is_staff", False)) and operator_of(user) is None


def scoped(
    queryset: models.QuerySet[M], user: AbstractBaseUser | AnonymousUser | None, store: str
) -> models.QuerySet[M]:
    """``queryset`` cut to the rows of the stores ``user`` sees; ``store`` is the lookup from
    the queryset's model to its store (``"store"``, ``"sale__store"``, or ``"pk"`` for stores)."""
    operator = operator_of(user)
    if operator is None:
        return queryset
    lookup: dict[str, Any] = (
        {"operator": operator} if store == "pk" else {f"{store}__operator": operator}
    )
    return queryset.filter(**lookup)


def visible_store_ids(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[int] | None:
    """The ids of the stores ``user`` sees, for figures counted by store id; ``None`` for the
    platform's people (every store, those added later included)."""
    if operator_of(user) is None:
        return None
    return frozenset(scoped(Store.objects.all(), user, "pk").values_list("pk", flat=True))
