"""Writes of the quotas app: the policy life cycle (clone → edit → publish, or withdraw)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history

from .choices import PolicyStatus
from .errors import PolicyImmutable, PolicyNotPublishable, PolicyNotWithdrawable
from .models import Category, Policy

_COPIED_POLICY_FIELDS = (
    "programme_id",
    "annual_limit",
    "min_age",
    "traveller_kinds",
    "pickup_modes",
    "immediate_pickup_max_unit_price",
    "guarantee_pickup_min_unit_price",
    "departure_deadline_days",
    "ban_years",
    "return_pickup_within_months",
    "notes",
)
_COPIED_CATEGORY_FIELDS = (
    "number",
    "code",
    "name_zh",
    "name_en",
    "per_trip_limit_unit",
    "per_trip_limit_value",
    "immediate_pickup",
    "verified",
    "added",
    "note",
)


@transaction.atomic
def policy_clone(*, policy: Policy, user: AbstractBaseUser | None = None) -> Policy:
    """A new draft with the same rules and categories, to be edited and published."""
    draft = Policy(
        name=f"{policy.name} (draft)"[:200],
        status=PolicyStatus.DRAFT,
        effective_from=None,
        cloned_from=policy,
        **{name: getattr(policy, name) for name in _COPIED_POLICY_FIELDS},
    )
    # Read by simple-history: why and by whom, also outside a request.
    draft._change_reason = f"cloned from policy {policy.pk}"
    draft._history_user = user
    draft.save()
    bulk_create_with_history(
        [
            Category(policy=draft, **{name: getattr(c, name) for name in _COPIED_CATEGORY_FIELDS})
            for c in policy.categories.order_by("number")
        ],
        Category,
        default_user=user,
        default_change_reason=f"cloned from policy {policy.pk}",
    )
    return draft


@transaction.atomic
def policy_publish(
    *,
    policy: Policy,
    effective_from: datetime,
    now: datetime,
    user: AbstractBaseUser | None = None,
) -> Policy:
    """Publish a draft: from ``effective_from`` (now or later) it is the policy in force.

    :raises PolicyNotPublishable: not a draft, a time in the past, no categories, or another
        published policy of the programme takes effect at the same instant.
    """
    locked = Policy.objects.select_for_update().get(pk=policy.pk)
    if locked.status != PolicyStatus.DRAFT:
        raise PolicyNotPublishable(f"Policy {policy.pk} is {locked.status}, not a draft.")
    if effective_from.tzinfo is None:
        raise PolicyNotPublishable("The effective time needs a time zone.")
    if effective_from < now:
        raise PolicyNotPublishable(
            "A policy takes effect now or later, never in the past: sales already judged keep "
            "the rules that judged them."
        )
    if not locked.categories.exists():
        raise PolicyNotPublishable("A policy without categories cannot be published.")
    locked.full_clean(exclude=["effective_from"])
    if Policy.objects.filter(
        programme_id=locked.programme_id,
        status=PolicyStatus.PUBLISHED,
        effective_from=effective_from,
    ).exists():
        raise PolicyNotPublishable("Another published policy takes effect at that instant.")
    locked.status = PolicyStatus.PUBLISHED
    locked.effective_from = effective_from
    locked.published_at = now
    locked.published_by = user  # type: ignore[assignment]
    locked._change_reason = f"published, effective {effective_from.isoformat()}"
    locked._history_user = user
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:  # a concurrent publish at the same instant
        raise PolicyNotPublishable(
            "Another published policy takes effect at that instant."
        ) from exc
    return locked


@transaction.atomic
def policy_withdraw(
    *, policy: Policy, now: datetime, user: AbstractBaseUser | None = None
) -> Policy:
    """Withdraw a published policy that has not yet taken effect (kept, never in force).

    :raises PolicyNotWithdrawable: not published, or already in effect.
    """
    locked = Policy.objects.select_for_update().get(pk=policy.pk)
    if locked.status != PolicyStatus.PUBLISHED:
        raise PolicyNotWithdrawable(f"Policy {policy.pk} is {locked.status}, not published.")
    if locked.effective_from is not None and locked.effective_from <= now:
        raise PolicyNotWithdrawable(
            "The policy has taken effect; publish a new version instead of withdrawing it."
        )
    locked.status = PolicyStatus.WITHDRAWN
    locked.withdrawn_at = now
    locked.withdrawn_by = user  # type: ignore[assignment]
    locked._change_reason = "withdrawn before taking effect"
    locked._history_user = user
    locked.save()
    return locked


@transaction.atomic
def policy_categories_replace(
    *, policy: Policy, rows: Sequence[dict[str, object]], user: AbstractBaseUser | None = None
) -> int:
    """Replace a draft's categories with ``rows`` (from ``category_csv.parse_categories``).

    All or nothing. Returns the number of categories written.

    :raises PolicyImmutable: if the policy is not a draft.
    """
    locked = Policy.objects.select_for_update().get(pk=policy.pk)
    if locked.status != PolicyStatus.DRAFT:
        raise PolicyImmutable(f"Policy {policy.pk} is {locked.status}; only drafts are edited.")
    existing = {category.code: category for category in locked.categories.all()}
    wanted = {str(row["code"]): row for row in rows}
    # Deletes first (codes dropped, or renumbered), so no number or code collides mid-way;
    # rows that keep their code and number are updated in place and keep their history.
    for code, category in list(existing.items()):
        row = wanted.get(code)
        if row is None or row["number"] != category.number:
            category._change_reason = "CSV import"
            category._history_user = user
            category.delete()
            del existing[code]
    for code, row in wanted.items():
        category = existing.get(code) or Category(policy=locked)
        if category.pk and all(getattr(category, name) == value for name, value in row.items()):
            continue
        for name, value in row.items():
            setattr(category, name, value)
        category.full_clean(exclude=["policy"], validate_unique=False)
        category._change_reason = "CSV import"
        category._history_user = user
        category.save()
    return len(rows)
