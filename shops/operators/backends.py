"""Permissions as Django's ``ModelBackend`` gives them, less what only the platform may do.

An operator's staff member keeps what their roles grant over their operator's stores, but
never changes the policy (``quotas``: policies, categories, immediate-pickup kinds,
programmes, bans, shoppers) nor the users: those stay the platform's, whatever group an
operator's person is given. They still read the policy (the ``view`` permissions). Nor do they
ask for or read policy previews, which count every operator's sales.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from shops.operators.scope import operator_of

# App labels whose rows only the platform's people change.
PLATFORM_APPS = ("quotas", "auth")
# Models of other apps only the platform's people use at all (every permission).
PLATFORM_MODELS = ("shops.policypreview",)


def platform_only(permission: str) -> bool:
    """Whether ``permission`` (``app_label.codename``) is one only the platform's people hold."""
    app_label, _, codename = permission.partition(".")
    model = f"{app_label}.{codename.partition('_')[2]}"
    if model in PLATFORM_MODELS:
        return True
    return app_label in PLATFORM_APPS and not codename.startswith("view_")


class OperatorPermissionsBackend(ModelBackend):
    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return _theirs(user_obj, super().get_user_permissions(user_obj, obj))

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return _theirs(user_obj, super().get_group_permissions(user_obj, obj))


def _theirs(user: Any, permissions: set[str]) -> set[str]:
    """``permissions`` less the platform's own when ``user`` works for an operator."""
    if not permissions or operator_of(user) is None:
        return permissions
    return {permission for permission in permissions if not platform_only(permission)}
