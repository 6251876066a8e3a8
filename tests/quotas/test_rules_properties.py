"""Properties of quotas.rules.judge_basket that must hold for every basket (hypothesis)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from quotas.rules import (
    BasketLine,
    ProductFacts,
    ShopperFacts,
    TripFacts,
    Usage,
    judge_basket,
)
from tests.conftest import SHANGHAI
from tests.support.policies import shipped_rules

POLICIES = [shipped_rules("2023-04-01"), shipped_rules("2025-11-01")]
PICKUPS = ["departure", "mail", "return_to_island", "immediate", "guarantee"]
CATEGORIES = [
    "cosmetics",
    "alcohol",
    "mobile_phones",
    "perfume",
    "watches",
    "pet_supplies",
    "tea",
    "cigarettes",  # never a duty-free category
]

prices = st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal("120000.00"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
products = st.one_of(
    st.none(),
    st.builds(
        ProductFacts,
        sku=st.sampled_from(["A", "B", "C", "D", "E"]),
        category_code=st.sampled_from(CATEGORIES),
        unit_price=prices,
        volume_ml=st.one_of(st.none(), st.integers(min_value=1, max_value=1600)),
        pieces=st.integers(min_value=1, max_value=6),
    ),
)
quantities = st.one_of(
    st.integers(min_value=1, max_value=12),
    st.sampled_from([0, -1, 1000, True, "3", 2.5]),
)


@st.composite
def basket_lines(draw: st.DrawFn) -> BasketLine:
    product = draw(products)
    sku = product.sku if product else draw(st.sampled_from(["X", "Y"]))
    return BasketLine(sku=sku, quantity=draw(quantities), product=product)


instants = st.datetimes(
    min_value=datetime(2023, 4, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.just(SHANGHAI),
)


@st.composite
def situations(draw: st.DrawFn) -> dict:
    at = draw(instants)
    trip = draw(
        st.one_of(
            st.none(),
            st.builds(
                TripFacts,
                kind=st.sampled_from(["domestic", "outbound"]),
                mode=st.sampled_from(["air", "rail", "sea"]),
                departs_at=st.integers(min_value=-2 * 86400, max_value=10 * 86400).map(
                    lambda s: at + timedelta(seconds=s)
                ),
            ),
        )
    )
    shopper = ShopperFacts(
        birth_date=draw(st.dates(min_value=date(1940, 1, 1), max_value=date(2015, 12, 31))),
        hainan_resident=draw(st.booleans()),
        outbound_record_this_year=draw(st.booleans()),
        banned_until=draw(st.one_of(st.none(), instants)),
    )
    usage = Usage(
        annual_used=draw(st.decimals(min_value=0, max_value=100000, places=2)),
        trip_used={
            "cosmetics": draw(st.integers(0, 30)),
            "alcohol": draw(st.integers(0, 1500)),
            "mobile_phones": draw(st.integers(0, 4)),
        },
    )
    return {
        "policy": draw(st.sampled_from(POLICIES)),
        "shopper": shopper,
        "trip": trip,
        "pickup": draw(st.sampled_from(PICKUPS)),
        "usage": usage,
        "at": at,
    }


def judge(situation: dict, lines: list[BasketLine]):
    return judge_basket(lines=lines, **situation)


@given(situation=situations(), lines=st.lists(basket_lines(), max_size=6), extra=basket_lines())
def test_adding_a_line_never_turns_a_refusal_into_an_approval(situation, lines, extra) -> None:
    before = judge(situation, lines)
    after = judge(situation, [*lines, extra])
    if not before.allowed:
        assert not after.allowed
    # Stronger: every kind of violation found before is still there after.
    assert {v.code for v in before.violations} <= {v.code for v in after.violations}


@given(situation=situations(), lines=st.lists(basket_lines(), max_size=7), data=st.data())
def test_the_verdict_never_depends_on_line_order(situation, lines, data) -> None:
    shuffled = data.draw(st.permutations(lines))
    first, second = judge(situation, lines), judge(situation, list(shuffled))
    assert first.allowed == second.allowed
    assert first.violations == second.violations
    assert first.total == second.total
    assert first.trip_limits == second.trip_limits
    assert Counter((lv.sku, lv.violations) for lv in first.lines) == Counter(
        (lv.sku, lv.violations) for lv in second.lines
    )


@given(situation=situations(), lines=st.lists(basket_lines(), max_size=7))
def test_an_approved_basket_is_within_every_limit(situation, lines) -> None:
    verdict = judge(situation, lines)
    assert verdict.total == sum(
        (lv.amount for lv in verdict.lines if lv.amount is not None), Decimal("0.00")
    )
    assert verdict.allowed == (not verdict.violations)
    if verdict.allowed:
        assert verdict.remaining_after >= 0
        assert all(limit.remaining_after >= 0 for limit in verdict.trip_limits)
        assert all(lv.allowed for lv in verdict.lines)
