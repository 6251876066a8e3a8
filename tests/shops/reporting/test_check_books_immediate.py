"""``check_books`` proves the immediate-pickup caps held: per departure and kind, per SKU
where a kind has a per-variety cap, and per purchase for a resident without a trip.
Imported sales are history, not judged: over a cap they are notes, not differences."""

from __future__ import annotations

import pytest
from django.utils import timezone

from quotas.services import departure_record
from shops.imports.batching import import_sales
from shops.models import Sale, SaleLine
from shops.reporting import audit as books
from shops.reporting import rollups
from tests import support
from tests.conftest import local
from tests.support.books import check
from tests.support.legacy import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db

DEPARTS = local(2026, 3, 5, 10, 30)


@pytest.fixture
def term():
    support.product("RAYBAN", "eyewear", "1450.00", immediate_kind="sunglasses")
    support.product("GM-SUN", "eyewear", "2100.00", immediate_kind="sunglasses")
    support.product("DIOR-999", "cosmetics", "320.00", immediate_kind="cosmetics")
    return support.terminal("SYA-HTB")[0]


def sell(term, *lines, pickup="immediate", who=None, no_trip=False, key: str) -> Sale:
    """A sale on 1 March 2026 of the shopper ``resident_id(1)`` (unless ``who``), departing at
    ``DEPARTS``, taken away at once unless said."""
    return support.sell(
        term,
        *lines,
        who=who or support.shopper(support.resident_id(1)),
        departs_at=DEPARTS,
        pickup=pickup,
        no_trip=no_trip,
        at=local(2026, 3, 1, 10),
        key=key,
    ).sale


def test_sales_within_the_caps_balance(term) -> None:
    sell(term, ("RAYBAN", 1), ("DIOR-999", 1), key="a")
    sell(term, ("GM-SUN", 2), pickup="departure", key="b")  # not picked up at once: uncapped
    rollups.refresh_all_dirty(now=timezone.now())
    result = books.check_books()
    assert (result.differences, result.notes) == ([], [])
    assert books.immediate_differences() == []


def test_a_departure_over_a_kinds_cap_behind_the_engines_back_is_found(term) -> None:
    sell(term, ("RAYBAN", 1), key="a")
    second = sell(term, ("GM-SUN", 1), pickup="departure", key="b")
    assert books.immediate_differences() == []
    Sale.objects.filter(pk=second.pk).update(pickup="immediate")
    assert books.immediate_differences() == [
        f"trip {second.trip_id}: immediate pickup of sunglasses 2 by judged sales, over the cap "
        "of 1"
    ]
    out, error = check(no_rollups=True)
    assert error is not None
    assert "immediate pickup of sunglasses 2" in out


def test_a_variety_over_its_cap_is_found(term) -> None:
    sell(term, ("DIOR-999", 1), key="a")
    second = sell(term, ("DIOR-999", 1), pickup="departure", key="b")
    Sale.objects.filter(pk=second.pk).update(pickup="immediate")
    assert books.immediate_differences() == [
        f"trip {second.trip_id}: immediate pickup of cosmetics (SKU DIOR-999) 2 by judged "
        "sales, over the per-variety cap of 1"
    ]


def test_a_residents_purchase_without_a_trip_is_capped_on_its_own(term) -> None:
    resident = support.shopper(support.resident_id(5), resident=True)
    sell(term, ("RAYBAN", 1), pickup="departure", who=resident, key="known")
    departure_record(
        doc_type="resident_id",
        country="CHN",
        number=resident.number,
        carrier_ref="HU7181",
        departed_at=local(2026, 2, 1, 9),
        now=local(2026, 2, 1, 9),
    )
    first = sell(term, ("DIOR-999", 1), who=resident, no_trip=True, key="x")
    sell(term, ("DIOR-999", 1), who=resident, no_trip=True, key="y")  # a purchase of its own
    assert books.immediate_differences() == []
    SaleLine.objects.filter(sale=first).update(pieces=2)  # as if it had been a set of two
    assert books.immediate_differences() == [
        f"sale {first.pk} (no trip): immediate pickup of cosmetics (SKU DIOR-999) 2 by judged "
        "sales, over the per-variety cap of 1"
    ]


def test_imported_immediate_pickups_over_a_cap_are_notes(term) -> None:
    rows = [
        legacy_row("LEGACY-IMM", "RAYBAN", 1, "1450.00", pickup="immediate"),
        legacy_row("LEGACY-IMM", "GM-SUN", 1, "2100.00", pickup="immediate"),
    ]
    report = import_sales(legacy_csv(*rows), now=timezone.now())
    assert report.imported == 1, report.errors  # history: not re-judged
    imported = Sale.objects.get(receipt_no="LEGACY-IMM")
    assert sorted(imported.lines.values_list("immediate_kind", flat=True)) == [
        "sunglasses",
        "sunglasses",
    ]
    rollups.refresh_all_dirty(now=timezone.now())
    result = books.check_books()
    assert result.differences == []
    assert result.notes == [
        f"trip {imported.trip_id}: immediate pickup of sunglasses 2 with imported sales "
        "(judged sales 0), over the cap of 1: imported sales are not judged"
    ]
    out, error = check()
    assert error is None
    assert "note trip" in out
    assert "sunglasses 2 with imported sales" in out


def test_sales_judged_without_the_list_are_not_held_to_it(term) -> None:
    """A line sold before its product had a kind (or by a policy without the list) has no
    kind on it: nothing to hold."""
    sell(term, ("RAYBAN", 1), key="a")
    other = sell(term, ("GM-SUN", 1), pickup="departure", key="b")
    SaleLine.objects.filter(sale=other).update(immediate_kind="")
    Sale.objects.filter(pk=other.pk).update(pickup="immediate")
    assert books.immediate_differences() == []
