"""``POST /api/v1/departures``: the till learns what the departure decided — whether it closed
the shopper's trip on the request's carrier — and nothing else: not the shopper's other trips
(at any store), not whether a document it closed nothing for is known at all."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from quotas.models import Shopper, Trip
from tests.conftest import SHANGHAI
from tests.support import basket, commit, product, terminal, trip, unique_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/departures"
NUMBER = "460100199001011230"
UNKNOWN_NUMBER = "460100200001011230"  # nobody holds it; the same last four
KEYS = {"matched", "reason", "message", "carrier_ref", "departed_at", "closed_trip"}


@pytest.fixture
def depart(client: Client):
    """A departure from a terminal of ``store`` (SYA-AIR unless said), answered 201."""
    keys = {store: terminal(store)[1] for store in ("SYA-HTB", "SYA-AIR")}

    def post(
        carrier_ref: str,
        departed_at: datetime,
        *,
        number: str = NUMBER,
        language: str = "en",
        idem: str | None = None,
        store: str = "SYA-AIR",
    ) -> Any:
        body = {
            "document": {"type": "resident_id", "number": number, "country": "CHN"},
            "carrier_ref": carrier_ref,
            "departed_at": departed_at.isoformat(),
        }
        response = client.post(
            URL,
            json.dumps(body),
            content_type="application/json",
            headers={
                "authorization": f"Bearer {keys[store]}",
                "accept-language": language,
                "idempotency-key": idem or unique_key("departure"),
            },
        )
        assert response.status_code == 201, response.content
        assert set(response.json()) == KEYS
        return response

    return post


@pytest.fixture
def bought_at_htb() -> tuple[datetime, datetime]:
    """The shopper bought at SYA-HTB only: for HU7181 in two hours and CZ6789 in two days."""
    product("DEP-LIP", "cosmetics", "320.00")
    store_a, _ = terminal("SYA-HTB")
    soon = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    later = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    commit(store_a, basket(("DEP-LIP", 1), on=trip("HU7181", departs_at=soon)))
    commit(store_a, basket(("DEP-LIP", 1), on=trip("CZ6789", departs_at=later)))
    return soon, later


def local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat()


class TestWhatTheDepartureDecided:
    def test_the_planned_flight_closes_its_trip(self, depart, bought_at_htb) -> None:
        soon, _later = bought_at_htb
        departed = timezone.now().replace(microsecond=0)
        answer = depart("hu 7181", departed).json()  # delayed or early: within 12 hours
        assert answer == {
            "matched": True,
            "reason": "closed_open_trip",
            "message": "Closed the shopper's trip HU7181.",
            "carrier_ref": "HU7181",
            "departed_at": local(departed),
            "closed_trip": {"carrier_ref": "HU7181", "departs_at": local(soon)},
        }
        assert Trip.objects.get(carrier_ref="HU7181").departed_at == departed
        assert Trip.objects.get(carrier_ref="CZ6789").departed_at is None

    def test_recording_it_again_says_it_was_closed_before(self, depart, bought_at_htb) -> None:
        departed = timezone.now() - timedelta(minutes=5)
        first = depart("HU7181", departed).json()
        again = depart("HU7181", departed, store="SYA-HTB").json()  # another till, another key
        assert (again["matched"], again["reason"]) == (True, "already_recorded")
        assert again["closed_trip"] == first["closed_trip"]

    @pytest.mark.parametrize(
        ("language", "message"),
        [
            (
                "en",
                "No open trip MU5001 scheduled within 12 hours of this departure: nothing closed.",
            ),
            (
                "zh-hans",
                "本次离岛前后12小时内，该购物者没有航班/车次 MU5001 的未离岛行程：未关闭任何行程。",
            ),
        ],
    )
    def test_another_flight_closes_nothing_and_tells_nothing_of_the_other_trips(
        self, depart, bought_at_htb, language: str, message: str
    ) -> None:
        """A terminal of SYA-AIR, where the shopper never bought, learns neither the flights
        nor the times the shopper bought for at SYA-HTB."""
        soon, later = bought_at_htb
        response = depart("MU5001", timezone.now() - timedelta(minutes=5), language=language)
        answer = response.json()
        assert (answer["matched"], answer["reason"]) == (
            False,
            "no_open_trip_with_that_carrier_ref",
        )
        assert answer["message"] == message
        assert answer["closed_trip"] is None
        text = response.content.decode()
        for secret in ("HU7181", "CZ6789", local(soon)[:16], local(later)[:16], "open_trips"):
            assert secret not in text
        assert not Trip.objects.filter(departed_at__isnull=False).exclude(carrier_ref="MU5001")

    def test_the_same_flight_days_early_is_not_its_trip_and_says_no_more(
        self, depart, bought_at_htb
    ) -> None:
        _soon, later = bought_at_htb
        answer = depart("CZ6789", timezone.now() - timedelta(minutes=1)).json()
        assert (answer["matched"], answer["reason"]) == (
            False,
            "no_open_trip_with_that_carrier_ref",
        )
        assert local(later)[:16] not in json.dumps(answer)
        assert Trip.objects.get(carrier_ref="CZ6789", departs_at=later).departed_at is None


class TestAKnownAndAnUnknownDocumentAnswerAlike:
    """A departure that closes nothing is answered the same for a document no shopper holds
    as for a shopper with no such trip: same status, headers, bytes — on the first call, on a
    replay of its key and on the same departure sent again with a new key."""

    def test_the_same_answer(self, depart, bought_at_htb) -> None:
        departed = timezone.now() - timedelta(minutes=5)
        known = depart("MU5001", departed)
        unknown = depart("MU5001", departed, number=UNKNOWN_NUMBER)
        assert known.content == unknown.content
        assert sorted(known.headers) == sorted(unknown.headers)
        assert "Location" not in unknown

    def test_the_unknown_document_records_nothing(self, depart, bought_at_htb) -> None:
        shoppers, trips = Shopper.objects.count(), Trip.objects.count()
        depart("MU5001", timezone.now(), number=UNKNOWN_NUMBER)
        assert (Shopper.objects.count(), Trip.objects.count()) == (shoppers, trips)

    def test_replays_and_repeats_alike(self, depart, bought_at_htb) -> None:
        departed = timezone.now() - timedelta(minutes=5)
        answers = {}
        for who, number in (("known", NUMBER), ("unknown", UNKNOWN_NUMBER)):
            first = depart("MU5001", departed, number=number, idem=f"{who}-1")
            replay = depart("MU5001", departed, number=number, idem=f"{who}-1")
            repeat = depart("MU5001", departed, number=number, idem=f"{who}-2")
            assert replay.content == first.content
            assert replay["Idempotent-Replayed"] == "true"
            assert "Idempotent-Replayed" not in repeat
            answers[who] = (first.content, repeat.content)
        assert answers["known"] == answers["unknown"]
        assert answers["known"][0] == answers["known"][1]  # a repeat decides as the first did
