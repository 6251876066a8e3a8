"""dutyfree.money: the one place amounts are parsed and rounded."""

from decimal import Decimal

import pytest

from dutyfree import money


class TestParse:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1234.50", "1234.50"),
            ("0.1", "0.10"),
            (7, "7.00"),
            (Decimal("3.5"), "3.50"),
            (" 12.00 ", "12.00"),
        ],
    )
    def test_accepts_decimal_strings_ints_and_decimals(self, value: object, expected: str) -> None:
        assert money.parse(value) == Decimal(expected)
        assert money.to_str(money.parse(value)) == expected

    @pytest.mark.parametrize(
        "value",
        [0.1, 1.0, True, None, "abc", "NaN", "Infinity", "1.005", "1e400", [], "9" * 20],
    )
    def test_refuses_floats_and_non_amounts(self, value: object) -> None:
        with pytest.raises(money.MoneyError):
            money.parse(value)


class TestRounding:
    def test_half_up_to_the_fen(self) -> None:
        assert money.quantize(Decimal("0.005")) == Decimal("0.01")
        assert money.quantize(Decimal("0.0049")) == Decimal("0.00")
        assert money.quantize(Decimal("-0.005")) == Decimal("-0.01")

    def test_line_totals_and_sums(self) -> None:
        assert money.line_total(Decimal("33333.34"), 3) == Decimal("100000.02")
        assert money.total([Decimal("0.10")] * 10) == Decimal("1.00")
        assert money.total([]) == Decimal("0.00")
