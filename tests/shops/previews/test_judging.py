"""A policy preview judges the recorded sales of a window again under another version, with the
pure rules: as of each sale's own time, with the shopper as recorded then, and the usage the
shopper and the trip had just before it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from quotas.models import Category, Policy
from quotas.rules import LOCAL_TZ
from quotas.services import policy_clone
from shops.imports.batching import import_sales
from shops.models import PolicyPreview, Sale
from shops.previews.services import preview_request, preview_run
from tests.conftest import local
from tests.support.legacy import legacy_csv, legacy_row
from tests.support.sales import sell
from tests.support.shop import resident_id, shopper, terminal, trip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]


def in_force() -> Policy:
    return Policy.objects.filter(status="published").order_by("-effective_from").first()


def draft(**changes: object) -> Policy:
    """A draft of the version in force, with ``changes`` to its own fields."""
    policy = policy_clone(policy=in_force())
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.save()
    return policy


def today() -> date:
    return timezone.now().astimezone(LOCAL_TZ).date()


def preview(policy: Policy, start: date | None = None, end: date | None = None) -> dict:
    """The result of ``policy`` previewed over ``start``–``end`` (today unless said), run here
    as the worker would."""
    asked, created = preview_request(
        policy_id=policy.pk, start=start or today(), end=end or today(), now=timezone.now()
    )
    assert created
    done = preview_run(asked.pk, clock=timezone.now)
    assert done is not None
    assert done.status == "done", done.error
    assert done.result is not None
    return done.result


class TestAge:
    def test_a_raised_age_floor_refuses_the_young_shoppers_sale_and_not_the_adults(self) -> None:
        till, _ = terminal()
        now = timezone.now()
        young_birth = now.astimezone(LOCAL_TZ).date().replace(year=now.year - 19) + timedelta(1)
        young = shopper(resident_id(1, young_birth), birth=young_birth, name="年轻人")
        adult = shopper(resident_id(2), name="成年人")
        kept = sell(till, ("LIP", 1), who=young, on=trip("HU1"))  # 18 today
        sell(till, ("LIP", 1), who=adult, on=trip("HU2"))
        assert Sale.objects.get(pk=kept.sale_id).shopper_age == 18

        result = preview(draft(min_age=19))

        assert result["sales"] == 2
        assert result["refused"]["sales"] == 1
        assert result["refused"]["by_code"] == {
            "underage": {"sales": 1, "lines": 1, "amount": "320.00"}
        }
        (example,) = result["refused"]["examples"]
        assert example["receipt_no"] == Sale.objects.get(pk=kept.sale_id).receipt_no
        assert example["codes"] == ["underage"]


class TestPerTripLimit:
    def test_a_lower_limit_counts_what_the_trip_held_from_earlier_sales(self) -> None:
        till, _ = terminal()
        other, _ = terminal("SYA-HTB")
        on = trip("HU7001")
        first = sell(till, ("LIP", 10), on=on)  # 10 pieces
        second = sell(other, ("LIP", 6), on=on)  # 16 on the trip
        third = sell(till, ("SET5", 1), on=on)  # 21 on the trip
        assert first.sale_id
        policy = draft()
        Category.objects.filter(policy=policy, code="cosmetics").update(per_trip_limit_value=15)

        result = preview(policy)

        refused = {e["receipt_no"] for e in result["refused"]["examples"]}
        receipts = dict(Sale.objects.values_list("pk", "receipt_no"))
        # The first basket alone (10) is within 15; the next two go over only with what the
        # trip held before them.
        assert refused == {receipts[second.sale_id], receipts[third.sale_id]}
        assert result["refused"]["by_code"]["per_trip_limit_exceeded"]["sales"] == 2
        assert result["refused"]["by_category"]["cosmetics"] == {
            "sales": 2,
            "lines": 2,
            "amount": "3520.00",
        }


class TestCategoryRemoved:
    def test_a_category_removed_refuses_its_lines(self) -> None:
        till, _ = terminal()
        sell(till, ("WINE750", 1), ("LIP", 1), on=trip("HU3"))
        sell(till, ("LIP", 2), number=3, on=trip("HU4"))
        policy = draft()
        Category.objects.filter(policy=policy, code="alcohol").delete()

        result = preview(policy)

        assert result["refused"]["sales"] == 1
        assert result["refused"]["by_code"] == {
            "not_duty_free_category": {"sales": 1, "lines": 2, "amount": "1520.00"}
        }
        assert result["refused"]["by_category"]["alcohol"] == {
            "sales": 1,
            "lines": 1,
            "amount": "1200.00",
        }


class TestVersionInForce:
    def test_it_refuses_no_sale_the_engine_judged(self) -> None:
        till, _ = terminal()
        on = trip("HU7002")
        sell(till, ("LIP", 10), on=on)
        sell(till, ("LIP", 10), on=on)
        sell(till, ("SET5", 2), on=on)  # 30 pieces: the limit, reached
        sell(till, ("WINE750", 2), number=5, on=trip("HU5"))  # 1,500 ml
        sell(till, ("PHONE", 4), number=6, on=trip("HU6"))
        sell(till, ("RAYBAN", 1), number=7, pickup="immediate", on=trip("HU8"))

        result = preview(in_force())

        assert result["sales"] == 6
        assert result["refused"]["sales"] == 0, result["refused"]

    def test_a_sale_judged_by_an_earlier_version_is_judged_under_the_previewed_one(
        self,
    ) -> None:
        till, _ = terminal()
        at = local(2025, 10, 15, 12, 0)  # the 45-category version: 16 and over
        birth = date(2008, 6, 1)  # 17 then
        young = shopper(resident_id(8, birth), birth=birth, name="少年")
        old = sell(till, ("LIP", 1), who=young, at=at, departs_after=timedelta(days=2))
        sale = Sale.objects.get(pk=old.sale_id)
        assert sale.policy_id != in_force().pk
        assert sale.shopper_age == 17

        result = preview(in_force(), date(2025, 10, 15), date(2025, 10, 15))

        assert result["sales"] == 1
        assert result["refused"]["by_code"] == {
            "underage": {"sales": 1, "lines": 1, "amount": "320.00"}
        }


class TestUsageAsRecorded:
    def test_a_sale_voided_or_returned_before_a_later_one_no_longer_counts_for_it(
        self, django_capture_on_commit_callbacks: object
    ) -> None:
        till, key = terminal()
        on = trip("HU7003")
        api = Client(headers={"authorization": f"Bearer {key}"})
        voided = sell(till, ("LIP", 10), on=on)
        returned = sell(till, ("LIP", 10), on=on)
        answer = api.post(
            f"/api/v1/sales/{voided.sale_id}/void",
            {},
            content_type="application/json",
            headers={"idempotency-key": "v1"},
        )
        assert answer.status_code == 200, answer.content
        line = api.get(f"/api/v1/sales/{returned.sale_id}").json()["lines"][0]["id"]
        answer = api.post(
            f"/api/v1/sales/{returned.sale_id}/returns",
            {"lines": [{"line": line, "quantity": 8}]},
            content_type="application/json",
            headers={"idempotency-key": "r1"},
        )
        assert answer.status_code == 201, answer.content
        later = sell(till, ("LIP", 12), on=on)  # the trip holds 2 + 12 = 14
        policy = draft()
        Category.objects.filter(policy=policy, code="cosmetics").update(per_trip_limit_value=15)

        result = preview(policy)

        # Judged as each was sold: the second with the first still held (20 > 15), the last
        # with what was left after the void and the return (14).
        refused = {e["receipt_no"] for e in result["refused"]["examples"]}
        assert refused == {Sale.objects.get(pk=returned.sale_id).receipt_no}
        assert result["sales"] == 2  # the voided sale is no completed sale of the window
        assert later.sale_id


class TestRecorded:
    def test_imported_sales_are_judged_and_counted(self) -> None:
        report = import_sales(
            legacy_csv(legacy_row("OLD-1", "LIP", 40, "320.00")), now=timezone.now()
        )
        assert report.imported == 1, report

        result = preview(in_force(), date(2026, 3, 2), date(2026, 3, 2))

        assert result["imported"] == {"sales": 1, "refused": 1}
        assert result["refused"]["by_code"]["per_trip_limit_exceeded"]["sales"] == 1
        assert result["refused"]["examples"][0]["imported"] is True

    def test_a_sale_recorded_without_the_age_is_judged_with_the_oldest_age_possible(
        self,
    ) -> None:
        till, _ = terminal()
        at = local(2026, 6, 1, 12, 0)
        birth = date(2007, 12, 31)  # 18 on the day, 19 by the year's end
        young = shopper(resident_id(9, birth), birth=birth, name="少年")
        made = sell(till, ("LIP", 1), who=young, at=at, departs_after=timedelta(days=2))
        day = date(2026, 6, 1)
        stricter = draft(min_age=19)
        assert preview(stricter, day, day)["refused"]["by_code"]["underage"]["sales"] == 1

        Sale.objects.filter(pk=made.sale_id).update(shopper_age=None, shopper_resident=None)
        result = preview(stricter, day, day)

        # Only the year of birth is known: 2026 - 2007, the oldest the shopper could have been.
        assert result["approximated"] == 1
        assert result["refused"]["sales"] == 0

    def test_nothing_is_written_but_the_preview(self) -> None:
        till, _ = terminal()
        sell(till, ("LIP", 1), on=trip("HU10"))
        before = list(Sale.objects.values_list("pk", "status", "returned_amount", "total"))

        preview(draft(min_age=60))

        assert list(Sale.objects.values_list("pk", "status", "returned_amount", "total")) == before
        assert PolicyPreview.objects.count() == 1
