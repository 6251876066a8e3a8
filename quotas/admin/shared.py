"""What more than one module of the quotas admin uses: a service's refusal in the page's
language, the signed-in staff user, a time as a person reads it here, and PolicyPages, the base
of a policy's own pages (the policy they act on, if the user may; their rendering)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from dutyfree.errors import DomainError

from ..models import Policy
from ..rules import LOCAL_TZ
from .history import VersionsAdmin

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .categories import PolicyPartInline


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


class PolicyPages(VersionsAdmin):
    """What the pages a policy has beyond Django's own (clone, publish, withdraw, the CSV pages)
    share: the policy a page acts on, refused unless the user may; the page, rendered from
    templates/admin/quotas/policy/; the way back to the policy's page."""

    def _policy(
        self,
        request: HttpRequest,
        pk: int,
        *,
        change: bool,
        part: type[PolicyPartInline] | None = None,
    ) -> Policy:
        """The policy of a page that changes it (else reads it) and, with ``part``, its
        categories or kinds: refused (403) unless the user may, as on the policy's own page,
        where each list shows only to whoever may see it and is editable only by whoever may
        change it."""
        policy = get_object_or_404(Policy, pk=pk)
        inline = part(self.model, self.admin_site) if part is not None else None
        if change:  # False for published/withdrawn
            allowed = self.has_change_permission(request, policy) and (
                inline is None or inline.has_change_permission(request, policy)
            )
        else:
            allowed = self.has_view_permission(request, policy) and (
                inline is None or inline.has_view_permission(request, policy)
            )
        if not allowed:
            raise PermissionDenied
        return policy

    def _change_url(self, policy: Policy) -> str:
        return reverse("admin:quotas_policy_change", args=[policy.pk])

    def _render(
        self, request: HttpRequest, policy: Policy, template: str, **extra: Any
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": policy,
            "title": extra.pop("title"),
            **extra,
        }
        return TemplateResponse(request, f"admin/quotas/policy/{template}", context)
