"""quotas.rules at every boundary the policy draws. Pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from quotas import rules
from quotas.rules import (
    BasketLine,
    ProductFacts,
    ShopperFacts,
    TripFacts,
    Usage,
    Verdict,
    age_on,
    judge_basket,
    quota_year,
)
from tests.conftest import local
from tests.support.policies import ADULT, DOMESTIC, NOW, RESIDENT, shipped_rules

P2023 = shipped_rules("2023-04-01")
P2025 = shipped_rules("2025-11-01")

OUTBOUND = TripFacts(kind="outbound", mode="air", departs_at=local(2026, 3, 12, 10, 30))

LIPSTICK = ProductFacts("LIPSTICK", "cosmetics", Decimal("320.00"), immediate_kind="cosmetics")
SET_OF_5 = ProductFacts(
    "SKINCARE-SET-5", "cosmetics", Decimal("1600.00"), pieces=5, immediate_kind="cosmetics"
)
PHONE = ProductFacts("PHONE", "mobile_phones", Decimal("8999.00"))
WINE_750 = ProductFacts("WINE-750", "alcohol", Decimal("1200.00"), volume_ml=750)
WINE_751 = ProductFacts("WINE-751", "alcohol", Decimal("1200.00"), volume_ml=751)
SAKE_1 = ProductFacts("SAKE-1ML", "alcohol", Decimal("10.00"), volume_ml=1)
NO_VOLUME = ProductFacts("SPIRIT-NOVOL", "alcohol", Decimal("300.00"))
WATCH = ProductFacts("WATCH", "watches", Decimal("60000.00"))
PET_BED = ProductFacts("PET-BED", "pet_supplies", Decimal("499.00"))


def line(product: ProductFacts, quantity: object = 1) -> BasketLine:
    return BasketLine(sku=product.sku, quantity=quantity, product=product)


def priced(
    category: str, price: str, sku: str | None = None, kind: str | None = None
) -> ProductFacts:
    return ProductFacts(sku or f"{category}-{price}", category, Decimal(price), immediate_kind=kind)


def judge(
    *lines: BasketLine,
    policy: rules.PolicyRules = P2025,
    shopper: ShopperFacts = ADULT,
    trip: TripFacts | None = DOMESTIC,
    pickup: str = "departure",
    usage: Usage | None = None,
    at=NOW,
) -> Verdict:
    return judge_basket(
        policy=policy,
        shopper=shopper,
        trip=trip,
        pickup=pickup,
        lines=list(lines),
        usage=usage or Usage(),
        at=at,
    )


def codes(verdict: Verdict) -> list[str]:
    return [violation.code for violation in verdict.violations]


class TestShippedPolicies:
    def test_category_counts_and_ages(self) -> None:
        assert len(P2023.categories) == 45
        assert len(P2025.categories) == 47
        assert (P2023.min_age, P2025.min_age) == (16, 18)

    def test_limits_as_published(self) -> None:
        limits = {c.code: (c.limit_unit, c.limit_value) for c in P2025.limited_categories}
        assert limits == {
            "cosmetics": ("piece", 30),
            "alcohol": ("ml", 1500),
            "mobile_phones": ("piece", 4),
        }
        assert P2025.annual_limit == Decimal("100000.00")


class TestAge:
    def test_age_counts_completed_years(self) -> None:
        born = date(2007, 11, 20)
        assert age_on(born, date(2025, 11, 19)) == 17
        assert age_on(born, date(2025, 11, 20)) == 18

    def test_leap_day_birthday_comes_on_first_of_march(self) -> None:
        born = date(2008, 2, 29)
        assert age_on(born, date(2026, 2, 28)) == 17
        assert age_on(born, date(2026, 3, 1)) == 18
        assert age_on(born, date(2028, 2, 29)) == 20

    def test_day_before_the_eighteenth_birthday_is_underage(self) -> None:
        shopper = ShopperFacts(birth_date=date(2008, 3, 10))
        verdict = judge(line(LIPSTICK), shopper=shopper, at=local(2026, 3, 9, 23, 59, 59))
        assert codes(verdict) == ["underage"]
        assert verdict.violations[0].limit == 18
        assert verdict.violations[0].requested == 17

    def test_on_the_birthday_is_old_enough(self) -> None:
        shopper = ShopperFacts(birth_date=date(2008, 3, 10))
        assert judge(line(LIPSTICK), shopper=shopper, at=local(2026, 3, 10, 0, 0)).allowed

    def test_birthday_is_judged_on_the_shanghai_calendar_day(self) -> None:
        from datetime import UTC, datetime

        shopper = ShopperFacts(birth_date=date(2008, 3, 10))
        # 16:00 UTC on the 9th is already 00:00 on the 10th in Shanghai.
        assert judge(
            line(LIPSTICK), shopper=shopper, at=datetime(2026, 3, 9, 16, tzinfo=UTC)
        ).allowed
        too_early = datetime(2026, 3, 9, 15, 59, 59, tzinfo=UTC)
        assert codes(judge(line(LIPSTICK), shopper=shopper, at=too_early)) == ["underage"]

    def test_sixteen_was_enough_before_2025_11_01(self) -> None:
        shopper = ShopperFacts(birth_date=date(2008, 6, 1))  # 17 in October 2025
        trip = replace(DOMESTIC, departs_at=local(2025, 11, 2, 9, 0))
        before = judge(
            line(LIPSTICK),
            policy=P2023,
            shopper=shopper,
            trip=trip,
            at=local(2025, 10, 31, 23, 59, 59),
        )
        after = judge(
            line(LIPSTICK), policy=P2025, shopper=shopper, trip=trip, at=local(2025, 11, 1, 0, 0)
        )
        assert before.allowed
        assert codes(after) == ["underage"]

    def test_naive_time_is_refused(self) -> None:
        from datetime import datetime

        with pytest.raises(ValueError, match="aware"):
            judge(line(LIPSTICK), at=datetime(2026, 3, 10, 12))


class TestQuotaYear:
    def test_new_year_in_shanghai(self) -> None:
        from datetime import UTC, datetime

        assert quota_year(local(2026, 1, 1, 0, 30)) == 2026
        assert quota_year(datetime(2025, 12, 31, 16, 30, tzinfo=UTC)) == 2026
        assert quota_year(datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC)) == 2025


class TestTravellers:
    def test_outbound_travellers_only_from_2025_11_01(self) -> None:
        trip = replace(OUTBOUND, departs_at=local(2025, 11, 2, 9, 0))
        before = judge(line(LIPSTICK), policy=P2023, trip=trip, at=local(2025, 10, 31, 23, 59, 59))
        after = judge(line(LIPSTICK), policy=P2025, trip=trip, at=local(2025, 11, 1, 0, 0))
        assert codes(before) == ["traveller_not_eligible"]
        assert after.allowed

    @pytest.mark.parametrize(
        ("kind", "mode", "allowed"),
        [
            ("outbound", "air", True),
            ("outbound", "sea", True),
            ("outbound", "rail", False),  # an air or ship ticket leaving Hainan, not a train
            ("domestic", "rail", True),
            ("domestic", "air", True),
            ("domestic", "sea", True),
        ],
    )
    def test_outbound_travellers_leave_by_air_or_sea(
        self, kind: str, mode: str, allowed: bool
    ) -> None:
        verdict = judge(line(LIPSTICK), trip=replace(DOMESTIC, kind=kind, mode=mode))
        assert verdict.allowed is allowed
        if not allowed:
            (violation,) = verdict.violations
            assert (violation.code, violation.reason) == (
                "traveller_not_eligible",
                "outbound_by_rail",
            )
            assert "机票或船票" in violation.message_zh
            assert "air or ship ticket" in violation.message_en

    def test_outbound_by_rail_before_2025_11_01_is_refused_as_outbound(self) -> None:
        # The 2023-04-01 version admits no outbound traveller at all: one violation, not two.
        trip = replace(OUTBOUND, mode="rail")
        verdict = judge(line(LIPSTICK), policy=P2023, trip=trip)
        assert [(v.code, v.reason) for v in verdict.violations] == [
            ("traveller_not_eligible", "outbound")
        ]

    def test_residents_too_must_be_18_for_immediate_pickup_without_a_trip(self) -> None:
        resident = replace(RESIDENT, outbound_record_this_year=True)
        seventeen = replace(resident, birth_date=date(2008, 3, 11))
        eighteen = replace(resident, birth_date=date(2008, 3, 10))
        assert codes(judge(line(LIPSTICK), shopper=seventeen, trip=None, pickup="immediate")) == [
            "underage"
        ]
        assert judge(line(LIPSTICK), shopper=eighteen, trip=None, pickup="immediate").allowed

    def test_trip_is_required(self) -> None:
        assert codes(judge(line(LIPSTICK), trip=None)) == ["trip_required"]

    def test_resident_with_an_outbound_record_buys_immediate_without_a_trip(self) -> None:
        resident = replace(RESIDENT, outbound_record_this_year=True)
        assert judge(line(LIPSTICK), shopper=resident, trip=None, pickup="immediate").allowed

    @pytest.mark.parametrize(
        ("shopper", "pickup", "policy"),
        [
            (replace(RESIDENT, outbound_record_this_year=True), "departure", P2025),
            (replace(RESIDENT, outbound_record_this_year=True), "immediate", P2023),
            (RESIDENT, "immediate", P2025),
            (replace(ADULT, outbound_record_this_year=True), "immediate", P2025),
        ],
        ids=["not-immediate", "before-2025-11", "no-record", "not-resident"],
    )
    def test_without_the_resident_exception_a_trip_is_required(
        self, shopper, pickup, policy
    ) -> None:
        assert "trip_required" in codes(
            judge(line(LIPSTICK), shopper=shopper, trip=None, pickup=pickup, policy=policy)
        )

    def test_departed_trip(self) -> None:
        at_departure = judge(line(LIPSTICK), at=DOMESTIC.departs_at)
        a_second_before = judge(line(LIPSTICK), at=DOMESTIC.departs_at - timedelta(seconds=1))
        confirmed = judge(line(LIPSTICK), trip=replace(DOMESTIC, departed_at=local(2026, 3, 9)))
        assert codes(at_departure) == ["trip_departed"]
        assert a_second_before.allowed
        assert codes(confirmed) == ["trip_departed"]


class TestBan:
    def test_banned_until_the_end_of_the_ban(self) -> None:
        banned = replace(ADULT, banned_until=local(2026, 3, 10, 12, 0, 1))
        assert codes(judge(line(LIPSTICK), shopper=banned)) == ["banned"]

    def test_the_ban_ends_at_banned_until(self) -> None:
        served = replace(ADULT, banned_until=NOW)
        assert judge(line(LIPSTICK), shopper=served).allowed


class TestCategories:
    def test_unknown_sku(self) -> None:
        verdict = judge(BasketLine(sku="NOPE", quantity=1, product=None), line(LIPSTICK))
        assert codes(verdict) == ["unknown_sku"]
        assert verdict.violations[0].sku == "NOPE"
        assert verdict.total == Decimal("320.00")

    def test_pet_supplies_only_from_2025_11_01(self) -> None:
        trip = replace(DOMESTIC, departs_at=local(2025, 11, 2, 9, 0))
        before = judge(line(PET_BED), policy=P2023, trip=trip, at=local(2025, 10, 31, 23, 59, 59))
        after = judge(line(PET_BED), policy=P2025, trip=trip, at=local(2025, 11, 1, 0, 0))
        assert codes(before) == ["not_duty_free_category"]
        assert before.lines[0].violations[0].category == "pet_supplies"
        assert after.allowed

    @pytest.mark.parametrize("quantity", [0, -1, 1000, True, "2", 1.5, None])
    def test_invalid_quantity(self, quantity: object) -> None:
        verdict = judge(line(LIPSTICK, quantity))
        assert codes(verdict) == ["invalid_quantity"]
        assert verdict.total == Decimal("0.00")


class TestPerTripLimits:
    def test_thirty_cosmetics_pieces_pass_thirty_one_do_not(self) -> None:
        assert judge(line(LIPSTICK, 30)).allowed
        verdict = judge(line(LIPSTICK, 31))
        assert codes(verdict) == ["per_trip_limit_exceeded"]
        violation = verdict.violations[0]
        assert (violation.category, violation.unit, violation.limit) == ("cosmetics", "piece", 30)
        assert (violation.already, violation.requested) == (0, 31)

    def test_a_set_of_five_counts_five_pieces(self) -> None:
        assert judge(line(SET_OF_5, 6)).allowed  # 30 pieces
        assert codes(judge(line(SET_OF_5, 6), line(LIPSTICK))) == ["per_trip_limit_exceeded"]
        limits = {t.category.code: t for t in judge(line(SET_OF_5, 2)).trip_limits}
        assert limits["cosmetics"].requested == 10

    def test_what_the_trip_already_holds_counts(self) -> None:
        held = Usage(trip_used={"cosmetics": 25})
        assert judge(line(SET_OF_5), usage=held).allowed
        over = judge(line(SET_OF_5), line(LIPSTICK), usage=held)
        assert over.violations[0].already == 25
        assert over.violations[0].requested == 6

    def test_alcohol_1500_ml_pass_1501_do_not(self) -> None:
        assert judge(line(WINE_750, 2)).allowed
        assert codes(judge(line(WINE_750), line(WINE_751))) == ["per_trip_limit_exceeded"]
        assert judge(line(WINE_750), usage=Usage(trip_used={"alcohol": 750})).allowed
        assert codes(judge(line(SAKE_1), usage=Usage(trip_used={"alcohol": 1500}))) == [
            "per_trip_limit_exceeded"
        ]

    def test_alcohol_without_a_volume_cannot_be_counted(self) -> None:
        verdict = judge(line(NO_VOLUME))
        assert codes(verdict) == ["invalid_quantity"]
        assert verdict.violations[0].reason == "volume_unknown"

    def test_four_phones_pass_five_do_not(self) -> None:
        assert judge(line(PHONE, 4)).allowed
        assert codes(judge(line(PHONE, 5))) == ["per_trip_limit_exceeded"]
        assert codes(judge(line(PHONE, 2), usage=Usage(trip_used={"mobile_phones": 3}))) == [
            "per_trip_limit_exceeded"
        ]

    def test_trip_limits_report_every_limited_category(self) -> None:
        verdict = judge(line(LIPSTICK, 12), usage=Usage(trip_used={"alcohol": 700}))
        summary = {
            t.category.code: (t.used, t.requested, t.remaining_after) for t in verdict.trip_limits
        }
        assert summary == {
            "cosmetics": (0, 12, 18),
            "mobile_phones": (0, 0, 4),
            "alcohol": (700, 0, 800),
        }


class TestLinesCarryTheirViolations:
    """A violation caused by particular lines appears on them too (API.md), so a till can
    point at what to change; the basket lists it once."""

    def test_thirty_one_cosmetics_flag_their_line(self) -> None:
        verdict = judge(line(LIPSTICK, 31), line(PHONE))
        lipstick, phone = verdict.lines
        assert not lipstick.allowed
        assert [v.code for v in lipstick.violations] == ["per_trip_limit_exceeded"]
        assert lipstick.violations[0] == verdict.violations[0]
        assert phone.allowed
        assert phone.violations == ()
        assert codes(verdict) == ["per_trip_limit_exceeded"]  # once, not once per line

    def test_every_line_that_counts_towards_the_limit_is_flagged(self) -> None:
        held = Usage(trip_used={"cosmetics": 25})
        verdict = judge(line(SET_OF_5), line(LIPSTICK), line(WINE_750), usage=held)
        flagged = [[v.code for v in lv.violations] for lv in verdict.lines]
        assert flagged == [["per_trip_limit_exceeded"], ["per_trip_limit_exceeded"], []]
        assert codes(verdict) == ["per_trip_limit_exceeded"]

    def test_a_line_over_two_limits_lists_both(self) -> None:
        verdict = judge(line(LIPSTICK, 31), line(WINE_750, 3))
        assert [[v.category for v in lv.violations] for lv in verdict.lines] == [
            ["cosmetics"],
            ["alcohol"],
        ]

    def test_a_line_that_cannot_be_counted_is_flagged_for_that_only(self) -> None:
        verdict = judge(line(NO_VOLUME), line(WINE_750, 3))
        assert [[v.reason for v in lv.violations] for lv in verdict.lines] == [
            ["volume_unknown"],
            [None],
        ]

    def test_the_shoppers_own_refusals_stay_on_the_basket(self) -> None:
        verdict = judge(line(LIPSTICK), shopper=ShopperFacts(birth_date=date(2010, 1, 1)))
        assert codes(verdict) == ["underage"]
        assert verdict.lines[0].allowed

    def test_line_violations_are_basket_violations(self) -> None:
        verdict = judge(
            line(LIPSTICK, 31),
            line(PET_BED, 0),
            BasketLine(sku="NOPE", quantity=1, product=None),
            line(priced("watches", "30000.00")),
            pickup="immediate",
        )
        on_lines = {v for lv in verdict.lines for v in lv.violations}
        assert on_lines <= set(verdict.violations)
        by_line = {lv.sku: sorted({v.code for v in lv.violations}) for lv in verdict.lines}
        assert by_line == {
            "LIPSTICK": ["immediate_pickup_limit_exceeded", "per_trip_limit_exceeded"],
            "PET-BED": ["invalid_quantity", "pickup_not_allowed"],  # not on the list either
            "NOPE": ["unknown_sku"],
            "watches-30000.00": ["pickup_not_allowed"],
        }


class TestAnnualQuota:
    def test_exactly_the_limit_passes_one_fen_more_does_not(self) -> None:
        assert judge(line(priced("watches", "100000.00"))).allowed
        verdict = judge(line(priced("watches", "100000.01")))
        assert codes(verdict) == ["annual_quota_exceeded"]
        assert verdict.violations[0].requested == Decimal("100000.01")

    def test_what_was_used_this_year_counts(self) -> None:
        used = Usage(annual_used=Decimal("99999.99"))
        assert judge(line(priced("pens", "0.01")), usage=used).allowed
        verdict = judge(line(priced("pens", "0.02")), usage=used)
        assert codes(verdict) == ["annual_quota_exceeded"]
        assert verdict.remaining_after == Decimal("-0.01")

    def test_quantities_multiply_to_the_fen(self) -> None:
        verdict = judge(line(priced("pens", "33333.34"), 3))
        assert verdict.total == Decimal("100000.02")
        assert codes(verdict) == ["annual_quota_exceeded"]


class TestPickup:
    @pytest.mark.parametrize(
        ("price", "allowed"),
        [("19999.99", True), ("20000.00", False), ("49999.99", False), ("50000.00", False)],
    )
    def test_immediate_needs_a_unit_price_below_20000(self, price: str, allowed: bool) -> None:
        verdict = judge(line(priced("perfume", price, kind="perfume")), pickup="immediate")
        assert verdict.allowed is allowed
        if not allowed:
            assert verdict.violations[0].reason == "immediate_unit_price"

    @pytest.mark.parametrize(
        ("price", "allowed"),
        [("19999.99", False), ("20000.00", False), ("49999.99", False), ("50000.00", True)],
    )
    def test_guarantee_needs_a_unit_price_of_50000(self, price: str, allowed: bool) -> None:
        verdict = judge(line(priced("watches", price)), pickup="guarantee")
        assert verdict.allowed is allowed
        if not allowed:
            assert codes(verdict) == ["pickup_not_allowed"]
            assert verdict.violations[0].reason == "guarantee_unit_price"

    @pytest.mark.parametrize("price", ["19999.99", "20000.00", "49999.99", "50000.00"])
    @pytest.mark.parametrize("pickup", ["departure", "mail"])
    def test_departure_and_mail_take_any_price(self, pickup: str, price: str) -> None:
        assert judge(line(priced("watches", price)), pickup=pickup).allowed

    @pytest.mark.parametrize("price", ["19999.99", "20000.00", "49999.99", "50000.00"])
    def test_return_pickup_is_for_residents(self, price: str) -> None:
        product = priced("watches", price)
        assert judge(line(product), shopper=RESIDENT, pickup="return_to_island").allowed
        visitor = judge(line(product), shopper=ADULT, pickup="return_to_island")
        assert [v.reason for v in visitor.violations] == ["residents_only"]

    def test_immediate_only_for_kinds_on_the_list(self) -> None:
        verdict = judge(line(priced("watches", "5000.00")), pickup="immediate")
        assert [v.reason for v in verdict.violations] == ["kind_not_immediate"]

    @pytest.mark.parametrize("pickup", ["mail", "return_to_island", "immediate", "guarantee"])
    def test_outbound_travellers_collect_at_departure_only(self, pickup: str) -> None:
        verdict = judge(
            line(priced("watches", "50000.00")), shopper=RESIDENT, trip=OUTBOUND, pickup=pickup
        )
        assert "outbound_departure_only" in [v.reason for v in verdict.violations]
        assert judge(line(LIPSTICK), trip=OUTBOUND, pickup="departure").allowed

    def test_a_mode_the_policy_does_not_list(self) -> None:
        no_mail = replace(P2025, pickup_modes=frozenset({"departure"}))
        verdict = judge(line(LIPSTICK), policy=no_mail, pickup="mail")
        assert [v.reason for v in verdict.violations] == ["mode_not_in_policy"]


class TestEveryViolationAtOnce:
    def test_all_violations_are_listed_in_a_stable_order(self) -> None:
        shopper = ShopperFacts(birth_date=date(2010, 1, 1), banned_until=local(2027, 1, 1))
        verdict = judge(
            BasketLine(sku="NOPE", quantity=1, product=None),
            line(PET_BED, 0),
            line(LIPSTICK, 31),
            line(WATCH, 2),
            shopper=shopper,
            pickup="immediate",
            usage=Usage(annual_used=Decimal("1.00")),
        )
        assert codes(verdict) == [
            "underage",
            "banned",
            "invalid_quantity",
            "unknown_sku",
            "pickup_not_allowed",  # pet supplies: not on the immediate list
            "pickup_not_allowed",  # watch: not on the immediate list
            "pickup_not_allowed",  # watch: unit price not below 20,000
            "per_trip_limit_exceeded",
            "immediate_pickup_limit_exceeded",  # cosmetics: 31 pieces, cap 5
            "immediate_pickup_limit_exceeded",  # and 31 of one variety, cap 1
            "annual_quota_exceeded",
        ]
        assert not verdict.allowed
        by_sku = {lv.sku: [v.code for v in lv.violations] for lv in verdict.lines}
        assert by_sku["WATCH"] == ["pickup_not_allowed", "pickup_not_allowed"]
        assert by_sku["PET-BED"] == ["invalid_quantity", "pickup_not_allowed"]
        assert by_sku["LIPSTICK"] == [  # the line that caused them
            "per_trip_limit_exceeded",
            "immediate_pickup_limit_exceeded",
            "immediate_pickup_limit_exceeded",
        ]

    def test_messages_in_both_languages(self) -> None:
        violation = judge(line(PHONE, 5)).violations[0]
        assert violation.message("zh-hans") == ("手机每次离岛限购4件：本行程已购0件，本次5件。")
        assert violation.message("en") == (
            "Mobile phones: at most 4 pieces per trip; already 0, this basket 5."
        )
        assert violation.message(None) == violation.message("zh-hans")


class TestVerdictFigures:
    def test_quota_figures(self) -> None:
        verdict = judge(line(LIPSTICK, 2), usage=Usage(annual_used=Decimal("98000.00")))
        assert verdict.total == Decimal("640.00")
        assert verdict.remaining == Decimal("2000.00")
        assert verdict.remaining_after == Decimal("1360.00")
        assert verdict.lines[0].amount == Decimal("640.00")
        assert verdict.lines[0].category is not None
        assert verdict.lines[0].category.code == "cosmetics"
