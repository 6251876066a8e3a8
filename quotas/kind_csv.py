"""A draft policy's immediate-pickup list (即购即提, its kinds) as CSV: export for review in a
spreadsheet, import back.

Built on ``category_csv``: the same file-level reading (size, UTF-8, header, repeated codes and
numbers), cell checks and yes/no words, and the same writer (``dutyfree.csv``). Parsing is pure
and reports every problem with its line number; nothing is written here
(``services.policy_kinds_replace`` writes, all or nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dutyfree.csv import csv_text

from .category_csv import NO, YES, checked_cells, code_problem, parsed_rows, whole_number_cell
from .models import ImmediatePickupKind

COLUMNS = (
    "number",
    "code",
    "name_zh",
    "name_en",
    "category_code",
    "unit_zh",
    "unit_en",
    "counts_pieces",
    "per_trip",
    "per_variety",
    "note",
)
REQUIRED = ("number", "code", "name_zh", "name_en", "unit_zh", "unit_en", "per_trip")
# The model's caps (1–999) and lengths.
MAX_CAP = 999
_LENGTHS = {
    "code": 64,
    "name_zh": 200,
    "name_en": 300,
    "category_code": 64,
    "unit_zh": 16,
    "unit_en": 32,
    "note": 5000,
}


@dataclass(frozen=True)
class ParsedKinds:
    rows: list[dict[str, object]]
    errors: list[str]


def export_kinds(kinds: Iterable[ImmediatePickupKind]) -> str:
    """CSV text (UTF-8, header first) of ``kinds`` ordered by number."""
    return csv_text(
        COLUMNS,
        (
            [
                kind.number,
                kind.code,
                kind.name_zh,
                kind.name_en,
                kind.category_code,
                kind.unit_zh,
                kind.unit_en,
                str(kind.counts_pieces).lower(),  # true or false: words YES and NO hold
                kind.per_trip,
                "" if kind.per_variety is None else kind.per_variety,
                kind.note,
            ]
            for kind in sorted(kinds, key=lambda k: k.number)
        ),
    )


def _cap(line_no: int, column: str, value: str, errors: list[str]) -> int | None:
    return whole_number_cell(line_no, column, value, errors, high=MAX_CAP) if value else None


def _parse_row(line_no: int, raw: dict[str | None, object]) -> tuple[dict[str, object], list[str]]:
    cells, errors = checked_cells(
        line_no, raw, columns=COLUMNS, required=REQUIRED, lengths=_LENGTHS
    )
    row: dict[str, object] = {
        name: cells[name]
        for name in ("code", "name_zh", "name_en", "category_code", "unit_zh", "unit_en", "note")
    }
    if cells["number"] and (
        number := whole_number_cell(line_no, "number", cells["number"], errors)
    ):
        row["number"] = number
    for column in ("code", "category_code"):
        if problem := code_problem(line_no, column, cells[column]):
            errors.append(problem)
    pieces = cells["counts_pieces"].lower()
    if pieces not in YES and pieces not in NO:
        errors.append(f"line {line_no}: counts_pieces must be yes or no (or empty: no)")
    row["counts_pieces"] = pieces in YES
    per_trip = _cap(line_no, "per_trip", cells["per_trip"], errors)
    per_variety = _cap(line_no, "per_variety", cells["per_variety"], errors)
    if per_trip is not None:
        row["per_trip"] = per_trip
    row["per_variety"] = per_variety
    if per_trip is not None and per_variety is not None and per_variety > per_trip:
        errors.append(
            f"line {line_no}: per_variety ({per_variety}) is more than per_trip ({per_trip}); "
            "a cap per variety is at most the cap per departure"
        )
    return row, errors


def parse_kinds(data: bytes) -> ParsedKinds:
    """Parse an uploaded CSV (UTF-8, optional BOM). Every problem is reported, by line."""
    rows, errors = parsed_rows(
        data,
        columns=COLUMNS,
        required=REQUIRED,
        parse_row=_parse_row,
        what="immediate-pickup kinds",
    )
    return ParsedKinds(rows, errors)
