"""Per-trip limits: the same departure presented with a differently spelt carrier reference."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.support import basket, json_basket, product, terminal, trip

pytestmark = pytest.mark.django_db


def _post(client, key, body, idem):
    return client.post(
        "/api/v1/sales",
        json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {key}", "idempotency-key": idem},
    )


def test_carrier_ref_with_a_space_is_the_same_flight(client: Client) -> None:
    product("LIP", "cosmetics", "320.00", immediate_kind="cosmetics")
    _, key_a = terminal("SYA-HTB")
    _, key_b = terminal("HAK-IDFC")
    first = json_basket(basket(("LIP", 20), on=trip("HU7181")))
    assert _post(client, key_a, first, "a1").status_code == 201
    second = json_basket(basket(("LIP", 20), on=trip("HU7181")))
    second["trip"]["carrier_ref"] = "HU 7181"  # same flight, typed with a space at store B
    response = _post(client, key_b, second, "b1")
    # 40 cosmetics pieces for one departure: the contract's per-trip limit is 30.
    assert response.status_code == 422, response.json()


def test_carrier_ref_with_a_dash_is_the_same_flight(client: Client) -> None:
    product("LIP", "cosmetics", "320.00", immediate_kind="cosmetics")
    _, key_a = terminal("SYA-HTB")
    first = json_basket(basket(("LIP", 30), on=trip("HU7181")))
    assert _post(client, key_a, first, "a1").status_code == 201
    second = json_basket(basket(("LIP", 30), on=trip("HU7181")))
    second["trip"]["carrier_ref"] = "HU-7181"
    response = _post(client, key_a, second, "a2")
    assert response.status_code == 422, response.json()


def test_a_departure_spelt_with_a_space_closes_the_trip() -> None:
    """The departure feed spelling the flight 'HU 7181' leaves the sale's trip 'HU7181' open:
    the 30-day watch on immediate/guarantee pickups then bans a shopper who did leave."""
    from quotas import services as quota_services
    from quotas.models import Trip
    from shops.api.inputs import _carrier_ref
    from shops.pos import checkout
    from tests.support import shopper

    product("LIP", "cosmetics", "320.00", immediate_kind="cosmetics")
    term, _ = terminal()
    departs = (timezone.now() + timedelta(hours=5)).replace(microsecond=0)
    checkout.sale_commit(
        terminal=term,
        idempotency_key="k",
        fingerprint="k",
        basket=basket(("LIP", 1), on=trip("HU7181", departs_at=departs), pickup="immediate"),
        now=timezone.now(),
    )
    who = shopper()
    carrier = _carrier_ref("HU 7181")  # what DepartureIn makes of it: "HU 7181"
    quota_services.departure_record(
        doc_type=who.doc_type,
        country=who.country,
        number=who.number,
        carrier_ref=carrier,
        departed_at=departs,
        now=departs,  # recorded once the shopper has left
    )
    assert Trip.objects.get(carrier_ref="HU7181").departed_at == departs


@pytest.mark.parametrize("spelt", ["HU7181", "hu7181", "HU 7181", "HU-7181", "HU/7181", " HU 7181"])
def test_every_spelling_of_a_flight_has_one_key(spelt: str) -> None:
    from quotas.rules import carrier_ref_key

    assert carrier_ref_key(spelt) == "HU7181"


def test_an_imported_receipt_joins_the_trip_however_the_flight_is_spelt() -> None:
    import io

    from quotas.models import Trip
    from shops.imports.batching import import_sales
    from shops.imports.reading import COLUMNS

    product("TRIP-LIP", "cosmetics", "100.00", immediate_kind="cosmetics")
    departs = "2026-03-02T10:30:00+08:00"
    rows = [",".join(COLUMNS)]
    for n, flight in enumerate(["HU7181", "HU 7181", "hu-7181"]):
        rows.append(
            f"TRIP-{n},SYA-HTB,2026-03-01T12:00:00+08:00,passport,E12345678,Trip Shopper,"
            f"1980-01-01,false,domestic,air,{flight},{departs},departure,TRIP-LIP,cosmetics,1,100.00"
        )
    report = import_sales(io.StringIO("\n".join(rows) + "\n"), now=timezone.now())
    assert (report.imported, report.rejected) == (3, 0), report.errors
    assert list(Trip.objects.values_list("carrier_ref", flat=True)) == ["HU7181"]
