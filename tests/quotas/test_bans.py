"""Bans: recorded by quotas.services (with years or an end, idempotent per source), lifted with
who, when and why, and kept in ``Shopper.banned_until``; the admin records and lifts them and
never shows a full document number."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quotas import rules
from quotas.errors import BanAlreadyLifted, BanInvalid, NoPolicyInForce
from quotas.models import Ban, Policy, Shopper, Trip
from quotas.rules import ShopperFacts, TripFacts, Usage
from quotas.selectors import policy_in_force, policy_in_force_cached, policy_rules
from quotas.services import ban_lift, policy_clone, policy_publish, shopper_ban, years_later
from tests.conftest import SHANGHAI, local
from tests.support import shopper_row

pytestmark = pytest.mark.django_db

NUMBER = "460100199001011230"
EN = {"Accept-Language": "en"}


def banned_until(shopper: Shopper) -> datetime | None:
    return Shopper.objects.values_list("banned_until", flat=True).get(pk=shopper.pk)


@pytest.fixture
def shopper() -> Shopper:
    return shopper_row()


@pytest.fixture
def admin_user() -> AbstractBaseUser:
    return get_user_model().objects.create_superuser("ban_admin_bo", "bo@example.com", None)


@pytest.fixture
def web(client: Client, admin_user: AbstractBaseUser) -> Client:
    client.force_login(admin_user)
    return client


# --- years_later --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("at", "years", "expected"),
    [
        (local(2026, 4, 1, 2, 30), 3, local(2029, 4, 1, 2, 30)),
        (local(2028, 2, 29, 10, 0), 3, local(2031, 2, 28, 10, 0)),  # no 29 February in 2031
        (local(2028, 2, 29, 10, 0), 4, local(2032, 2, 29, 10, 0)),  # 2032 has one
        # 2028-02-28 20:00 UTC is 29 February 04:00 in Shanghai: the local date counts.
        (datetime(2028, 2, 28, 20, 0, tzinfo=UTC), 1, local(2029, 2, 28, 4, 0)),
    ],
)
def test_years_later_keeps_the_local_wall_time(at, years, expected) -> None:
    result = years_later(at, years)
    assert result == expected
    assert result.astimezone(SHANGHAI).replace(tzinfo=None) == expected.replace(tzinfo=None)


# --- shopper_ban ----------------------------------------------------------------------------------
def test_a_ban_for_years_ends_the_same_local_time_later(shopper: Shopper) -> None:
    start = local(2026, 4, 1, 2, 30)

    ban, created = shopper_ban(
        shopper_id=shopper.pk,
        reason="customs_decision",
        starts_at=start,
        years=3,
        detail="Decision 2026-17",
        source_receipt_no="SYA-HTB-0001",
        now=timezone.now(),
    )

    assert created
    ban.refresh_from_db()
    assert (ban.reason, ban.starts_at, ban.ends_at) == (
        "customs_decision",
        start,
        local(2029, 4, 1, 2, 30),
    )
    assert (ban.detail, ban.source_receipt_no, ban.lifted_at) == (
        "Decision 2026-17",
        "SYA-HTB-0001",
        None,
    )
    assert banned_until(shopper) == local(2029, 4, 1, 2, 30)


def test_a_ban_with_an_end(shopper: Shopper) -> None:
    ban, created = shopper_ban(
        shopper_id=shopper.pk,
        reason="resale",
        starts_at=local(2026, 5, 1, 0, 0),
        ends_at=local(2027, 5, 1, 0, 0),
        now=timezone.now(),
    )

    assert created
    assert Ban.objects.get().ends_at == local(2027, 5, 1, 0, 0)
    assert ban.ends_at == local(2027, 5, 1, 0, 0)
    assert banned_until(shopper) == local(2027, 5, 1, 0, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"ends_at": local(2026, 5, 1, 0, 0)}, id="end-equals-start"),
        pytest.param({"ends_at": local(2026, 4, 30, 23, 59)}, id="end-before-start"),
        pytest.param({"ends_at": local(2027, 5, 1, 0, 0), "years": 1}, id="both"),
        pytest.param({}, id="neither"),
        pytest.param({"years": 0}, id="zero-years"),
        pytest.param({"years": 3, "reason": "jaywalking"}, id="unknown-reason"),
        pytest.param({"years": 3, "reason": ""}, id="empty-reason"),
    ],
)
def test_an_invalid_ban_is_refused_and_writes_nothing(shopper: Shopper, kwargs) -> None:
    arguments = {"reason": "customs_decision", "starts_at": local(2026, 5, 1, 0, 0)} | kwargs

    with pytest.raises(BanInvalid):
        shopper_ban(shopper_id=shopper.pk, **arguments, now=timezone.now())

    assert Ban.objects.count() == 0
    assert banned_until(shopper) is None


def test_a_ban_is_recorded_once_per_source(shopper: Shopper) -> None:
    first, created = shopper_ban(
        shopper_id=shopper.pk,
        reason="departure_deadline",
        starts_at=local(2026, 4, 1, 2, 30),
        years=3,
        source="sale:17",
        now=timezone.now(),
    )
    again, created_again = shopper_ban(
        shopper_id=shopper.pk,
        reason="departure_deadline",
        starts_at=local(2026, 4, 2, 2, 30),
        years=5,
        source="sale:17",
        now=timezone.now(),
    )
    other, created_other = shopper_ban(
        shopper_id=shopper.pk,
        reason="departure_deadline",
        starts_at=local(2026, 4, 2, 2, 30),
        years=3,
        source="sale:18",
        now=timezone.now(),
    )

    assert (created, created_again, created_other) == (True, False, True)
    assert again.pk == first.pk
    assert again.ends_at == local(2029, 4, 1, 2, 30)  # the first, unchanged
    assert other.pk != first.pk
    assert Ban.objects.count() == 2
    assert banned_until(shopper) == local(2029, 4, 2, 2, 30)


def test_bans_without_a_source_are_never_merged(shopper: Shopper) -> None:
    for _ in range(2):
        shopper_ban(
            shopper_id=shopper.pk,
            reason="customs_decision",
            starts_at=local(2026, 4, 1, 0, 0),
            years=1,
            now=timezone.now(),
        )
    assert Ban.objects.filter(shopper=shopper).count() == 2


def test_banned_until_is_the_latest_end_of_the_bans_not_lifted(shopper: Shopper) -> None:
    other = shopper_row("460100199001015678")
    long, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="resale",
        starts_at=local(2026, 1, 1, 0, 0),
        ends_at=local(2030, 1, 1, 0, 0),
        now=timezone.now(),
    )
    short, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="customs_decision",
        starts_at=local(2026, 6, 1, 0, 0),
        ends_at=local(2027, 1, 1, 0, 0),
        now=timezone.now(),
    )
    assert banned_until(shopper) == local(2030, 1, 1, 0, 0)  # the later end wins, not the newest

    ban_lift(ban_id=long.pk, reason="Appeal granted", now=local(2026, 7, 1, 9, 0))
    assert banned_until(shopper) == local(2027, 1, 1, 0, 0)

    ban_lift(ban_id=short.pk, reason="Appeal granted", now=local(2026, 7, 1, 9, 5))
    assert banned_until(shopper) is None
    assert banned_until(other) is None  # untouched throughout


def test_lifting_records_who_when_and_why(shopper: Shopper, admin_user: AbstractBaseUser) -> None:
    ban, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="customs_decision",
        starts_at=local(2026, 4, 1, 0, 0),
        years=3,
        now=timezone.now(),
    )
    lifted_at = local(2026, 4, 10, 15, 0)

    lifted = ban_lift(ban_id=ban.pk, reason="  Decision reversed  ", now=lifted_at, by=admin_user)

    stored = Ban.objects.get(pk=ban.pk)
    assert (stored.lifted_at, stored.lifted_by_id, stored.lift_reason) == (
        lifted_at,
        admin_user.pk,
        "Decision reversed",
    )
    assert lifted.lifted_at == lifted_at
    assert stored.ends_at == local(2029, 4, 1, 0, 0)  # the ban itself stays on file
    assert banned_until(shopper) is None


def test_a_second_lift_is_refused_and_keeps_the_first(shopper: Shopper) -> None:
    ban, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="resale",
        starts_at=local(2026, 4, 1, 0, 0),
        years=1,
        now=timezone.now(),
    )
    ban_lift(ban_id=ban.pk, reason="First", now=local(2026, 4, 2, 0, 0))

    with pytest.raises(BanAlreadyLifted):
        ban_lift(ban_id=ban.pk, reason="Second", now=local(2026, 4, 3, 0, 0))

    stored = Ban.objects.get(pk=ban.pk)
    assert (stored.lift_reason, stored.lifted_at) == ("First", local(2026, 4, 2, 0, 0))


@pytest.mark.parametrize("reason", ["", "   \n\t"])
def test_a_lift_needs_a_reason(shopper: Shopper, reason: str) -> None:
    ban, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="resale",
        starts_at=local(2026, 4, 1, 0, 0),
        years=1,
        now=timezone.now(),
    )

    with pytest.raises(BanInvalid):
        ban_lift(ban_id=ban.pk, reason=reason, now=local(2026, 4, 2, 0, 0))

    assert Ban.objects.get(pk=ban.pk).lifted_at is None
    assert banned_until(shopper) == local(2027, 4, 1, 0, 0)


# --- admin ----------------------------------------------------------------------------------------
def test_the_ban_changelist_lists_reason_and_source_receipt(web: Client, shopper: Shopper) -> None:
    shopper_ban(
        shopper_id=shopper.pk,
        reason="departure_deadline",
        starts_at=timezone.now(),
        years=3,
        source="sale:41",
        source_receipt_no="SYA-HTB-7Q2K",
        now=timezone.now(),
    )

    response = web.get(reverse("admin:quotas_ban_changelist"), headers=EN)

    assert response.status_code == 200
    page = response.content.decode()
    assert '<td class="field-source_receipt_no">SYA-HTB-7Q2K</td>' in page
    assert '<td class="field-reason">no departure within the deadline</td>' in page
    assert '<td class="field-state">in force</td>' in page
    assert "****1230" in page
    assert NUMBER not in page


def test_a_ban_is_added_through_the_add_form_with_years(
    web: Client, shopper: Shopper, admin_user: AbstractBaseUser
) -> None:
    start = timezone.localtime().replace(second=0, microsecond=0) - timedelta(hours=1)
    assert web.get(reverse("admin:quotas_ban_add")).status_code == 200

    response = web.post(
        reverse("admin:quotas_ban_add"),
        {
            "shopper": str(shopper.pk),
            "reason": "customs_decision",
            "detail": "Customs decision 2026-031",
            "source_receipt_no": "HAK-T1-0009",
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": start.strftime("%H:%M:%S"),
            "years": "2",
            "ends_at_0": "",
            "ends_at_1": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    ban = Ban.objects.get()
    assert (ban.shopper_id, ban.reason, ban.source_receipt_no, ban.created_by_id) == (
        shopper.pk,
        "customs_decision",
        "HAK-T1-0009",
        admin_user.pk,
    )
    assert ban.starts_at == start
    assert ban.ends_at == years_later(start, 2)
    assert banned_until(shopper) == years_later(start, 2)
    assert response["Location"] in {
        reverse("admin:quotas_ban_changelist"),
        reverse("admin:quotas_ban_change", args=[ban.pk]),
    }


def test_a_ban_is_added_through_the_add_form_with_an_end(web: Client, shopper: Shopper) -> None:
    response = web.post(
        reverse("admin:quotas_ban_add"),
        {
            "shopper": str(shopper.pk),
            "reason": "resale",
            "detail": "",
            "source_receipt_no": "",
            "starts_at_0": "2026-04-01",
            "starts_at_1": "08:00:00",
            "years": "",
            "ends_at_0": "2027-04-01",
            "ends_at_1": "08:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    ban = Ban.objects.get()
    assert (ban.reason, ban.starts_at, ban.ends_at) == (
        "resale",
        local(2026, 4, 1, 8, 0),
        local(2027, 4, 1, 8, 0),
    )
    assert banned_until(shopper) == local(2027, 4, 1, 8, 0)


def test_the_add_form_refuses_both_years_and_an_end(web: Client, shopper: Shopper) -> None:
    response = web.post(
        reverse("admin:quotas_ban_add"),
        {
            "shopper": str(shopper.pk),
            "reason": "customs_decision",
            "detail": "",
            "source_receipt_no": "",
            "starts_at_0": "2026-04-01",
            "starts_at_1": "00:00:00",
            "years": "2",
            "ends_at_0": "2027-04-01",
            "ends_at_1": "00:00:00",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert Ban.objects.count() == 0
    assert banned_until(shopper) is None


def test_the_ban_change_page_is_read_only_without_delete(web: Client, shopper: Shopper) -> None:
    ban, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="resale",
        starts_at=local(2026, 4, 1, 0, 0),
        years=3,
        source_receipt_no="SYA-HTB-0042",
        now=timezone.now(),
    )
    change = reverse("admin:quotas_ban_change", args=[ban.pk])
    delete = reverse("admin:quotas_ban_delete", args=[ban.pk])

    response = web.get(change)

    assert response.status_code == 200
    page = response.content.decode()
    assert "SYA-HTB-0042" in page
    for field in ("reason", "ends_at_0", "starts_at_0", "source_receipt_no", "detail"):
        assert f'name="{field}"' not in page
    assert delete not in page
    for button in ("_save", "_continue", "_addanother"):  # nothing to save: lifting has its page
        assert f'name="{button}"' not in page
    assert reverse("admin:quotas_ban_lift", args=[ban.pk]) in page
    assert web.get(delete).status_code == 403
    assert web.post(delete, {"post": "yes"}).status_code == 403
    assert Ban.objects.filter(pk=ban.pk).exists()

    # A forged post changes nothing either.
    web.post(change, {"reason": "customs_decision", "ends_at_0": "2026-04-02", "years": "1"})
    stored = Ban.objects.get(pk=ban.pk)
    assert (stored.reason, stored.ends_at) == ("resale", local(2029, 4, 1, 0, 0))


def test_the_lift_page_lifts_with_a_reason(
    web: Client, shopper: Shopper, admin_user: AbstractBaseUser
) -> None:
    ban, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="departure_deadline",
        starts_at=timezone.now() - timedelta(days=1),
        years=3,
        source="sale:9",
        now=timezone.now(),
    )
    lift = reverse("admin:quotas_ban_lift", args=[ban.pk])
    assert web.get(lift).status_code == 200

    refused = web.post(lift, {"reason": ""})
    assert refused.status_code == 200
    assert Ban.objects.get(pk=ban.pk).lifted_at is None

    response = web.post(lift, {"reason": "Departure record found at HAK"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:quotas_ban_change", args=[ban.pk])
    stored = Ban.objects.get(pk=ban.pk)
    assert stored.lifted_at is not None
    assert (stored.lifted_by_id, stored.lift_reason) == (
        admin_user.pk,
        "Departure record found at HAK",
    )
    assert banned_until(shopper) is None
    listing = web.get(reverse("admin:quotas_ban_changelist"), headers=EN).content.decode()
    lifted_at = timezone.localtime(stored.lifted_at)
    assert f'<td class="field-state">lifted {lifted_at:%Y-%m-%d %H:%M}</td>' in listing
    assert '<td class="field-state">in force</td>' not in listing

    again = web.post(lift, {"reason": "twice"})
    assert again.status_code == 200
    assert Ban.objects.get(pk=ban.pk).lift_reason == "Departure record found at HAK"


def test_the_shopper_admin_never_shows_a_full_document_number(
    web: Client, shopper: Shopper
) -> None:
    shopper_ban(
        shopper_id=shopper.pk,
        reason="resale",
        starts_at=local(2026, 4, 1, 0, 0),
        years=3,
        source_receipt_no="SYA-HTB-0001",
        now=timezone.now(),
    )

    listing = web.get(reverse("admin:quotas_shopper_changelist"))
    change = web.get(reverse("admin:quotas_shopper_change", args=[shopper.pk]))
    search = web.get(reverse("admin:quotas_shopper_changelist"), {"q": "1230"})

    assert (listing.status_code, change.status_code, search.status_code) == (200, 200, 200)
    for response in (listing, change, search):
        page = response.content.decode()
        assert "****1230" in page
        assert NUMBER not in page
        assert NUMBER[:14] not in page
        assert shopper.document_key not in page
        assert shopper.name_key not in page
    assert "SYA-HTB-0001" in change.content.decode()  # the ban inline
    # What the row keeps of the birth date: the year, shown as a year (no grouping), no more.
    assert '<div class="readonly">1990</div>' in change.content.decode()
    assert "1990-01-01" not in change.content.decode()
    assert list(search.context["cl"].result_list) == [shopper]
    assert 'name="_save"' not in change.content.decode()
    assert web.get(reverse("admin:quotas_shopper_add")).status_code == 403


def test_a_ban_cannot_start_later(shopper: Shopper) -> None:
    """A ban starts when it is recorded (or earlier): the span the rules read then has no
    gap from now on."""
    now = timezone.now()
    with pytest.raises(BanInvalid, match="starts now or in the past"):
        shopper_ban(
            shopper_id=shopper.pk,
            reason="customs_decision",
            starts_at=now + timedelta(days=30),
            years=1,
            now=timezone.now(),
        )
    assert not Ban.objects.exists()
    ban, created = shopper_ban(
        shopper_id=shopper.pk, reason="customs_decision", starts_at=now, years=1, now=timezone.now()
    )
    assert created
    assert ban.active_at(now + timedelta(seconds=1))


# --- in force only between its start and its end: a ban planned for later refuses nothing yet -
def span(shopper: Shopper) -> tuple[datetime | None, datetime | None]:
    return Shopper.objects.values_list("banned_from", "banned_until").get(pk=shopper.pk)


@pytest.mark.parametrize(
    ("at", "in_force"),
    [
        pytest.param(local(2026, 4, 30, 23, 59, 59), False, id="before-the-start"),
        pytest.param(local(2026, 5, 1, 0, 0), True, id="at-the-start"),
        pytest.param(local(2027, 4, 30, 23, 59, 59), True, id="last-second"),
        pytest.param(local(2027, 5, 1, 0, 0), False, id="at-the-end"),
    ],
)
def test_the_rules_refuse_only_between_the_start_and_the_end(at, in_force: bool) -> None:
    facts = ShopperFacts(
        birth_date=date(1990, 1, 1),
        banned_from=local(2026, 5, 1, 0, 0),
        banned_until=local(2027, 5, 1, 0, 0),
    )
    assert (
        rules.ban_in_force(banned_from=facts.banned_from, banned_until=facts.banned_until, at=at)
        is in_force
    )
    refused = [v.code for v in _judge(facts, at)]
    assert ("banned" in refused) is in_force


def _judge(facts: ShopperFacts, at: datetime) -> list:
    policy = policy_rules(policy=policy_in_force(at=at))
    return list(
        rules.judge_basket(
            policy=policy,
            shopper=facts,
            trip=TripFacts(kind="domestic", mode="air", departs_at=at + timedelta(days=1)),
            pickup="departure",
            lines=[],
            usage=Usage(annual_used=Decimal("0.00")),
            at=at,
        ).violations
    )


def test_the_span_is_the_first_start_and_the_last_end_of_the_bans_not_lifted(
    shopper: Shopper,
) -> None:
    early, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="resale",
        starts_at=local(2026, 1, 1, 0, 0),
        ends_at=local(2027, 1, 1, 0, 0),
        now=timezone.now(),
    )
    assert span(shopper) == (local(2026, 1, 1, 0, 0), local(2027, 1, 1, 0, 0))
    shopper_ban(
        shopper_id=shopper.pk,
        reason="customs_decision",
        starts_at=local(2026, 6, 1, 0, 0),
        ends_at=local(2029, 6, 1, 0, 0),
        now=timezone.now(),
    )
    assert span(shopper) == (local(2026, 1, 1, 0, 0), local(2029, 6, 1, 0, 0))

    ban_lift(ban_id=early.pk, reason="Appeal granted", now=local(2026, 7, 1, 9, 0))

    assert span(shopper) == (local(2026, 6, 1, 0, 0), local(2029, 6, 1, 0, 0))
    stored = Shopper.objects.get(pk=shopper.pk)
    assert not stored.banned_at(local(2026, 5, 31, 23, 59))
    assert stored.banned_at(local(2026, 6, 1, 0, 0))


def test_the_migration_gives_recorded_bans_their_span(shopper: Shopper) -> None:
    """Bans recorded before the span existed (``banned_until`` only, as the early run left
    them) get ``banned_from``: a ban recorded to start later stops biting at once."""
    migration = importlib.import_module("quotas.migrations.0007_shopper_ban_span")
    later = timezone.now() + timedelta(days=40)
    Ban.objects.create(
        shopper=shopper,
        reason="departure_deadline",
        source="sale:1",
        starts_at=later,
        ends_at=years_later(later, 3),
    )
    other = shopper_row("460100199001015678")
    Shopper.objects.filter(pk=shopper.pk).update(banned_until=years_later(later, 3))

    migration.ban_span(apps, None)

    assert span(shopper) == (later, years_later(later, 3))
    assert not Shopper.objects.get(pk=shopper.pk).banned_at(timezone.now())
    assert span(other) == (None, None)


def test_the_ban_list_says_a_ban_that_starts_later_is_not_yet_in_force(
    web: Client, shopper: Shopper
) -> None:
    later = timezone.now() + timedelta(days=40)
    shopper_ban(
        shopper_id=shopper.pk,
        reason="departure_deadline",
        starts_at=later,
        now=later,  # as the early run of the deadline command did
        years=3,
        source="sale:7",
    )

    page = web.get(reverse("admin:quotas_ban_changelist"), headers=EN).content.decode()

    assert '<td class="field-state">not yet in force</td>' in page
    assert '<td class="field-state">in force</td>' not in page
    in_force = web.get(reverse("admin:quotas_ban_changelist"), {"state": "in_force"}, headers=EN)
    assert list(in_force.context["cl"].result_list) == []
    scheduled = web.get(
        reverse("admin:quotas_ban_changelist"), {"state": "not_started"}, headers=EN
    )
    assert [b.source for b in scheduled.context["cl"].result_list] == ["sale:7"]


# --- every time a person reads is local (Asia/Shanghai), never the UTC stored ------------------
def test_a_bans_title_shows_its_dates_in_shanghai_time(web: Client, shopper: Shopper) -> None:
    """2030-01-20 03:00 in Shanghai is 2030-01-19 19:00 UTC: the title said 2030-01-19."""
    ban, _ = shopper_ban(
        shopper_id=shopper.pk,
        reason="resale",
        starts_at=local(2026, 1, 20, 3, 0),
        ends_at=local(2030, 1, 20, 3, 0),
        now=timezone.now(),
    )

    assert str(ban).endswith("2026-01-20 → 2030-01-20")
    change = web.get(reverse("admin:quotas_ban_change", args=[ban.pk]), headers=EN)
    assert "2026-01-20 → 2030-01-20" in change.content.decode()
    assert "2030-01-19" not in change.content.decode()


def test_a_trips_title_shows_its_departure_in_shanghai_time(shopper: Shopper) -> None:
    trip = Trip(
        shopper=shopper, carrier_ref="HU7181", departs_at=datetime(2026, 3, 4, 18, 30, tzinfo=UTC)
    )

    assert str(trip) == "HU7181 2026-03-05 02:30"


def test_no_policy_in_force_says_when_in_shanghai_time() -> None:
    with pytest.raises(NoPolicyInForce) as refused:
        policy_in_force(at=datetime(2018, 12, 31, 16, 0, tzinfo=UTC))
    with pytest.raises(NoPolicyInForce) as cached:
        policy_in_force_cached(at=datetime(2018, 12, 31, 16, 0, tzinfo=UTC))

    for error in (refused.value, cached.value):
        assert "2019-01-01T00:00:00+08:00" in error.detail
        assert error.extra["at"] == "2019-01-01T00:00:00+08:00"


def test_a_publish_is_recorded_in_shanghai_time() -> None:
    draft = policy_clone(policy=Policy.objects.get(effective_from__year=2025, status="published"))
    now = timezone.now()

    policy_publish(policy=draft, effective_from=now, now=now)

    reason = json.loads(draft.history.latest().history_change_reason)
    assert reason == {"code": "published", "effective_from": now.astimezone(SHANGHAI).isoformat()}
    assert reason["effective_from"].endswith("+08:00")
