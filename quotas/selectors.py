"""Reads of the quotas app."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from .choices import PolicyStatus
from .errors import NoPolicyInForce
from .models import Policy
from .rules import CategoryRule, PolicyRules


def policy_in_force(*, at: datetime, programme: str | None = None) -> Policy:
    """The published policy with the latest ``effective_from <= at``, categories prefetched.

    :raises NoPolicyInForce: when no published policy had taken effect at ``at``.
    """
    code = programme or settings.DEFAULT_PROGRAMME
    policy = (
        Policy.objects.filter(
            programme__code=code, status=PolicyStatus.PUBLISHED, effective_from__lte=at
        )
        .select_related("programme")
        .prefetch_related("categories")
        .order_by("-effective_from")
        .first()
    )
    if policy is None:
        raise NoPolicyInForce(
            f"No published {code} policy was in force at {at.isoformat()}.", at=at.isoformat()
        )
    return policy


def policy_rules(*, policy: Policy) -> PolicyRules:
    """The pure-rules view of a policy (for :func:`quotas.rules.judge_basket`)."""
    categories = {
        category.code: CategoryRule(
            code=category.code,
            number=category.number,
            name_zh=category.name_zh,
            name_en=category.name_en,
            limit_unit=category.per_trip_limit_unit or None,
            limit_value=category.per_trip_limit_value,
            immediate_pickup=category.immediate_pickup,
        )
        for category in policy.categories.all()
    }
    return PolicyRules(
        id=policy.pk,
        name=policy.name,
        effective_from=policy.effective_from,
        annual_limit=policy.annual_limit,
        min_age=policy.min_age,
        traveller_kinds=frozenset(policy.traveller_kinds),
        pickup_modes=frozenset(policy.pickup_modes),
        immediate_max_unit_price=policy.immediate_pickup_max_unit_price,
        guarantee_min_unit_price=policy.guarantee_pickup_min_unit_price,
        categories=categories,
    )
