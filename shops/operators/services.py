"""Adding operators and giving staff users theirs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shops.models import Operator, OperatorStaff

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class UnknownOperator(ValueError):
    """No operator has the code; the message names it and the codes there are."""

    def __init__(self, code: str) -> None:
        known = ", ".join(Operator.objects.values_list("code", flat=True)) or "none yet"
        super().__init__(f"No operator {code!r} (operators: {known}).")


def operator_by_code(code: str) -> Operator:
    """:raises UnknownOperator: no operator has ``code`` (compared in upper case)."""
    try:
        return Operator.objects.get(code=code.strip().upper())
    except Operator.DoesNotExist:
        raise UnknownOperator(code) from None


def create_operator(*, code: str, name_zh: str, name_en: str = "") -> Operator:
    """A new operator; its English name defaults to the Chinese one.

    :raises ValidationError: a code in use or not of the form (``CDFG``, ``HNDF``), a blank name.
    """
    operator = Operator(code=code.strip().upper(), name_zh=name_zh.strip(), name_en=name_en.strip())
    operator.name_en = operator.name_en or operator.name_zh
    operator.full_clean()
    operator.save()
    return operator


def set_operator(user: AbstractBaseUser, operator: Operator | None) -> None:
    """Make ``user`` one of ``operator``'s staff, or, with ``None``, the platform's.

    :raises ValueError: a superuser given an operator (a superuser holds every permission, the
        platform's included: an operator's people hold roles).
    """
    if operator is not None and getattr(user, "is_superuser", False):
        raise ValueError(
            f"{user} is a superuser: an operator's people get roles (groups), not superuser status."
        )
    if operator is None:
        OperatorStaff.objects.filter(user_id=user.pk).delete()
    else:
        OperatorStaff.objects.update_or_create(user_id=user.pk, defaults={"operator": operator})
    user.__dict__.pop("_operator_of", None)
