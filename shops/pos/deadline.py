"""The departure deadline of immediate and guarantee pickups (即购即提 / 担保即提).

A shopper who takes the goods at once must leave the island within the policy's deadline
(30 days): a recorded departure (``POST /api/v1/departures``) at or after the purchase and no
later than the end of the 30th local day after it (inclusive). Otherwise the shopper is banned
for the policy's ban length (3 years).

Run daily (Celery beat, ``shops.tasks.enforce_departure_deadline``). Idempotent: a shopper is
banned once per episode — a sale is settled if the shopper already has a departure-deadline
ban recorded after it (in force or lifted: a lifted ban is never re-imposed by the task), and
the ban's source (``sale:<id>``) is unique, so two runs at once still ban once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, F, OuterRef, Q

from quotas.choices import BanReason, PickupMode, TravellerKind
from quotas.rules import LOCAL_TZ
from quotas.selectors import (
    bans_for_departure_deadline,
    departures_of,
    open_departure_bans,
    policy_by_id_cached,
    shortest_departure_deadline,
)
from quotas.services import ban_lift, shopper_ban
from shops.models import Sale, SaleStatus

# How far back a run looks for sales whose deadline has passed: a task that did not run for
# up to this long catches up.
CATCH_UP_DAYS = 90
WATCHED = (PickupMode.IMMEDIATE, PickupMode.GUARANTEE)
# A resident with an off-island record this year buys for immediate pickup with no trip: the
# departure was before the purchase, and no later one is due. Never watched.
RESIDENT_RULE = Q(traveller_kind=TravellerKind.RESIDENT, trip__isnull=True)


@dataclass
class DeadlineReport:
    checked: int = 0
    overdue: int = 0
    banned: int = 0
    bans: list[int] = field(default_factory=list)


def deadline_of(*, sold_local_date: date, days: int) -> datetime:
    """The first instant after the deadline: midnight (Asia/Shanghai) after the last day."""
    return datetime.combine(sold_local_date + timedelta(days=days + 1), time(), tzinfo=LOCAL_TZ)


def _departed_in_time(sale: Sale, departures: list[datetime], days: int) -> bool:
    end = deadline_of(sold_local_date=sale.local_date, days=days)
    return any(sale.sold_at <= departed < end for departed in departures)


def departure_deadline_enforce(*, now: datetime) -> DeadlineReport:
    """Ban every shopper with an immediate or guarantee pickup whose deadline passed before
    ``now`` without a recorded departure."""
    today = now.astimezone(LOCAL_TZ).date()
    shortest = shortest_departure_deadline()
    already_banned = bans_for_departure_deadline(
        shopper=OuterRef("shopper_id"), since=OuterRef("sold_at")
    )
    # The shortest deadline any policy sets bounds the window; each sale is then held to its
    # own policy's deadline below.
    candidates = list(
        Sale.objects.filter(
            status=SaleStatus.COMPLETED,
            imported=False,  # legacy systems' departures are not imported: never judged here
            training=False,  # goods a cashier pretended to hand over owe no departure
            pickup__in=WATCHED,
            total__gt=F("returned_amount"),  # goods returned in full leave nothing to take out
            local_date__gte=today - timedelta(days=CATCH_UP_DAYS),
            local_date__lt=today - timedelta(days=shortest),
        )
        .exclude(RESIDENT_RULE)
        .exclude(Exists(already_banned))
        .only("id", "receipt_no", "shopper_id", "sold_at", "local_date", "policy_id")
        .order_by("sold_at", "id")
    )
    report = DeadlineReport(checked=len(candidates))
    overdue_by_shopper: dict[int, list[tuple[Sale, int]]] = defaultdict(list)
    due = []
    for sale in candidates:
        policy = policy_by_id_cached(sale.policy_id).policy
        days = policy.departure_deadline_days
        if deadline_of(sold_local_date=sale.local_date, days=days) <= now:
            due.append((sale, days, policy.ban_years))
    departures = departures_of(sale.shopper_id for sale, _, _ in due)
    for sale, days, ban_years in due:
        if not _departed_in_time(sale, departures[sale.shopper_id], days):
            overdue_by_shopper[sale.shopper_id].append((sale, ban_years))
            report.overdue += 1
    for shopper_id, overdue in overdue_by_shopper.items():
        first, ban_years = overdue[0]
        last_day = first.local_date + timedelta(
            days=policy_by_id_cached(first.policy_id).policy.departure_deadline_days
        )
        ban, created = shopper_ban(
            shopper_id=shopper_id,
            reason=BanReason.DEPARTURE_DEADLINE,
            starts_at=now,
            now=now,
            years=ban_years,
            source=f"sale:{first.pk}",
            source_receipt_no=first.receipt_no,
            detail=(
                f"Immediate or guarantee pickup on {first.local_date.isoformat()} "
                f"(receipt {first.receipt_no}) without a recorded departure by "
                f"{last_day.isoformat()}; {len(overdue)} sale(s) overdue."
            ),
        )
        if created:
            report.banned += 1
            report.bans.append(ban.pk)
    return report


def settle_after_departure(*, shopper_id: int, now: datetime) -> list[int]:
    """Lift the departure-deadline bans that a departure recorded late shows were wrong.

    A departure may reach the system after the daily run banned the shopper (the run is at
    02:30; a flight at 23:10 on the last day is recorded in the morning). A ban is lifted when
    every watched sale overdue at the ban's start — from the sale it names on — now has a
    recorded departure in time. Returns the ids of the bans lifted.
    """
    bans = open_departure_bans(shopper_id)
    if not bans:
        return []
    departures = departures_of([shopper_id])[shopper_id]
    lifted = []
    for ban in bans:
        first = Sale.objects.filter(pk=int(ban.source.removeprefix("sale:"))).first()
        if first is None:
            continue
        episode = (
            Sale.objects.filter(
                shopper_id=shopper_id,
                status=SaleStatus.COMPLETED,
                imported=False,
                training=False,
                pickup__in=WATCHED,
                total__gt=F("returned_amount"),
                sold_at__gte=first.sold_at,
                sold_at__lt=ban.starts_at,
            )
            .exclude(RESIDENT_RULE)
            .only("id", "sold_at", "local_date", "policy_id")
        )
        overdue = []
        for sale in episode:
            days = policy_by_id_cached(sale.policy_id).policy.departure_deadline_days
            if deadline_of(sold_local_date=sale.local_date, days=days) > ban.starts_at:
                continue  # not yet due when the ban was recorded: a later run judges it
            if not _departed_in_time(sale, departures, days):
                overdue.append(sale)
        if not overdue:
            ban_lift(
                ban_id=ban.pk,
                reason=(
                    "A departure recorded after the ban shows the shopper left in time "
                    f"(receipt {first.receipt_no})."
                ),
                now=now,
            )
            lifted.append(ban.pk)
    return lifted
