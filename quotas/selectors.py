"""Reads of the quotas app."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Min, QuerySet
from django.utils.translation import gettext as _

from . import identity, sql
from .choices import BanReason, PolicyStatus
from .errors import NoPolicyInForce
from .models import Ban, Category, ImmediatePickupKind, Policy, QuotaAccount, Shopper, Trip
from .rules import LOCAL_TZ, CategoryRule, ImmediateKindRule, PolicyRules


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
        .prefetch_related("categories", "immediate_kinds")
        .order_by("-effective_from")
        .first()
    )
    if policy is None:
        raise NoPolicyInForce(_no_policy_message(code, at), at=_local(at))
    return policy


def policy_rules(*, policy: Policy) -> PolicyRules:
    """The pure-rules view of a policy (for :func:`quotas.rules.judge_basket`)."""
    kinds = {
        kind.code: ImmediateKindRule(
            code=kind.code,
            number=kind.number,
            name_zh=kind.name_zh,
            name_en=kind.name_en,
            category_code=kind.category_code or None,
            unit_zh=kind.unit_zh,
            unit_en=kind.unit_en,
            counts_pieces=kind.counts_pieces,
            per_trip=kind.per_trip,
            per_variety=kind.per_variety,
        )
        for kind in policy.immediate_kinds.all()
    }
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
        effective_from=policy.effective_from,
        annual_limit=policy.annual_limit,
        min_age=policy.min_age,
        traveller_kinds=frozenset(policy.traveller_kinds),
        pickup_modes=frozenset(policy.pickup_modes),
        immediate_max_unit_price=policy.immediate_pickup_max_unit_price,
        guarantee_min_unit_price=policy.guarantee_pickup_min_unit_price,
        categories=categories,
        immediate_kinds=kinds,
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
            .prefetch_related("categories", "immediate_kinds")
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
    raise NoPolicyInForce(_no_policy_message(code, at), at=_local(at))


def policy_by_id_cached(policy_id: int) -> PolicyInForce:
    """A published (or withdrawn) policy by id: the one that judged a sale."""
    for versions in list(_cache.values()):
        for version in versions[1]:
            if version.policy.pk == policy_id:
                return version
    policy = (
        Policy.objects.select_related("programme")
        .prefetch_related("categories", "immediate_kinds")
        .get(pk=policy_id)
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


def shopper_of_document(
    *, doc_type: str, country: str, number: str, fields: Sequence[str], retired: bool = True
) -> Shopper | None:
    """The shopper holding this document, with ``fields`` loaded: under the current key or,
    while a rotation is under way and ``retired`` is true, a retired one (found, not
    re-keyed: a read moves nothing; :func:`quotas.services.shopper_rekey` moves).

    :raises identity.InvalidDocument: for a number that cannot be a document number.
    """
    key = identity.document_key(doc_type=doc_type, country=country, number=number)
    shopper = Shopper.objects.filter(document_key=key).only(*fields).first()
    if shopper is None and retired and identity.retired_keys():
        old = identity.retired_document_keys(doc_type=doc_type, country=country, number=number)
        shopper = Shopper.objects.filter(document_key__in=list(old)).only(*fields).first()
    return shopper


def shopper_by_id(shopper_id: int, *, fields: Sequence[str]) -> Shopper:
    return Shopper.objects.only(*fields).get(pk=shopper_id)


def shopper_has_spent(*, document_key: str, year: int) -> bool:
    """Has the shopper with this document key spent any quota in ``year``?"""
    return QuotaAccount.objects.filter(
        shopper__document_key=document_key, year=year, used__gt=0
    ).exists()


# --- Accounts --------------------------------------------------------------------------------
_BALANCE = ("id", "year", "limit", "used")


def account_of_year(*, shopper_id: int, programme_id: int, year: int) -> QuotaAccount | None:
    """The shopper's account for the programme's ``year`` (id, year, limit, used), if any."""
    return (
        QuotaAccount.objects.filter(shopper_id=shopper_id, programme_id=programme_id, year=year)
        .only(*_BALANCE)
        .first()
    )


def accounts_by_id(ids: Iterable[int]) -> dict[int, QuotaAccount]:
    """Accounts (id, year, limit, used) by id, in one query."""
    return QuotaAccount.objects.only(*_BALANCE).in_bulk(set(ids))


_TRIP_SHOWN = ("id", "kind", "mode", "carrier_ref", "departs_at", "departed_at")


def trips_by_id(ids: Iterable[int | None]) -> dict[int, Trip]:
    """Trips (how, where to, carrier, when) by id, in one query; ``None`` ids (sales without a
    trip) are skipped, and none at all asks nothing."""
    wanted = {trip_id for trip_id in ids if trip_id is not None}
    return Trip.objects.only(*_TRIP_SHOWN).in_bulk(wanted) if wanted else {}


# --- Trips -----------------------------------------------------------------------------------
# A relation is a SELECT and its parameters that another app's statement reads from (a
# sub-select in its FROM), where one statement must span both apps: the SQL naming a quota
# table is written here, whoever runs it.
Relation = tuple[str, list[Any]]


def trip_of_departure(*, shopper_id: int, carrier_ref: str, departs_at: datetime) -> Relation:
    """The shopper's trip for this departure (``id``, ``departed_at``): at most one row.
    ``carrier_ref`` as :func:`quotas.rules.carrier_ref_key` gives it."""
    return (
        sql.TRIP_OF_DEPARTURE,
        [shopper_id, carrier_ref, _timestamp(departs_at)],
    )


def open_trips(*, shopper_id: int, now: datetime) -> Relation:
    """The shopper's trips not departed whose departure is still ahead of ``now`` (``id``,
    ``carrier_ref``, ``kind``, ``mode``, ``departs_at``)."""
    return (
        sql.OPEN_TRIPS,
        [shopper_id, _timestamp(now)],
    )


def preview_relations() -> dict[str, Relation]:
    """What a policy preview (shops.previews) joins to the recorded sales: ``shoppers`` (``id``,
    ``birth_year``, ``hainan_resident``, ``banned_from``, ``banned_until``), ``trips`` (``id``,
    ``kind``, ``mode``, ``departs_at``, ``departed_at``) and ``departures`` (``shopper_id``,
    ``departed_at``: every recorded departure). Reads only: no row is locked."""
    return {
        "shoppers": (sql.PREVIEW_SHOPPERS, []),
        "trips": (sql.PREVIEW_TRIPS, []),
        "departures": (sql.PREVIEW_DEPARTURES, []),
    }


def policy_with_parts(policy_id: int) -> Policy:
    """A policy version, draft or not, with its categories and immediate-pickup kinds.

    :raises Policy.DoesNotExist: no such version.
    """
    return Policy.objects.prefetch_related("categories", "immediate_kinds").get(pk=policy_id)


def policies_newest_first() -> QuerySet[Policy]:
    """Every policy version, drafts included, the newest first (a version to choose)."""
    return Policy.objects.order_by("-pk")


def draft_named(name_en: str) -> Policy | None:
    """The draft with this English name, if any."""
    return Policy.objects.filter(status=PolicyStatus.DRAFT, name_en=name_en).first()


def category_names() -> dict[str, tuple[str, str]]:
    """Each category code's (Chinese, English) name, as its latest version names it (a
    category a draft removed is still named)."""
    return {
        code: (zh, en)
        for code, zh, en in Category.objects.order_by("policy_id").values_list(
            "code", "name_zh", "name_en"
        )
    }


def programme_policy_ids(*, policy: Policy) -> list[int]:
    """Every version of ``policy``'s programme that may have judged a sale (published or
    withdrawn): a preview judges again the sales of the programme's versions."""
    return list(
        Policy.objects.filter(programme_id=policy.programme_id)
        .exclude(status=PolicyStatus.DRAFT)
        .values_list("id", flat=True)
    )


def policy_limits(ids: Iterable[int]) -> dict[int, Any]:
    """Each policy's annual limit, by id."""
    return dict(Policy.objects.filter(pk__in=set(ids)).values_list("id", "annual_limit"))


def _timestamp(at: datetime) -> Any:
    return Trip._meta.get_field("departs_at").get_db_prep_value(at, connection)


def departed_in_year(*, shopper_id: int, year: int) -> bool:
    """Has the shopper a confirmed departure from the island in this calendar year?"""
    start = datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ)
    return Trip.objects.filter(
        shopper_id=shopper_id, departed_at__gte=start, departed_at__lt=end
    ).exists()


def departed_between(*, shopper_id: int, start: datetime, end: datetime) -> bool:
    """Has the shopper a departure recorded from ``start`` to ``end`` (both included)?"""
    return Trip.objects.filter(
        shopper_id=shopper_id, departed_at__gte=start, departed_at__lte=end
    ).exists()


def departures_of(shopper_ids: Iterable[int]) -> dict[int, list[datetime]]:
    """Each shopper's recorded departures, 1,000 shoppers a query."""
    wanted = sorted(set(shopper_ids))
    found: dict[int, list[datetime]] = {shopper_id: [] for shopper_id in wanted}
    for start in range(0, len(wanted), 1000):
        for shopper_id, departed_at in Trip.objects.filter(
            shopper_id__in=wanted[start : start + 1000], departed_at__isnull=False
        ).values_list("shopper_id", "departed_at"):
            found[shopper_id].append(departed_at)  # type: ignore[arg-type]  # filtered: not NULL
    return found


# --- Bans ------------------------------------------------------------------------------------
def bans_for_departure_deadline(*, shopper: Any, since: Any) -> QuerySet[Ban]:
    """Departure-deadline bans of ``shopper`` created at or after ``since`` (values or
    ``OuterRef`` expressions: for an ``Exists`` in another app's query)."""
    return Ban.objects.filter(
        shopper_id=shopper, reason=BanReason.DEPARTURE_DEADLINE, created_at__gte=since
    )


def open_departure_bans(shopper_id: int) -> list[Ban]:
    """The shopper's departure-deadline bans, not lifted, that name the sale behind them."""
    return list(
        Ban.objects.filter(
            shopper_id=shopper_id,
            reason=BanReason.DEPARTURE_DEADLINE,
            lifted_at__isnull=True,
            source__startswith="sale:",
        )
    )


# --- Policies --------------------------------------------------------------------------------
def shortest_departure_deadline() -> int:
    """The fewest days any published policy allows between a sale and the departure."""
    return (
        Policy.objects.filter(status=PolicyStatus.PUBLISHED).aggregate(
            days=Min("departure_deadline_days")
        )["days"]
        or 0
    )


def policy_starts(*, programme: str | None = None) -> list[datetime]:
    """The instants at which the programme's published versions take effect, in order."""
    return sorted(
        Policy.objects.filter(
            programme__code=programme or settings.DEFAULT_PROGRAMME,
            status=PolicyStatus.PUBLISHED,
            effective_from__isnull=False,
        ).values_list("effective_from", flat=True)  # type: ignore[arg-type]  # not NULL
    )


def judging_policy_ids() -> list[int]:
    """Every policy that may have judged a sale (published or withdrawn, never a draft)."""
    return list(Policy.objects.exclude(status=PolicyStatus.DRAFT).values_list("id", flat=True))


def category_codes() -> set[str]:
    """Every category code of any policy version."""
    return set(Category.objects.values_list("code", flat=True).distinct())


@dataclass(frozen=True)
class KnownImmediateKind:
    """A kind of the immediate-pickup list as a product names it (see
    :func:`immediate_kinds_known`)."""

    code: str
    name_zh: str
    name_en: str
    category_code: str | None  # None: the annex does not say which category holds it


def immediate_kinds_known(
    *, at: datetime | None, programme: str | None = None
) -> dict[str, KnownImmediateKind]:
    """Every immediate-pickup kind (即购即提) that a published version of the programme lists,
    by code, in the list's order: named, and with the category that holds it, as the version
    in force at ``at`` lists it or, for a kind that version does not list (dropped, or not
    yet in force), as the newest published version listing it does. ``at`` None: each kind
    as the newest published version listing it says.

    Published versions only: a draft may still change its codes, and a product carrying a
    code no published version knows could never be picked up at once."""
    rows = (
        ImmediatePickupKind.objects.filter(
            policy__programme__code=programme or settings.DEFAULT_PROGRAMME,
            policy__status=PolicyStatus.PUBLISHED,
            policy__effective_from__isnull=False,
        )
        .order_by("policy__effective_from", "number")
        .values_list("code", "name_zh", "name_en", "category_code", "policy__effective_from")
    )
    newest: dict[str, KnownImmediateKind] = {}
    versions: dict[datetime, dict[str, KnownImmediateKind]] = {}
    for code, name_zh, name_en, category_code, starts in rows:
        kind = KnownImmediateKind(code, name_zh, name_en, category_code or None)
        newest[code] = versions.setdefault(starts, {})[code] = kind
    started = [starts for starts in versions if at is not None and starts <= at]
    in_force = versions[max(started)] if started else {}
    return {**in_force, **{c: k for c, k in newest.items() if c not in in_force}}
