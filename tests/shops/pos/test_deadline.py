"""The 30-day departure deadline of immediate and guarantee pickups (shops.pos.deadline): a shopper
who takes the goods at once and has no recorded departure by the end of the 30th local day
after the purchase is banned for 3 years — once per episode, whatever runs it (the function,
the Celery task or the command)."""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from quotas.admin.bans import BanAdmin
from quotas.models import Ban, Shopper
from quotas.services import ban_lift, departure_record, years_later
from shops.models import Sale
from shops.pos import checkout, returns
from shops.pos.deadline import departure_deadline_enforce
from shops.pos.errors import PurchaseNotAllowed
from shops.shoppers.lookup import LookupQuery, quota_lookup
from shops.tasks import enforce_departure_deadline
from tests.conftest import SHANGHAI, local
from tests.support import basket, json_basket, resident_id, shopper, terminal, trip
from tests.support import sell as support_sell

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]

SOLD = local(2026, 3, 1, 10, 0)
DEPARTS = local(2026, 3, 5, 10, 0)  # the flight the shopper named at the sale
RUN = local(2026, 4, 1, 2, 30)  # the first daily run after the 30th day
NUMBER = "460100199001011230"


@pytest.fixture
def term():
    return terminal("SYA-HTB")[0]


def sell(
    term,
    *,
    pickup: str = "immediate",
    sku: str = "LIP",
    at: datetime = SOLD,
    who=None,
    departs: datetime | None = None,
):
    departs = departs or at + (DEPARTS - SOLD)
    return support_sell(term, (sku, 1), who=who, departs_at=departs, pickup=pickup, at=at).sale


def depart(at: datetime, *, number: str = NUMBER, carrier_ref: str = "CZ6789"):
    return departure_record(
        doc_type="resident_id",
        country="CHN",
        number=number,
        carrier_ref=carrier_ref,
        departed_at=at,
        now=at,
    )


def banned_until(number: str = NUMBER) -> datetime | None:
    return Shopper.objects.get(document_last4=number[-4:]).banned_until


# --- the boundary ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("departed_at", "banned"),
    [
        pytest.param(SOLD, False, id="at-the-purchase"),
        pytest.param(local(2026, 3, 31, 23, 59), False, id="day-30-23:59"),
        pytest.param(
            datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI), False, id="day-30-last-us"
        ),
        pytest.param(local(2026, 4, 1, 0, 0), True, id="day-31-00:00"),
        pytest.param(local(2026, 4, 1, 1, 0), True, id="day-31-01:00"),
        pytest.param(local(2026, 3, 1, 9, 59), True, id="minute-before-purchase"),
        pytest.param(local(2026, 2, 20, 8, 0), True, id="earlier-visit"),
    ],
)
def test_a_departure_counts_from_the_purchase_to_the_end_of_day_30(
    term, departed_at: datetime, banned: bool
) -> None:
    sell(term)
    depart(departed_at)

    report = departure_deadline_enforce(now=RUN)

    assert (report.checked, report.overdue, report.banned) == (1, int(banned), int(banned))
    assert Ban.objects.count() == int(banned)
    assert (banned_until() is not None) is banned


def test_before_the_deadline_has_passed_nothing_happens(term) -> None:
    sell(term)

    for at in (local(2026, 3, 31, 2, 30), datetime(2026, 3, 31, 23, 59, 59, tzinfo=SHANGHAI)):
        report = departure_deadline_enforce(now=at)
        assert (report.overdue, report.banned, report.bans) == (0, 0, [])

    assert Ban.objects.count() == 0
    assert banned_until() is None
    # The checks above can fail: the first instant of day 31 bans.
    assert departure_deadline_enforce(now=local(2026, 4, 1, 0, 0)).banned == 1


def test_no_departure_by_day_30_bans_for_three_years(term) -> None:
    sale = sell(term)

    report = departure_deadline_enforce(now=RUN)

    ban = Ban.objects.get()
    assert asdict(report) == {"checked": 1, "overdue": 1, "banned": 1, "bans": [ban.pk]}
    assert ban.shopper_id == sale.shopper_id
    assert ban.reason == "departure_deadline"
    assert ban.source == f"sale:{sale.pk}"
    assert ban.source_receipt_no == sale.receipt_no
    assert (ban.starts_at, ban.ends_at) == (RUN, local(2029, 4, 1, 2, 30))
    assert ban.lifted_at is None
    assert sale.receipt_no in ban.detail
    assert NUMBER not in ban.detail
    until = banned_until()
    assert until == local(2029, 4, 1, 2, 30)
    assert until.astimezone(SHANGHAI).isoformat() == "2029-04-01T02:30:00+08:00"


def test_a_departure_recorded_through_the_api_on_the_planned_flight_settles_it(
    client: Client,
) -> None:
    term, key = terminal("HAK-T1")
    sell(term)
    body = {
        "document": {"type": "resident_id", "number": NUMBER, "country": "CHN"},
        "carrier_ref": "hu7181",
        "departed_at": "2026-03-05T10:20:00+08:00",
    }

    response = client.post(
        "/api/v1/departures",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "departure-1"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["departed_at"] == "2026-03-05T10:20:00+08:00"
    assert response.json()["closed_trip"]["departs_at"] == DEPARTS.isoformat()  # the sale's
    report = departure_deadline_enforce(now=RUN)
    assert (report.checked, report.overdue, report.banned) == (1, 0, 0)
    assert Ban.objects.count() == 0


# --- once per episode -----------------------------------------------------------------------------
def test_running_twice_bans_once(term) -> None:
    sell(term)

    first = departure_deadline_enforce(now=RUN)
    second = departure_deadline_enforce(now=RUN + timedelta(days=1))

    assert (first.banned, second.banned, second.bans) == (1, 0, [])
    ban = Ban.objects.get()
    assert ban.ends_at == local(2029, 4, 1, 2, 30)  # not moved by the second run
    assert banned_until() == local(2029, 4, 1, 2, 30)


def test_two_overdue_sales_of_one_shopper_make_one_ban(term) -> None:
    first = sell(term)
    sell(term, at=local(2026, 3, 2, 11, 0))
    other = shopper("460100199001015678", name="李四")
    sell(term, who=other, at=local(2026, 3, 2, 12, 0))

    report = departure_deadline_enforce(now=local(2026, 4, 5, 2, 30))

    assert (report.checked, report.overdue, report.banned) == (3, 3, 2)
    mine = Ban.objects.get(shopper_id=first.shopper_id)
    assert mine.source == f"sale:{first.pk}"  # the first overdue sale names the episode
    assert "2 sale(s) overdue" in mine.detail
    assert Ban.objects.exclude(pk=mine.pk).get().shopper_id != first.shopper_id
    assert banned_until() == banned_until("460100199001015678") == local(2029, 4, 5, 2, 30)


def test_a_lifted_ban_is_not_imposed_again(term) -> None:
    sell(term)
    departure_deadline_enforce(now=RUN)
    ban = Ban.objects.get()
    ban_lift(ban_id=ban.pk, reason="Departure found in the airline's records", now=RUN)
    assert banned_until() is None

    report = departure_deadline_enforce(now=RUN + timedelta(days=1))

    assert (report.banned, report.bans) == (0, [])
    assert Ban.objects.count() == 1
    assert banned_until() is None


# --- which sales are watched ----------------------------------------------------------------------
def test_a_guarantee_pickup_is_watched_too(term) -> None:
    sale = sell(term, pickup="guarantee", sku="BIGWATCH")

    report = departure_deadline_enforce(now=RUN)

    assert report.banned == 1
    assert Ban.objects.get().source == f"sale:{sale.pk}"


def test_a_departure_pickup_is_not_watched(term) -> None:
    sell(term, pickup="departure")
    sell(term, pickup="departure", sku="BIGWATCH")

    report = departure_deadline_enforce(now=RUN)

    assert (report.checked, report.banned) == (0, 0)
    assert Ban.objects.count() == 0


def test_a_voided_sale_is_not_watched(term) -> None:
    sale = sell(term)
    returns.sale_void(terminal=term, sale_id=sale.pk, now=SOLD + timedelta(minutes=5))

    report = departure_deadline_enforce(now=RUN)

    assert (report.checked, report.banned) == (0, 0)
    assert Ban.objects.count() == 0


def test_a_fully_returned_sale_is_not_watched_a_partly_returned_one_is(term) -> None:
    whole = checkout.sale_commit(
        terminal=term,
        idempotency_key="returned-whole",
        fingerprint="fp-whole",
        basket=basket(("DIAPERS", 2), on=trip(departs_at=DEPARTS), pickup="immediate"),
        now=SOLD,
    ).sale
    line = whole.lines.get()
    returns.sale_return(
        terminal=term,
        sale_id=whole.pk,
        idempotency_key="return-1",
        fingerprint="fp-return-1",
        lines=[(line.pk, 2)],
        reason="",
        now=SOLD + timedelta(hours=1),
    )
    assert departure_deadline_enforce(now=RUN).checked == 0
    assert Ban.objects.count() == 0

    partly = sell(term, at=local(2026, 3, 1, 12, 0), who=shopper("460100199001015678"))
    part_line = checkout.sale_commit(
        terminal=term,
        idempotency_key="returned-part",
        fingerprint="fp-part",
        basket=basket(
            ("DIAPERS", 2),
            who=shopper("460100199001015678"),
            on=trip(departs_at=DEPARTS),
            pickup="immediate",
        ),
        now=local(2026, 3, 1, 12, 5),
    ).sale
    returns.sale_return(
        terminal=term,
        sale_id=part_line.pk,
        idempotency_key="return-2",
        fingerprint="fp-return-2",
        lines=[(part_line.lines.get().pk, 1)],
        reason="",
        now=local(2026, 3, 1, 13, 0),
    )
    returns.sale_void(terminal=term, sale_id=partly.pk, now=local(2026, 3, 1, 12, 1))

    report = departure_deadline_enforce(now=RUN)

    assert (report.checked, report.banned) == (1, 1)
    assert Ban.objects.get().source == f"sale:{part_line.pk}"


# --- the task and the command ---------------------------------------------------------------------
def test_the_celery_task_returns_the_report() -> None:
    term = terminal("SYA-AIR")[0]
    sold = timezone.now() - timedelta(days=40)
    sale = sell(term, at=sold)

    result = enforce_departure_deadline.apply().get()

    ban = Ban.objects.get()
    assert result == {"checked": 1, "overdue": 1, "banned": 1, "bans": [ban.pk]}
    assert ban.source == f"sale:{sale.pk}"
    assert ban.ends_at == years_later(ban.starts_at, 3)
    assert timezone.now() - timedelta(minutes=5) < ban.starts_at <= timezone.now()
    assert enforce_departure_deadline.apply().get()["banned"] == 0


def test_the_command_prints_the_summary(term) -> None:
    sell(term)
    out = io.StringIO()

    call_command("enforce_departure_deadline", "--at", "2026-03-31T23:00", stdout=out)
    call_command("enforce_departure_deadline", "--at", "2026-04-01T02:30", stdout=out)
    call_command("enforce_departure_deadline", "--at", "2026-04-02T02:30:00+08:00", stdout=out)

    assert out.getvalue().splitlines() == [
        "Checked 0 sale(s); 0 overdue; 0 shopper(s) banned.",
        "Checked 1 sale(s); 1 overdue; 1 shopper(s) banned.",
        "Checked 0 sale(s); 0 overdue; 0 shopper(s) banned.",
    ]
    # A time without an offset is Asia/Shanghai.
    assert Ban.objects.get().starts_at == RUN


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01", "01/04/2026"])
def test_the_command_rejects_a_bad_time(term, at: str) -> None:
    sell(term)

    with pytest.raises(CommandError, match="--at"):
        call_command("enforce_departure_deadline", "--at", at, stdout=io.StringIO())

    assert Ban.objects.count() == 0


# --- the banned shopper ---------------------------------------------------------------------------
def test_the_banned_shopper_is_refused_from_then_on(term, client: Client) -> None:
    sell(term)
    departure_deadline_enforce(now=RUN)
    later = local(2026, 4, 2, 10, 0)
    next_basket = basket(
        ("LIP", 1), on=trip(departs_at=local(2026, 4, 3, 10, 0)), pickup="departure"
    )

    judgement = checkout.sale_quote(basket=next_basket, at=later)
    assert not judgement.verdict.allowed
    assert [v.code for v in judgement.verdict.violations] == ["banned"]

    with pytest.raises(PurchaseNotAllowed) as refused:
        checkout.sale_commit(
            terminal=term,
            idempotency_key="after-ban",
            fingerprint="fp-after-ban",
            basket=next_basket,
            now=later,
        )
    assert [v.code for v in refused.value.verdict.violations] == ["banned"]
    assert Sale.objects.count() == 1

    _, key = terminal("HAK-T2")
    response = client.post(
        "/api/v1/quotes",
        json_basket(next_basket) | {"at": later.isoformat()},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["allowed"] is False
    assert [v["code"] for v in response.json()["violations"]] == ["banned"]

    # Lifting the ban lets the same basket through.
    ban_lift(ban_id=Ban.objects.get().pk, reason="Departure confirmed", now=later)
    assert checkout.sale_quote(basket=next_basket, at=later).verdict.allowed


def test_after_a_lift_a_later_episode_is_banned_again(term) -> None:
    """Sale A is overdue and banned; the ban is lifted; sale B, made after the ban was recorded,
    is a new episode. (Recorded-at is the wall clock, so the episodes sit around it.)"""
    now = timezone.now()
    first = sell(term, at=now - timedelta(days=60))
    departure_deadline_enforce(now=now - timedelta(days=28))
    ban = Ban.objects.get()
    ban_lift(ban_id=ban.pk, reason="Paid the bond", now=now)
    later = sell(term, at=now + timedelta(days=1))

    assert departure_deadline_enforce(now=now + timedelta(days=20)).banned == 0
    report = departure_deadline_enforce(now=now + timedelta(days=33))

    assert report.banned == 1
    assert [b.source for b in Ban.objects.order_by("pk")] == [
        f"sale:{first.pk}",
        f"sale:{later.pk}",
    ]
    assert banned_until() == years_later(now + timedelta(days=33), 3)


def test_a_departure_on_the_next_days_same_flight_counts(term, client: Client) -> None:
    """Daily flights leave at the same time: HU7181 on 5 March and again on 6 March are two
    departures. The shopper left on the 5th, came back, bought with immediate pickup in the
    evening for the 6th's HU7181, and left on it."""
    sell(term)  # for HU7181 of 5 March 10:00
    depart(DEPARTS, carrier_ref="HU7181")
    evening = local(2026, 3, 5, 20, 0)
    next_day = local(2026, 3, 6, 10, 0)
    second = sell(term, at=evening, departs=next_day)  # for HU7181 of 6 March 10:00

    trip_left = depart(next_day, carrier_ref="HU7181")

    assert trip_left.departs_at == next_day
    assert second.trip.departed_at == next_day
    report = departure_deadline_enforce(now=local(2026, 4, 6, 2, 30))
    assert (report.overdue, report.banned) == (0, 0)
    assert Ban.objects.count() == 0


def test_beat_runs_the_deadline_task_daily_in_shanghai_time() -> None:
    from django.conf import settings

    from dutyfree.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["departure-deadline"]
    assert entry["task"] == "shops.tasks.enforce_departure_deadline"
    assert entry["task"] in app.tasks  # autodiscovered under that name
    schedule = entry["schedule"]
    assert (schedule.hour, schedule.minute) == ({2}, {30})
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_imported_legacy_sales_are_not_watched(tmp_path) -> None:
    """Legacy systems' departures are not imported, so their immediate pickups are not
    judged here (a ban would be wrong); the departure-deadline rule covers the till's sales."""
    from shops.imports.batching import import_sales

    sold = timezone.now() - timedelta(days=45)
    row = (
        f"LEGACY-1,SYA-HTB,{sold.isoformat()},resident_id,{resident_id(99)},张三,"
        f"1990-01-01,true,,,,,immediate,,cosmetics,1,300.00"
    )
    path = tmp_path / "legacy.csv"
    path.write_text(
        "receipt_no,store_code,sold_at,doc_type,doc_number,name,birth_date,hainan_resident,"
        "trip_kind,trip_mode,carrier_ref,departs_at,pickup,sku,category_code,quantity,"
        f"unit_price\n{row}\n",
        encoding="utf-8",
    )
    assert import_sales(path, now=timezone.now()).imported == 1
    report = departure_deadline_enforce(now=timezone.now())
    assert (report.checked, report.banned) == (0, 0)
    assert not Ban.objects.exists()


# --- who is watched and how a departure settles it: residents, late departures, handing over -
def test_a_resident_buying_under_the_resident_rule_is_not_watched(term) -> None:
    resident = shopper(resident_id(7), resident=True)
    sell(term, who=resident, at=local(2026, 2, 1, 10, 0), departs=local(2026, 2, 3, 10, 0))
    depart(local(2026, 2, 3, 10, 0), number=resident.number)  # left the island this year
    sale = checkout.sale_commit(
        terminal=term,
        idempotency_key="resident-rule",
        fingerprint="resident-rule",
        basket=basket(("LIP", 1), who=resident, no_trip=True, pickup="immediate"),
        now=SOLD,
    ).sale
    assert (sale.trip_id, sale.traveller_kind) == (None, "resident")
    assert departure_deadline_enforce(now=RUN).banned == 0
    assert banned_until(resident.number) is None


def test_a_departure_recorded_after_the_ban_lifts_it(term, client: Client) -> None:
    _, key = terminal("SYA-AIR")
    sell(term, departs=local(2026, 3, 31, 23, 0))
    assert departure_deadline_enforce(now=RUN).banned == 1
    assert banned_until() is not None
    answer = client.post(
        "/api/v1/departures",
        {
            "document": {"type": "resident_id", "number": NUMBER, "country": "CHN"},
            "carrier_ref": "HU 7181",
            "departed_at": local(2026, 3, 31, 23, 10).isoformat(),  # the last day, in time
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert answer.status_code == 201, answer.content
    assert banned_until() is None
    ban = Ban.objects.get()
    assert ban.lifted_at is not None
    assert "left in time" in ban.lift_reason


def test_a_departure_after_the_deadline_leaves_the_ban(term) -> None:
    from shops.pos.departures import departure_record as record

    sell(term)
    departure_deadline_enforce(now=RUN)
    record(
        doc_type="resident_id", country="CHN", number=NUMBER, carrier_ref="CZ6789",
        departed_at=local(2026, 4, 1, 9, 0), now=local(2026, 4, 1, 9, 5),
    )  # fmt: skip
    assert banned_until() is not None
    assert Ban.objects.get().lifted_at is None


def test_a_departure_in_the_future_is_refused(term, client: Client) -> None:
    _, key = terminal("SYA-AIR")
    sell(term, at=timezone.now())
    answer = client.post(
        "/api/v1/departures",
        {
            "document": {"type": "resident_id", "number": NUMBER, "country": "CHN"},
            "carrier_ref": "CZ6789",
            "departed_at": (timezone.now() + timedelta(days=20)).isoformat(),
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "departure_in_future"
    assert list(answer.json()["errors"]) == ["departed_at"]  # the field, not non_field_errors
    assert not Shopper.objects.get().trips.filter(departed_at__isnull=False).exists()


@pytest.mark.parametrize("pickup", ["mail", "return_to_island"])
def test_goods_after_departure_are_handed_over_only_once_the_shopper_left(
    term, client: Client, pickup: str
) -> None:
    key = terminal("SYA-HTB")[1]
    resident = pickup == "return_to_island"  # kept for a Hainan resident's return
    sold = sell(term, pickup=pickup, who=shopper(NUMBER, resident=resident),
                at=timezone.now() - timedelta(days=3),
                departs=timezone.now() - timedelta(days=2))  # fmt: skip
    url = f"/api/v1/sales/{sold.pk}/pickup"
    early = client.post(url, HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY="k-3")
    assert early.status_code == 409
    assert early.json()["code"] == "pickup_too_early"
    assert Sale.objects.get(pk=sold.pk).picked_up_at is None
    depart(timezone.now() - timedelta(days=2))  # the flight the shopper named
    handed = client.post(url, HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY="k-4")
    assert handed.status_code == 200
    assert Sale.objects.get(pk=sold.pk).picked_up_at is not None


def test_goods_at_departure_are_handed_over_before_the_flight(term, client: Client) -> None:
    key = terminal("SYA-HTB")[1]
    sold = sell(
        term, pickup="departure", at=timezone.now(), departs=timezone.now() + timedelta(hours=3)
    )
    answer = client.post(
        f"/api/v1/sales/{sold.pk}/pickup",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_IDEMPOTENCY_KEY="k-5",
    )
    assert answer.status_code == 200


# --- a run as of a later time is refused: it would ban shoppers whose deadline has not passed --
def _today_basket(departs: datetime | None = None):
    departs = departs or timezone.now() + timedelta(days=2)
    return basket(("LIP", 1), on=trip("HU7382", departs_at=departs), pickup="departure")


def test_the_command_refuses_a_time_later_than_now_and_bans_nobody(term) -> None:
    """`--at <40 days ahead>` banned a shopper whose deadline had not come (a sale yesterday,
    due in 30 days). A run judges deadlines that have passed: a later time is refused."""
    sell(term, at=timezone.now() - timedelta(days=1))
    ahead = timezone.localtime() + timedelta(days=40)
    err = io.StringIO()

    for at in (ahead.isoformat(), ahead.strftime("%Y-%m-%dT%H:%M")):
        with pytest.raises(CommandError, match="later than now") as refused:
            call_command("enforce_departure_deadline", "--at", at, stdout=io.StringIO(), stderr=err)
        assert ahead.strftime("%Y-%m-%d %H:%M") in str(refused.value)  # said in local time

    assert not Ban.objects.exists()
    assert banned_until() is None
    assert checkout.sale_quote(basket=_today_basket(), at=timezone.now()).verdict.allowed


def test_the_command_still_judges_now_and_earlier_times(term) -> None:
    sell(term, at=timezone.now() - timedelta(days=40))
    out = io.StringIO()

    call_command("enforce_departure_deadline", stdout=out)  # now, as the daily task
    call_command(
        "enforce_departure_deadline",
        "--at",
        (timezone.localtime() - timedelta(days=1)).isoformat(),
        stdout=out,
    )

    assert out.getvalue().splitlines() == [
        "Checked 1 sale(s); 1 overdue; 1 shopper(s) banned.",
        "Checked 0 sale(s); 0 overdue; 0 shopper(s) banned.",
    ]
    assert Ban.objects.get().active_at(timezone.now())


def test_a_ban_that_starts_later_does_not_bite_before_its_start(term) -> None:
    """The ban the early run recorded (start = the run's time, 40 days ahead) is on file; it
    must refuse nothing, and show nowhere as in force, before it starts."""
    sell(term, at=timezone.now() - timedelta(days=1))
    ahead = timezone.now() + timedelta(days=40)
    departure_deadline_enforce(now=ahead)  # what the command did with `--at` 40 days ahead
    ban = Ban.objects.get()
    assert ban.starts_at == ahead
    now = timezone.now()

    # A quote and a sale today go through; the shopper's look-up shows no ban.
    assert checkout.sale_quote(basket=_today_basket(), at=now).verdict.allowed
    checkout.sale_commit(
        terminal=term,
        idempotency_key="before-the-ban",
        fingerprint="fp-before-the-ban",
        basket=_today_basket(),
        now=now,
    )
    query = LookupQuery(doc_type="resident_id", country="CHN", number=NUMBER, name="张三")
    assert quota_lookup(query=query, now=now, language="en")["banned_until"] is None
    # The admin does not call it in force.
    admin = BanAdmin(Ban, None)
    assert admin.state(ban) != "in force"
    assert not ban.active_at(now)

    # From its start on, it refuses.
    then = ahead + timedelta(days=1)
    later_basket = _today_basket(then + timedelta(days=2))
    verdict = checkout.sale_quote(basket=later_basket, at=then).verdict
    assert [v.code for v in verdict.violations] == ["banned"]
    answer = quota_lookup(query=query, now=then, language="en")
    assert answer["banned_until"] == ban.ends_at.astimezone(SHANGHAI).isoformat()
