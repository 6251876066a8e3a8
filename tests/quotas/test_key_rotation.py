"""Rotating the identity HMAC key loses nobody's history: keys carry a version, a shopper
found under a retired key is re-keyed under the current one (document and name together)
at the next sale, look-up or import, and keeps the same row, accounts, trips and sales."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from quotas import identity
from quotas.models import QuotaAccount, Shopper
from quotas.services import departure_record
from shops.imports.batching import import_sales
from shops.imports.reading import COLUMNS
from shops.models import Sale
from tests import support
from tests.support.identity import BEFORE, NEW, OLD, ROTATING

NUMBER = support.resident_id(1357)
NAME = "周杰"


def sell(terminal, sku: str = "KR-LIP", *, name: str = NAME) -> Sale:
    return support.sell(terminal, (sku, 1), who=support.shopper(NUMBER, name=name)).sale


def key_under(secret: str) -> str:
    return identity.document_key(doc_type="resident_id", country="CHN", number=NUMBER, key=secret)


@pytest.fixture
def shopper_under_the_old_key(db: None):
    support.product("KR-LIP", "cosmetics", "300.00")
    terminal, _ = support.terminal()
    with override_settings(**BEFORE):
        first = sell(terminal)
    shopper = Shopper.objects.get()
    assert (shopper.document_key, shopper.key_version) == (key_under(OLD), 1)
    return terminal, first


def test_a_sale_re_keys_the_shopper_and_keeps_the_year(shopper_under_the_old_key) -> None:
    terminal, first = shopper_under_the_old_key
    with override_settings(**ROTATING):
        second = sell(terminal)
    shopper = Shopper.objects.get()  # still one shopper
    assert (shopper.document_key, shopper.key_version) == (key_under(NEW), 2)
    assert shopper.name_key == identity.name_key(NAME, NEW)
    assert first.shopper_id == second.shopper_id == shopper.pk
    assert QuotaAccount.objects.get().used == Decimal("600.00")  # one year, both sales
    assert OLD not in shopper.document_key


def test_a_look_up_re_keys_on_a_match_and_not_on_a_wrong_name(
    shopper_under_the_old_key, client: Client
) -> None:
    body = {"document": {"type": "resident_id", "number": NUMBER}}
    with override_settings(**ROTATING):
        wrong = client.post(
            "/api/v1/quota-lookup", {**body, "name": "别人"}, content_type="application/json"
        ).json()
        assert wrong["purchases"] == []
        assert Shopper.objects.get().key_version == 1  # nothing moved
        right = client.post(
            "/api/v1/quota-lookup", {**body, "name": NAME}, content_type="application/json"
        ).json()
    assert right["used"] == "300.00"
    assert len(right["purchases"]) == 1
    assert Shopper.objects.get().key_version == 2


def test_a_departure_finds_the_shopper_without_re_keying(shopper_under_the_old_key) -> None:
    with override_settings(**ROTATING):
        trip = departure_record(
            doc_type="resident_id",
            country="CHN",
            number=NUMBER,
            carrier_ref="HU7181",
            departed_at=support.DEPARTS,
            now=support.DEPARTS,  # recorded once the shopper has left
        )
    shopper = Shopper.objects.get()
    assert trip.shopper_id == shopper.pk
    assert trip.departed_at is not None
    assert shopper.key_version == 1  # no name, no re-keying


def test_an_import_re_keys_instead_of_creating_a_second_shopper(
    shopper_under_the_old_key,
) -> None:
    sold = timezone.localtime() - timezone.timedelta(days=1)
    row = {
        "receipt_no": "KR-LEGACY-1",
        "store_code": "SYA-HTB",
        "sold_at": sold.isoformat(),
        "doc_type": "resident_id",
        "doc_number": NUMBER,
        "name": NAME,
        "birth_date": "1990-01-01",
        "hainan_resident": "false",
        "trip_kind": "",
        "trip_mode": "",
        "carrier_ref": "",
        "departs_at": "",
        "pickup": "departure",
        "sku": "",
        "category_code": "cosmetics",
        "quantity": "1",
        "unit_price": "100.00",
    }
    text = ",".join(COLUMNS) + "\n" + ",".join(row[c] for c in COLUMNS) + "\n"
    with override_settings(**ROTATING):
        dry = import_sales(io.StringIO(text), dry_run=True, now=timezone.now())
        assert Shopper.objects.get().key_version == 1  # a dry run writes nothing
        report = import_sales(io.StringIO(text), now=timezone.now())
    assert (dry.rejected, report.imported) == (0, 1)
    assert Shopper.objects.count() == 1
    assert Shopper.objects.get().key_version == 2
    assert Sale.objects.filter(imported=True).get().shopper_id == Shopper.objects.get().pk


def test_identity_keys_reports_the_shoppers_left_under_each_version(
    shopper_under_the_old_key,
) -> None:
    out = io.StringIO()
    with override_settings(**ROTATING):
        call_command("identity_keys", stdout=out)
    assert "version 1: 1 shopper" in out.getvalue()
    assert "keep IDENTITY_HMAC_OLD_KEYS" in out.getvalue()


def test_without_a_rotation_an_unknown_document_costs_no_extra_query(
    db: None, django_assert_num_queries
) -> None:
    from quotas.services import shopper_rekey

    with django_assert_num_queries(0):
        assert (
            shopper_rekey(
                doc_type="passport", country="CHN", number="E1", name="x", now=timezone.now()
            )
            is None
        )
