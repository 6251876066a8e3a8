"""Reads of the quotas app."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from . import identity
from .choices import PolicyStatus
from .errors import NoPolicyInForce
from .models import Policy, Shopper
from .rules import LOCAL_TZ, CategoryRule, PolicyRules


def _local(at: datetime) -> str:
    """An instant as a person reads it: Asia/Shanghai, with its offset."""
    return at.astimezone(LOCAL_TZ).isoformat()


def _no_policy_message(programme: str, at: datetime) -> str:
    return _("No published %(programme)s policy was in force at %(at)s.") % {
        "programme": programme,
        "at": _local(at),
    }


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
            _no_policy_message(code, at), at=_local(at)
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


# --- The policy in force, cached per process ------------------------------------------------
@dataclass(frozen=True)
class PolicyInForce:
    policy: Policy
    rules: PolicyRules


_CACHE_SECONDS = 5.0
_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, list[PolicyInForce]]] = {}


def policy_cache_clear() -> None:
    """Forget cached policies (called on publish and withdraw, after commit)."""
    with _cache_lock:
        _cache.clear()


def policy_in_force_cached(*, at: datetime, programme: str | None = None) -> PolicyInForce:
    """:func:`policy_in_force` with its pure rules, from a per-process cache.

    Published policies never change, so only the *list* of published versions can go stale:
    it is reloaded every few seconds, and at once in the process that publishes. A version
    published to take effect immediately reaches other processes within ``_CACHE_SECONDS``;
    a version scheduled for later is picked up long before it takes effect.

    :raises NoPolicyInForce: when no published policy had taken effect at ``at``.
    """
    code = programme or settings.DEFAULT_PROGRAMME
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(code)
    if cached is None or cached[0] < now:
        policies = (
            Policy.objects.filter(programme__code=code, status=PolicyStatus.PUBLISHED)
            .select_related("programme")
            .prefetch_related("categories")
            .order_by("-effective_from")
        )
        versions = [PolicyInForce(p, policy_rules(policy=p)) for p in policies]
        with _cache_lock:
            _cache[code] = (now + _CACHE_SECONDS, versions)
    else:
        versions = cached[1]
    for version in versions:
        if version.policy.effective_from is not None and version.policy.effective_from <= at:
            return version
    raise NoPolicyInForce(
        _no_policy_message(code, at), at=_local(at)
    )


def policy_by_id_cached(policy_id: int) -> PolicyInForce:
    """A published (or withdrawn) policy by id: the one that judged a sale."""
    for versions in list(_cache.values()):
        for version in versions[1]:
            if version.policy.pk == policy_id:
                return version
    policy = (
        Policy.objects.select_related("programme").prefetch_related("categories").get(pk=policy_id)
    )
    return PolicyInForce(policy, policy_rules(policy=policy))


# --- Shoppers --------------------------------------------------------------------------------
def shoppers_with_document(*, number: str) -> QuerySet[Shopper]:
    """The shoppers holding this document number, whatever its type and issuing country (an
    administrator's search knows the number only): the number is hashed with each (type,
    country) on file among the shoppers with its last four characters, under the current key
    and any retired one. The number itself is neither stored nor logged.

    :raises identity.InvalidDocument: for a number that cannot be a document number.
    """
    normalised = identity.normalise_document_number(number)
    kinds = (
        Shopper.objects.filter(document_last4=normalised[-4:])
        .values_list("document_type", "document_country")
        .distinct()
    )
    keys: set[str] = set()
    for doc_type, country in kinds:
        keys.add(identity.document_key(doc_type=doc_type, country=country, number=normalised))
        keys.update(
            identity.retired_document_keys(doc_type=doc_type, country=country, number=normalised)
        )
    return Shopper.objects.filter(document_key__in=keys)
