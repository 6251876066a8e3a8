"""Resident identity numbers (GB 11643): the check character, and the numbers the project
shows people — the demo shopper that README, `make run` and the schema's examples give — carry
a right one, so a reader who checks them is not misled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quotas import identity
from shops.demo import seed as demo

ROOT = Path(__file__).resolve().parents[2]


class TestCheckCharacter:
    @pytest.mark.parametrize(
        "number",
        ["11010519491231002X", "440524188001010014", "460100199001011230"],
        ids=["X", "digit", "demo"],
    )
    def test_known_numbers_pass(self, number: str) -> None:
        assert identity.resident_id_check_digit_ok(number)

    def test_a_wrong_check_character_or_shape_fails(self) -> None:
        assert not identity.resident_id_check_digit_ok("460100199001011234")
        assert not identity.resident_id_check_digit_ok("46010019900101123")


def test_the_demo_shopper_and_every_example_carry_a_right_check_character() -> None:
    assert identity.resident_id_check_digit_ok(demo.DEMO_SHOPPER["number"])
    shown = [ROOT / "README.md", ROOT / "docs" / "API.md", ROOT / "shops" / "api" / "openapi.py"]
    numbers = {
        number
        for path in shown
        for number in re.findall(r"(?<!\d)\d{17}[\dX](?!\d)", path.read_text(encoding="utf-8"))
    }
    assert demo.DEMO_SHOPPER["number"] in numbers
    assert [n for n in numbers if not identity.resident_id_check_digit_ok(n)] == []
