"""Immediate pickup (即购即提) as announcement 2023 No. 25 wrote it: 15 kinds, each capped per
departure, cosmetics also per variety; physical stores only; unit price below 20,000.
Pure rules at every boundary: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from quotas import rules
from quotas.rules import BasketLine, ProductFacts, ShopperFacts, Usage, Verdict, judge_basket
from tests.support.policies import ADULT, DOMESTIC, NOW, RESIDENT, shipped_rules

P2023 = shipped_rules("2023-04-01")
P2025 = shipped_rules("2025-11-01")


def product(sku: str, kind: str | None, category: str, price: str = "300.00", **facts):
    return ProductFacts(sku, category, Decimal(price), immediate_kind=kind, **facts)


SUNGLASSES = product("RAYBAN-AVIATOR", "sunglasses", "eyewear", "1450.00")
OTHER_SUNGLASSES = product("GENTLE-MONSTER-1", "sunglasses", "eyewear", "2100.00")
READING_GLASSES = product("READING-2.0", None, "eyewear", "400.00")  # eyewear, not sunglasses
DIAPERS = product("MERRIES-L", "diapers", "diapers", "189.00")
LIPSTICK_A = product("DIOR-999", "cosmetics", "cosmetics", "320.00")
LIPSTICK_B = product("YSL-1966", "cosmetics", "cosmetics", "350.00")
CREAM = product("LAMER-30", "cosmetics", "cosmetics", "2600.00")
SET_OF_3 = product("SK2-TRIO", "cosmetics", "cosmetics", "1800.00", pieces=3)
ADAPTER = product("ADAPTER-UNI", "travel_adapters", "electronic_consumer_products", "120.00")
PERFUME = product("CHANEL-5-100", "perfume", "perfume", "1500.00")


def line(item: ProductFacts, quantity: object = 1) -> BasketLine:
    return BasketLine(sku=item.sku, quantity=quantity, product=item)


def judge(
    *lines: BasketLine,
    policy: rules.PolicyRules = P2025,
    shopper: ShopperFacts = ADULT,
    trip=DOMESTIC,
    pickup: str = "immediate",
    usage: Usage | None = None,
    physical_store: bool = True,
) -> Verdict:
    return judge_basket(
        policy=policy,
        shopper=shopper,
        trip=trip,
        pickup=pickup,
        lines=list(lines),
        usage=usage or Usage(),
        at=NOW,
        physical_store=physical_store,
    )


def codes(verdict: Verdict) -> list[str]:
    return [v.code for v in verdict.violations]


def limit_of(verdict: Verdict, kind: str) -> rules.ImmediateLimit:
    return next(limit for limit in verdict.immediate_limits if limit.kind.code == kind)


class TestTheList:
    @pytest.mark.parametrize("policy", [P2023, P2025], ids=["2023-04-01", "2025-11-01"])
    def test_both_versions_list_the_15_kinds_with_their_caps(self, policy) -> None:
        caps = {code: (k.per_trip, k.per_variety) for code, k in policy.immediate_kinds.items()}
        assert caps == {
            "cosmetics": (5, 1),
            "perfume": (1, None),
            "sunglasses": (1, None),
            "clothing": (1, None),
            "silk_scarves": (1, None),
            "footwear_hats": (1, None),
            "bags": (1, None),
            "diapers": (3, None),
            "infant_formula": (3, None),
            "confectionery": (3, None),
            "razors": (1, None),
            "travel_adapters": (1, None),
            "sporting_goods": (1, None),
            "toys": (1, None),
            "belts": (1, None),
        }
        assert policy.immediate_kinds["sunglasses"].category_code == "eyewear"
        assert policy.immediate_kinds["travel_adapters"].category_code is None
        assert [k.code for k in policy.immediate_kinds.values() if k.counts_pieces] == ["cosmetics"]

    def test_a_categorys_flag_is_derived_from_its_kinds(self) -> None:
        assert P2025.categories["eyewear"].immediate_pickup  # through sunglasses
        assert P2025.categories["cosmetics"].immediate_pickup
        assert not P2025.categories["watches"].immediate_pickup
        assert not P2025.categories["mobile_phones"].immediate_pickup


class TestCapPerDeparture:
    def test_one_pair_of_sunglasses_passes_a_second_does_not(self) -> None:
        assert judge(line(SUNGLASSES)).allowed
        verdict = judge(line(SUNGLASSES), line(OTHER_SUNGLASSES))
        assert codes(verdict) == ["immediate_pickup_limit_exceeded"]
        over = verdict.violations[0]
        assert (over.kind, over.unit, over.limit, over.already, over.requested, over.sku) == (
            "sunglasses",
            "item",
            1,
            0,
            2,
            None,
        )
        # Both lines caused it, both carry it.
        assert [lv.violations for lv in verdict.lines] == [(over,), (over,)]

    def test_ten_pairs_on_one_line(self) -> None:
        verdict = judge(line(SUNGLASSES, 10))
        assert codes(verdict) == ["immediate_pickup_limit_exceeded"]
        assert verdict.violations[0].requested == 10

    @pytest.mark.parametrize(
        ("already", "quantity", "allowed"),
        [(0, 3, True), (0, 4, False), (2, 1, True), (2, 2, False), (3, 1, False)],
    )
    def test_diapers_three_packs_counting_what_the_departure_holds(
        self, already: int, quantity: int, allowed: bool
    ) -> None:
        usage = Usage(immediate_used={"diapers": already})
        verdict = judge(line(DIAPERS, quantity), usage=usage)
        assert verdict.allowed is allowed
        held = limit_of(verdict, "diapers")
        assert (held.limit, held.used, held.requested) == (3, already, quantity)
        assert held.remaining_after == 3 - already - quantity
        if not allowed:
            assert verdict.violations[0].already == already

    def test_cosmetics_count_the_pieces_inside_a_set(self) -> None:
        # Five different varieties, one each: the cap exactly.
        five = [product(f"LIP-{n}", "cosmetics", "cosmetics") for n in range(5)]
        assert judge(*(line(p) for p in five)).allowed
        six = [*five, product("LIP-5", "cosmetics", "cosmetics")]
        assert codes(judge(*(line(p) for p in six))) == ["immediate_pickup_limit_exceeded"]
        # A set of three plus two lipsticks: 5 pieces; plus a cream: 6.
        assert limit_of(judge(line(SET_OF_3)), "cosmetics").requested == 3
        verdict = judge(line(SET_OF_3), line(LIPSTICK_A), line(LIPSTICK_B), line(CREAM))
        over = [v for v in verdict.violations if v.sku is None]
        assert [(v.kind, v.unit, v.limit, v.requested) for v in over] == [
            ("cosmetics", "piece", 5, 6)
        ]

    def test_kinds_are_capped_apart(self) -> None:
        verdict = judge(line(SUNGLASSES), line(PERFUME), line(ADAPTER), line(DIAPERS, 3))
        assert verdict.allowed
        assert {
            lim.kind.code: lim.requested for lim in verdict.immediate_limits if lim.requested
        } == {
            "sunglasses": 1,
            "perfume": 1,
            "travel_adapters": 1,
            "diapers": 3,
        }
        assert len(verdict.immediate_limits) == 15


class TestCapPerVariety:
    def test_two_of_one_lipstick_are_refused_two_varieties_are_not(self) -> None:
        assert judge(line(LIPSTICK_A), line(LIPSTICK_B)).allowed
        verdict = judge(line(LIPSTICK_A, 2))
        assert codes(verdict) == ["immediate_pickup_limit_exceeded"]
        over = verdict.violations[0]
        assert (over.kind, over.sku, over.limit, over.already, over.requested) == (
            "cosmetics",
            "DIOR-999",
            1,
            0,
            2,
        )

    def test_the_same_sku_on_two_lines_is_one_variety(self) -> None:
        verdict = judge(line(LIPSTICK_A), line(LIPSTICK_B), line(LIPSTICK_A))
        assert [(v.sku, v.requested) for v in verdict.violations] == [("DIOR-999", 2)]
        # The lines of that SKU carry it; the other variety's line does not.
        assert [bool(lv.violations) for lv in verdict.lines] == [True, False, True]

    def test_what_the_departure_holds_of_that_variety_counts(self) -> None:
        usage = Usage(
            immediate_used={"cosmetics": 1}, immediate_sku_used={("cosmetics", "DIOR-999"): 1}
        )
        verdict = judge(line(LIPSTICK_A), usage=usage)
        assert [(v.sku, v.already, v.requested) for v in verdict.violations] == [("DIOR-999", 1, 1)]
        assert judge(line(LIPSTICK_B), usage=usage).allowed

    def test_a_set_of_three_is_three_pieces_of_one_variety(self) -> None:
        verdict = judge(line(SET_OF_3))
        assert [(v.sku, v.limit, v.requested) for v in verdict.violations] == [("SK2-TRIO", 1, 3)]

    def test_both_caps_at_once(self) -> None:
        verdict = judge(line(LIPSTICK_A, 6))
        assert [(v.sku, v.limit) for v in verdict.violations] == [(None, 5), ("DIOR-999", 1)]


class TestWhatIsNotCapped:
    @pytest.mark.parametrize("pickup", ["departure", "mail", "guarantee"])
    def test_other_pickups_are_not_capped_by_the_list(self, pickup: str) -> None:
        verdict = judge(line(SUNGLASSES, 10), pickup=pickup)
        assert "immediate_pickup_limit_exceeded" not in codes(verdict)
        assert verdict.immediate_limits == ()

    def test_a_resident_without_a_trip_is_capped_per_purchase(self) -> None:
        resident = replace(RESIDENT, outbound_record_this_year=True)
        assert judge(line(SUNGLASSES), shopper=resident, trip=None).allowed
        verdict = judge(line(SUNGLASSES, 2), shopper=resident, trip=None)
        assert codes(verdict) == ["immediate_pickup_limit_exceeded"]


class TestWhatMayBePickedUpAtOnce:
    def test_a_product_without_a_kind_is_refused(self) -> None:
        verdict = judge(line(READING_GLASSES))  # eyewear, but not sunglasses
        assert codes(verdict) == ["pickup_not_allowed"]
        refusal = verdict.violations[0]
        assert (refusal.reason, refusal.sku, refusal.category, refusal.kind) == (
            "kind_not_immediate",
            "READING-2.0",
            "eyewear",
            None,
        )
        assert verdict.lines[0].violations == (refusal,)

    def test_a_kind_the_policy_does_not_list_is_refused(self) -> None:
        without = replace(
            P2025,
            immediate_kinds={c: k for c, k in P2025.immediate_kinds.items() if c != "sunglasses"},
        )
        verdict = judge(line(SUNGLASSES), policy=without)
        assert [(v.reason, v.kind) for v in verdict.violations] == [
            ("kind_not_immediate", "sunglasses")
        ]

    @pytest.mark.parametrize(("price", "allowed"), [("19999.99", True), ("20000.00", False)])
    def test_the_unit_price_ceiling(self, price: str, allowed: bool) -> None:
        bag = product("HERMES-EVELYNE", "bags", "bags_luggage", price)
        verdict = judge(line(bag))
        assert verdict.allowed is allowed
        if not allowed:
            assert [v.reason for v in verdict.violations] == ["immediate_unit_price"]

    def test_an_online_store_never_sells_with_immediate_pickup(self) -> None:
        verdict = judge(line(SUNGLASSES), physical_store=False)
        assert [(v.code, v.reason) for v in verdict.violations] == [
            ("pickup_not_allowed", "online_store")
        ]
        assert judge(line(SUNGLASSES), pickup="departure", physical_store=False).allowed


class TestMessages:
    def test_in_both_languages_with_the_kinds_unit(self) -> None:
        over = judge(line(DIAPERS, 4), usage=Usage(immediate_used={"diapers": 0})).violations[0]
        assert over.message("zh-hans") == "尿不湿即购即提每次离岛限3包：本次离岛已提0包，本次4包。"
        assert over.message("en") == (
            "Diapers: at most 3 (unit: pack) per departure by immediate pickup; already 0, "
            "this basket 4."
        )
        variety = judge(line(LIPSTICK_A, 2)).violations[0]
        assert "单一品种限1件" in variety.message("zh-hans")
        assert "'DIOR-999'" in variety.message("en")

    def test_a_refused_kind_is_explained(self) -> None:
        refusal = judge(line(READING_GLASSES)).violations[0]
        assert "即购即提" in refusal.message("zh-hans")
        assert "immediate-pickup list" in refusal.message("en")


def test_a_basket_within_every_cap_is_allowed_and_says_what_is_left() -> None:
    verdict = judge(
        line(LIPSTICK_A),
        line(LIPSTICK_B),
        line(SUNGLASSES),
        usage=Usage(immediate_used={"cosmetics": 2}),
        shopper=ShopperFacts(birth_date=date(1980, 5, 5)),
    )
    assert verdict.allowed
    cosmetics = limit_of(verdict, "cosmetics")
    assert (cosmetics.used, cosmetics.requested, cosmetics.remaining_after) == (2, 2, 1)
    assert limit_of(verdict, "sunglasses").remaining_after == 0
