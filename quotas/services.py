"""Writes of the quotas app: the policy life cycle (clone → edit → publish, or withdraw),
shoppers, trips and the quota ledger."""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, Min
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from simple_history.utils import bulk_create_with_history

from dutyfree.db import db_value, db_values, fetch_all, insert_returning, loaded

from . import category_csv, change_reasons, identity, kind_csv, sql
from .choices import BanReason, EntryKind, PolicyStatus, TripKind, TripMode
from .errors import (
    BanAlreadyLifted,
    BanInvalid,
    DepartureInFuture,
    PolicyImmutable,
    PolicyNotPublishable,
    PolicyNotWithdrawable,
    QuotaConflict,
)
from .locks import ban_lock, policy_lock, shopper_lock
from .models import Ban, Category, ImmediatePickupKind, Policy, QuotaAccount, Shopper, Trip
from .rules import LOCAL_TZ, carrier_ref_key
from .selectors import policy_cache_clear, shopper_of_document

_COPIED_POLICY_FIELDS = ("programme_id", *Policy.RULE_FIELDS)
# Everything a category says, as the CSV export lists it.
_COPIED_CATEGORY_FIELDS = category_csv.COLUMNS
# Everything an immediate-pickup kind says, as its CSV export lists it.
_COPIED_KIND_FIELDS = kind_csv.COLUMNS
# Refusals stay English here (logs, the API's own translation); gettext_noop marks them for
# the catalogue, and the admin shows them translated.
_SAME_INSTANT = gettext_noop("Another published policy takes effect at that instant.")
_KIND_WITHOUT_CATEGORY = gettext_lazy(
    "Immediate-pickup kinds name categories this policy does not have: {codes}. Add the "
    "categories, or change or clear the kinds' category, then publish."
)


def _policy_locked(policy: Policy) -> Policy:
    locked = policy_lock(policy.pk)
    if locked is None:
        raise Policy.DoesNotExist(f"Policy {policy.pk} does not exist.")
    return locked


@transaction.atomic
def policy_clone(*, policy: Policy, user: User | None = None) -> Policy:
    """A new draft with the same rules, categories and immediate-pickup kinds, to be edited
    and published."""
    draft = Policy(
        # The source's names: a status in the name would go stale when the draft is published
        # (the pages show the status beside it).
        name_zh=policy.name_zh,
        name_en=policy.name_en,
        status=PolicyStatus.DRAFT,
        effective_from=None,
        cloned_from=policy,
        **{name: getattr(policy, name) for name in _COPIED_POLICY_FIELDS},
    )
    # Read by simple-history: why and by whom, also outside a request.
    cloned = change_reasons.change_reason(change_reasons.CLONED, policy=policy.pk)
    draft._change_reason = cloned
    draft._history_user = user
    draft.save()
    bulk_create_with_history(
        [
            Category(policy=draft, **{name: getattr(c, name) for name in _COPIED_CATEGORY_FIELDS})
            for c in policy.categories.order_by("number")
        ],
        Category,
        default_user=user,
        default_change_reason=cloned,
    )
    bulk_create_with_history(
        [
            ImmediatePickupKind(
                policy=draft, **{name: getattr(k, name) for name in _COPIED_KIND_FIELDS}
            )
            for k in policy.immediate_kinds.order_by("number")
        ],
        ImmediatePickupKind,
        default_user=user,
        default_change_reason=cloned,
    )
    return draft


@transaction.atomic
def policy_publish(
    *,
    policy: Policy,
    effective_from: datetime,
    now: datetime,
    user: User | None = None,
) -> Policy:
    """Publish a draft: from ``effective_from`` (now or later) it is the policy in force.

    :raises PolicyNotPublishable: not a draft, a time in the past, no categories, an
        immediate-pickup kind naming a category the draft does not have, or another published
        policy of the programme takes effect at the same instant.
    """
    locked = _policy_locked(policy)
    if locked.status != PolicyStatus.DRAFT:
        raise PolicyNotPublishable(f"Policy {policy.pk} is {locked.status}, not a draft.")
    if effective_from.tzinfo is None:
        raise PolicyNotPublishable(gettext_noop("The effective time needs a time zone."))
    if effective_from < now:
        raise PolicyNotPublishable(
            gettext_noop(
                "A policy takes effect now or later, never in the past: sales already judged "
                "keep the rules that judged them."
            )
        )
    if not locked.categories.exists():
        raise PolicyNotPublishable(gettext_noop("A policy without categories cannot be published."))
    codes = set(locked.categories.values_list("code", flat=True))
    stray = sorted(
        {
            kind.category_code
            for kind in locked.immediate_kinds.exclude(category_code="")
            if kind.category_code not in codes
        }
    )
    if stray:
        # Lazy, with the codes: the admin shows it in the page's language (admin.refusal).
        raise PolicyNotPublishable(
            format_lazy(_KIND_WITHOUT_CATEGORY, codes=", ".join(stray)), categories=stray
        )
    locked.full_clean(exclude=["effective_from"])
    if Policy.objects.filter(
        programme_id=locked.programme_id,
        status=PolicyStatus.PUBLISHED,
        effective_from=effective_from,
    ).exists():
        raise PolicyNotPublishable(_SAME_INSTANT)
    locked.status = PolicyStatus.PUBLISHED
    locked.effective_from = effective_from
    locked.published_at = now
    locked.published_by = user
    locked._change_reason = change_reasons.published(effective_from)
    locked._history_user = user
    transaction.on_commit(policy_cache_clear)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:  # a concurrent publish at the same instant
        raise PolicyNotPublishable(_SAME_INSTANT) from exc
    return locked


@transaction.atomic
def policy_withdraw(*, policy: Policy, now: datetime, user: User | None = None) -> Policy:
    """Withdraw a published policy that has not yet taken effect (kept, never in force).

    :raises PolicyNotWithdrawable: not published, or already in effect.
    """
    locked = _policy_locked(policy)
    if locked.status != PolicyStatus.PUBLISHED:
        raise PolicyNotWithdrawable(f"Policy {policy.pk} is {locked.status}, not published.")
    if not locked.is_scheduled_at(now):
        raise PolicyNotWithdrawable(
            gettext_noop(
                "The policy has taken effect; publish a new version instead of withdrawing it."
            )
        )
    locked.status = PolicyStatus.WITHDRAWN
    locked.withdrawn_at = now
    locked.withdrawn_by = user
    locked._change_reason = change_reasons.change_reason(change_reasons.WITHDRAWN)
    locked._history_user = user
    locked.save()
    transaction.on_commit(policy_cache_clear)
    return locked


@transaction.atomic
def policy_categories_replace(
    *, policy: Policy, rows: Sequence[dict[str, object]], user: User | None = None
) -> int:
    """Replace a draft's categories with ``rows`` (from ``category_csv.parse_categories``).

    All or nothing. Returns the number of categories written.

    :raises PolicyImmutable: if the policy is not a draft.
    """
    return _policy_parts_replace(policy=policy, model=Category, rows=rows, user=user)


@transaction.atomic
def policy_category_limit(
    *, policy: Policy, code: str, value: int | None, user: User | None = None
) -> Category:
    """Set a draft's per-trip limit of one category (in the category's unit), recorded in its
    history like an edit in the admin.

    :raises PolicyImmutable: if the policy is not a draft.
    :raises Category.DoesNotExist: the draft has no such category.
    """
    locked = _policy_locked(policy)
    if locked.status != PolicyStatus.DRAFT:
        raise PolicyImmutable(f"Policy {policy.pk} is {locked.status}; only drafts are edited.")
    category = Category.objects.get(policy=locked, code=code)
    category.per_trip_limit_value = value
    category._history_user = user
    category.save()
    return category


@transaction.atomic
def policy_kinds_replace(
    *, policy: Policy, rows: Sequence[dict[str, object]], user: User | None = None
) -> int:
    """Replace a draft's immediate-pickup kinds with ``rows`` (from ``kind_csv.parse_kinds``).

    All or nothing. A kind's category is checked when the draft is published (its categories
    may be imported after its kinds). Returns the number of kinds written.

    :raises PolicyImmutable: if the policy is not a draft.
    """
    return _policy_parts_replace(policy=policy, model=ImmediatePickupKind, rows=rows, user=user)


def _policy_parts_replace(
    *,
    policy: Policy,
    model: type[Category] | type[ImmediatePickupKind],
    rows: Sequence[dict[str, object]],
    user: User | None,
) -> int:
    """Replace a draft's rows of ``model`` (its categories or its kinds), keyed by code."""
    locked = _policy_locked(policy)
    if locked.status != PolicyStatus.DRAFT:
        raise PolicyImmutable(f"Policy {policy.pk} is {locked.status}; only drafts are edited.")
    imported = change_reasons.change_reason(change_reasons.CSV_IMPORT)
    existing: dict[str, Category | ImmediatePickupKind] = {
        part.code: part for part in model.objects.filter(policy=locked)
    }
    wanted = {str(row["code"]): row for row in rows}
    # Deletes first (codes dropped, or renumbered), so no number or code collides mid-way;
    # rows that keep their code and number are updated in place and keep their history.
    for code, part in list(existing.items()):
        row = wanted.get(code)
        if row is None or row["number"] != part.number:
            part._change_reason = imported
            part._history_user = user
            part.delete()
            del existing[code]
    for code, row in wanted.items():
        part = existing.get(code) or model(policy=locked)
        if part.pk and all(getattr(part, name) == value for name, value in row.items()):
            continue
        for name, value in row.items():
            setattr(part, name, value)
        part.full_clean(exclude=["policy"], validate_unique=False)
        part._change_reason = imported
        part._history_user = user
        part.save()
    return len(rows)


# --- Shoppers, trips and the quota ledger ------------------------------------------------------
@dataclass(frozen=True)
class PresentedShopper:
    """What a terminal presents of a shopper: the document and the facts printed on it."""

    doc_type: str
    country: str
    number: str
    name: str
    birth_date: date
    hainan_resident: bool

    @property
    def document_key(self) -> str:
        return identity.document_key(
            doc_type=self.doc_type, country=self.country, number=self.number
        )


class LockedAccount(NamedTuple):
    """A shopper's account of a year, locked until the transaction ends (with its ``shopper``
    loaded), and whether the shopper row was inserted by the lock's own statement (then it has
    no trips, no purchases and no departures yet)."""

    account: QuotaAccount
    shopper_inserted: bool


def shopper_rekey(
    *, doc_type: str, country: str, number: str, name: str, now: datetime
) -> int | None:
    """Move a shopper known only under a retired identity key to the current key.

    Called where a document is presented and not found under the current key (a sale: before
    its lock, found or not; a document known under the current key moves nothing), only while a
    rotation is under way (``IDENTITY_HMAC_OLD_KEYS``), by a sale, a look-up or an import: the
    shopper is re-keyed when the name matches under the same old key: document and name move
    together, ``key_version`` becomes the current one, and the history (accounts, trips, sales)
    stays attached to the same row. Returns the shopper's id, or ``None``. (Finding without
    moving, as a departure or a quote does: :func:`quotas.selectors.shopper_of_document`.)
    """
    retired = identity.retired_document_keys(doc_type=doc_type, country=country, number=number)
    if not retired:
        return None
    current = identity.document_key(doc_type=doc_type, country=country, number=number)
    shopper = (
        Shopper.objects.filter(document_key__in=list(retired))
        .exclude(Exists(Shopper.objects.filter(document_key=current)))
        .only("id", "document_key", "name_key")
        .first()
    )
    if shopper is None:
        return None
    old_key = retired[shopper.document_key]
    if not hmac.compare_digest(shopper.name_key, identity.name_key(name, old_key)):
        return None  # a document under an old key with another name: nothing to re-key
    Shopper.objects.filter(pk=shopper.pk, document_key=shopper.document_key).update(
        document_key=current,
        name_key=identity.name_key(name),
        key_version=identity.current_version(),
        updated_at=now,
    )
    return shopper.pk


def quota_account_lock(
    *,
    presented: PresentedShopper,
    programme_id: int,
    year: int,
    limit: Decimal,
    now: datetime,
    keep_stored: bool = False,
) -> LockedAccount:
    """The presented shopper's account for ``year``, locked until the transaction ends (the
    shopper row and the account row, ``FOR NO KEY UPDATE``; waits for a holder), with its
    ``shopper`` loaded. Creates the shopper and the account on first sight, records the latest
    presented facts (name, year of birth, residence) and gives the account the ``limit`` of the
    policy in force: a version published mid-year with another annual limit applies to accounts
    opened before it (the rules judge by the policy; the account's ``used <= limit`` check must
    agree), never below what is already used (the rules refuse anything more). Call inside
    ``transaction.atomic``. ``keep_stored`` (a training till's sale): the same locks, and a
    shopper or account already stored is left as it is (a new one is still made).

    Every purchase of a shopper takes this lock first: the shopper row serialises them across
    every store, terminal and quota year (a trip's counts span years), and the account row
    serialises them with the returns and voids of that year (which lock the account alone). A
    judgement made under it stays true until commit.

    One statement, first purchase or not; while a key rotation is under way
    (``IDENTITY_HMAC_OLD_KEYS``) a shopper known under a retired key is re-keyed first (one or
    two statements more, :func:`shopper_rekey`).

    :raises identity.InvalidDocument: for a number that cannot be a document number.
    """
    if identity.retired_keys():
        shopper_rekey(
            doc_type=presented.doc_type,
            country=presented.country,
            number=presented.number,
            name=presented.name,
            now=now,
        )
    shopper_values = {
        "document_type": presented.doc_type,
        "document_country": identity.issuing_country(
            doc_type=presented.doc_type, country=presented.country
        ),
        "document_key": presented.document_key,
        "document_last4": identity.last_four(presented.number),
        "key_version": identity.current_version(),
        "name_key": identity.name_key(presented.name),
        "birth_year": presented.birth_date.year,  # the date stays with the basket
        "hainan_resident": presented.hainan_resident,
    }
    params = db_values(Shopper, shopper_values)
    stamp, limit_value = db_values(QuotaAccount, {"updated_at": now, "limit": limit})
    params += [stamp, stamp, programme_id, year, limit_value, stamp]
    ((shopper_id, banned_from, banned_until, inserted, account_id, used, locked_limit),) = (
        fetch_all(
            sql.SHOPPER_AND_ACCOUNT_LOCK_KEEPING if keep_stored else sql.SHOPPER_AND_ACCOUNT_LOCK,
            params,
        )
    )
    shopper = loaded(
        Shopper, id=shopper_id, banned_from=banned_from, banned_until=banned_until, **shopper_values
    )
    account = loaded(
        QuotaAccount,
        id=account_id,
        shopper=shopper_id,
        programme=programme_id,
        year=year,
        limit=locked_limit,
        used=used,
    )
    account.shopper = shopper
    return LockedAccount(account, shopper_inserted=inserted)


def trip_create(
    *,
    shopper_id: int,
    kind: str,
    mode: str,
    carrier_ref: str,
    departs_at: datetime,
    now: datetime,
) -> Trip:
    """Record a shopper's departure (same carrier reference and time: the same trip).
    One statement."""
    carrier_ref = carrier_ref_key(carrier_ref)
    values = {
        "shopper": shopper_id,
        "kind": kind,
        "mode": mode,
        "carrier_ref": carrier_ref,
        "departs_at": departs_at,
        "created_at": now,
    }
    row = insert_returning(
        Trip,
        values,
        conflict=["shopper", "carrier_ref", "departs_at"],
        update=["carrier_ref"],
        returning=["id", "kind", "mode", "departed_at", "created_at"],
    )
    assert row is not None  # noqa: S101 - DO UPDATE always returns the row
    return loaded(
        Trip,
        id=row["id"],
        shopper=shopper_id,
        kind=row["kind"],
        mode=row["mode"],
        carrier_ref=carrier_ref,
        departs_at=departs_at,
        departed_at=row["departed_at"],
        created_at=row["created_at"],  # an existing trip's own, not now
    )


# --- The quota side of a sale, as parts of the sale's one write statement ----------------------
# A part is (SQL from quotas.sql, parameters): common table expressions that shops.pos.checkout
# joins into its one write statement, so the SQL that writes a quota table stays in quotas.
Part = tuple[str, list[Any]]


def sale_trip_part(
    *, shopper_id: int, kind: str, mode: str, carrier_ref: str, departs_at: datetime, now: datetime
) -> Part:
    """Record a shopper's departure in the sale's statement (same carrier reference and time:
    the same trip), or find it stored: a CTE ``trip`` with the trip's ``id``
    (``quotas.sql.SALE_TRIP_ID``), none when the stored trip has departed (the caller must then
    fail the sale). The caller holds the shopper's lock (:func:`quota_account_lock`)."""
    return sql.SALE_TRIP, [
        shopper_id,
        kind,
        mode,
        carrier_ref_key(carrier_ref),
        *db_values(Trip, {"departs_at": departs_at, "created_at": now}),
    ]


def sale_debit_part(
    *, account: QuotaAccount, amount: Decimal, reference: str, now: datetime
) -> Part:
    """Spend ``amount`` of the account in the sale's statement: the ledger entry (kind ``sale``)
    and ``used`` move together (CTEs ``quota_entry`` and ``quota_used``). The caller holds the
    account lock (:func:`quota_account_lock`), has judged the purchase under it, and runs the
    statement inside :func:`limits_kept`."""
    spent, stamp = db_values(QuotaAccount, {"used": amount, "updated_at": now})
    return sql.SALE_DEBIT, [
        account.pk,
        EntryKind.SALE.value,
        spent,
        reference,
        stamp,
        spent,
        stamp,
        account.pk,
    ]


_OVER_LIMIT = QuotaAccount._meta.constraints[1].name  # quota_account_used_within_limit


@contextmanager
def limits_kept() -> Iterator[None]:
    """Around a statement holding :func:`sale_debit_part`: the account's check constraint
    (``0 <= used <= limit``) refusing it raises :class:`QuotaConflict`; any other integrity
    error (a unique key met by a twin) is raised as it is. The caller's transaction is broken
    either way and rolls back as the exception leaves it.

    :raises QuotaConflict: the database refused the debit (the account would exceed its limit).
    """
    try:
        yield
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == _OVER_LIMIT:
            raise QuotaConflict(
                _("The quota account would leave its limits; nothing was written.")
            ) from exc
        raise


def _post(
    *, account: QuotaAccount, amount: Decimal, kind: str, reference: str, now: datetime
) -> None:
    """Append the ledger entry and move ``used`` by ``amount``: the sum of the entries stays
    equal to ``used`` because both are written together."""
    update = [
        db_value(QuotaAccount, "used", amount),
        db_value(QuotaAccount, "updated_at", now),
        account.pk,
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.LEDGER_POST, [account.pk, kind, amount, reference, now, *update])
    except IntegrityError as exc:  # the check constraint: 0 <= used <= limit; the caller's
        # transaction is broken now and rolls back as the exception leaves it.
        raise QuotaConflict(
            _("The quota account would leave its limits; nothing was written.")
        ) from exc
    account.used += amount


def quota_credit(
    *,
    account: QuotaAccount,
    amount: Decimal,
    kind: str,
    reference: str,
    now: datetime,
) -> None:
    """Give ``amount`` back (a return or a void). The caller holds the account lock."""
    _post(account=account, amount=-amount, kind=kind, reference=reference, now=now)


# A terminal's clock may run a little ahead of the server's.
DEPARTURE_CLOCK_SKEW = timedelta(minutes=5)


# What a departure decided about the shopper's trips on its carrier.
CLOSED_OPEN_TRIP = "closed_open_trip"
ALREADY_RECORDED = "already_recorded"
NO_OPEN_TRIP_WITH_THAT_CARRIER_REF = "no_open_trip_with_that_carrier_ref"
DEPARTURE_REASONS = (CLOSED_OPEN_TRIP, ALREADY_RECORDED, NO_OPEN_TRIP_WITH_THAT_CARRIER_REF)
# Daily flights share a number and leave 24 h apart: a departure belongs to a trip of this
# carrier scheduled within 12 hours of it (delays), never to yesterday's or tomorrow's.
DEPARTURE_MATCH_WINDOW = timedelta(hours=12)


@dataclass(frozen=True)
class DepartureRecorded:
    """What a departure decided, and nothing else about the shopper.

    ``closed``: the shopper's trip with this carrier reference, scheduled within 12 hours of
    the departure, that it closed (``closed_open_trip``) or that the same departure had
    closed before (``already_recorded``); None when there was none to close
    (``no_open_trip_with_that_carrier_ref``) — and so for a document no shopper holds.
    ``recorded_on``: the trip the departure is stored on (the closed one, or one recorded
    for the departure alone), None for a document no shopper holds: never answered.
    """

    carrier_ref: str
    departed_at: datetime
    reason: str
    closed: Trip | None
    recorded_on: Trip | None

    @property
    def matched(self) -> bool:
        return self.closed is not None


def departure_record(*, now: datetime, **departure: Any) -> Trip | None:
    """:func:`departure_record_outcome`, for callers that need only the trip it is stored on
    (None: no shopper holds the document)."""
    return departure_record_outcome(now=now, **departure).recorded_on


def departure_record_outcome(
    *,
    doc_type: str,
    country: str,
    number: str,
    carrier_ref: str,
    departed_at: datetime,
    now: datetime,
    kind: str = TripKind.DOMESTIC,
    mode: str = TripMode.AIR,
) -> DepartureRecorded:
    """Record that the shopper left the island (closes the 30-day watch on immediate and
    guarantee pickups). Closes the shopper's not-yet-departed trip with this carrier
    reference scheduled within 12 hours of ``departed_at``; otherwise stores the departure
    on a trip of its own (any departure in time settles the watch). Recording the same
    departure twice changes nothing and decides the same.

    A document no shopper holds records nothing and decides what a shopper with no such
    trip gets: the outcome never tells whether the document is known, nor anything of the
    shopper's other trips.

    :raises DepartureInFuture: ``departed_at`` is later than now.
    """
    if departed_at > now + DEPARTURE_CLOCK_SKEW:
        message = _("departed_at is in the future: record a departure once the shopper has left.")
        raise DepartureInFuture(message, errors={"departed_at": [str(message)]})
    carrier_ref = carrier_ref_key(carrier_ref)

    def decided(reason: str, closed: Trip | None, recorded_on: Trip | None) -> DepartureRecorded:
        return DepartureRecorded(carrier_ref, departed_at, reason, closed, recorded_on)

    # Under a retired key while a rotation is under way too: found, not moved (no name to match).
    shopper = shopper_of_document(doc_type=doc_type, country=country, number=number, fields=("id",))
    if shopper is None:
        return decided(NO_OPEN_TRIP_WITH_THAT_CARRIER_REF, None, None)
    window = DEPARTURE_MATCH_WINDOW
    candidates = list(
        Trip.objects.filter(
            shopper=shopper,
            carrier_ref=carrier_ref,
            departs_at__gt=departed_at - window,
            departs_at__lt=departed_at + window,
        )
    )
    for trip in candidates:
        if trip.departed_at is not None and abs(trip.departed_at - departed_at) < window:
            # recorded before: the same departure, decided as it was then
            if trip.from_departure:
                return decided(NO_OPEN_TRIP_WITH_THAT_CARRIER_REF, None, trip)
            return decided(ALREADY_RECORDED, trip, trip)
    pending = sorted(
        (trip for trip in candidates if trip.departed_at is None),
        key=lambda trip: abs(trip.departs_at - departed_at),
    )
    if pending:
        trip = pending[0]
        trip.departed_at = departed_at
        trip.save(update_fields=["departed_at"])
        return decided(CLOSED_OPEN_TRIP, trip, trip)
    trip = trip_create(
        shopper_id=shopper.pk,
        kind=kind,
        mode=mode,
        carrier_ref=carrier_ref,
        departs_at=departed_at,
        now=now,
    )
    Trip.objects.filter(pk=trip.pk).update(departed_at=departed_at, from_departure=True)
    trip.departed_at = departed_at
    trip.from_departure = True
    return decided(NO_OPEN_TRIP_WITH_THAT_CARRIER_REF, None, trip)


# --- Bans ------------------------------------------------------------------------------------
BAN_START_SKEW = timedelta(minutes=5)


def years_later(at: datetime, years: int) -> datetime:
    """The same local (Asia/Shanghai) wall time ``years`` later; 29 February → 28 February."""
    local = at.astimezone(LOCAL_TZ)
    try:
        return local.replace(year=local.year + years)
    except ValueError:
        return local.replace(year=local.year + years, day=28)


def _ban_span_refresh(shopper_id: int, *, now: datetime) -> None:
    """Keep ``Shopper.banned_from``/``banned_until`` the first start and the last end of the
    bans not lifted: what the rules read (a purchase is refused only inside the span).

    Bans start when they are recorded or earlier (:func:`ban_end`), so from now on the span
    has no gap: a time between two bans that it covers is in the past (only a quote as of
    such a past time would be refused for it)."""
    span = Ban.objects.filter(shopper_id=shopper_id, lifted_at__isnull=True).aggregate(
        start=Min("starts_at"), end=Max("ends_at")
    )
    Shopper.objects.filter(pk=shopper_id).update(
        banned_from=span["start"], banned_until=span["end"], updated_at=now
    )


def ban_end(
    *,
    starts_at: datetime,
    ends_at: datetime | None = None,
    years: int | None = None,
    now: datetime,
) -> datetime:
    """The end of a ban starting ``starts_at``, given its end or its number of years.

    :raises BanInvalid: both or neither given, under a year, an end not after the start, a
        start later than now, or an end beyond what a date can hold.
    """
    if (ends_at is None) == (years is None):
        raise BanInvalid(gettext_noop("Give either an end or a number of years."))
    if ends_at is None:
        if years is None or years < 1:
            raise BanInvalid(gettext_noop("A ban lasts at least one year."))
        try:
            ends_at = years_later(starts_at, years)
        except (ValueError, OverflowError) as exc:
            raise BanInvalid(f"{years} years from the start is beyond the calendar.") from exc
    if ends_at <= starts_at:
        raise BanInvalid(gettext_noop("A ban must end after it starts."))
    # A ban takes effect when it is recorded (or earlier): then the span the rules read
    # (``Shopper.banned_from``/``banned_until``) has no gap from now on (_ban_span_refresh).
    if starts_at > now + BAN_START_SKEW:
        raise BanInvalid(gettext_noop("A ban starts now or in the past, not later."))
    return ends_at


@transaction.atomic
def shopper_ban(
    *,
    shopper_id: int,
    reason: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    years: int | None = None,
    detail: str = "",
    source: str = "",
    source_receipt_no: str = "",
    by: User | None = None,
    now: datetime,
) -> tuple[Ban, bool]:
    """Ban a shopper from ``starts_at`` until ``ends_at`` (or for ``years``).

    Idempotent per source: a second ban for the same shopper, reason and source returns the
    first unchanged. Returns ``(ban, created)``.

    :raises BanInvalid: no end, an end not after the start, or an unknown reason.
    """
    if reason not in BanReason.values:
        raise BanInvalid(f"Unknown ban reason {reason!r}.")
    ends_at = ban_end(starts_at=starts_at, ends_at=ends_at, years=years, now=now)
    shopper_lock(shopper_id)  # one writer of the shopper's bans at a time
    if source:
        existing = Ban.objects.filter(shopper_id=shopper_id, reason=reason, source=source).first()
        if existing is not None:
            return existing, False
    ban = Ban.objects.create(
        shopper_id=shopper_id,
        reason=reason,
        detail=detail,
        source=source,
        source_receipt_no=source_receipt_no,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=by,
    )
    _ban_span_refresh(shopper_id, now=now)
    return ban, True


@transaction.atomic
def ban_lift(*, ban_id: int, reason: str, now: datetime, by: User | None = None) -> Ban:
    """Lift a ban: recorded with who, when and why; the ban itself stays on file.

    :raises BanInvalid: no reason given. :raises BanAlreadyLifted: lifted before.
    """
    if not reason.strip():
        raise BanInvalid(gettext_noop("Say why the ban is lifted."))
    ban = ban_lock(ban_id)
    shopper_lock(ban.shopper_id)
    if ban.lifted_at is not None:
        raise BanAlreadyLifted(f"Lifted on {ban.lifted_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}.")
    ban.lifted_at, ban.lifted_by, ban.lift_reason = now, by, reason.strip()
    ban.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    _ban_span_refresh(ban.shopper_id, now=now)
    return ban
