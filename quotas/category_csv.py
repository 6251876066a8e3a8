"""A draft policy's category list as CSV: export for review in a spreadsheet, import back.

Parsing is pure and reports every problem with its line number; nothing is written here
(``services.policy_categories_replace`` writes, all or nothing). The export is written, and the
import reads its cells, as every CSV for people is (``dutyfree.csv``: text that a spreadsheet
would run as a formula is quoted, the quote taken off again on the way back). The file-level
reading, the cell checks and the yes/no words serve the immediate-pickup kinds' CSV too
(``kind_csv``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from dutyfree.csv import cell_read, csv_text

from .choices import LimitUnit, Verification
from .models import Category, code_validator

COLUMNS = (
    "number",
    "code",
    "name_zh",
    "name_en",
    "per_trip_limit_unit",
    "per_trip_limit_value",
    "verified",
    "added",
    "note",
)
REQUIRED = ("number", "code", "name_zh", "name_en")
# A column of files exported when a category still stored whether it was on the immediate-pickup
# list (now derived from the policy's kinds): refused by name, so no one edits a flag that is not
# read.
DERIVED = "immediate_pickup"
MAX_BYTES = 1_000_000
MAX_ROWS = 999
# The words a CSV cell may say yes or no with (lower case; empty is no): this import's and the
# sales importer's (shops.imports.reading).
YES = frozenset({"true", "1", "yes", "y", "t", "是"})
NO = frozenset({"false", "0", "no", "n", "f", "否", ""})
_LENGTHS = {"code": 64, "name_zh": 200, "name_en": 300, "added": 64, "note": 5000}


@dataclass(frozen=True)
class ParsedCategories:
    rows: list[dict[str, object]]
    errors: list[str]


def export_categories(categories: Iterable[Category]) -> str:
    """CSV text (UTF-8, header first) of ``categories`` ordered by number."""
    return csv_text(
        COLUMNS,
        (
            [
                category.number,
                category.code,
                category.name_zh,
                category.name_en,
                category.per_trip_limit_unit,
                category.per_trip_limit_value or "",
                category.verified,
                category.added,
                category.note,
            ]
            for category in sorted(categories, key=lambda c: c.number)
        ),
    )


def whole_number(value: str, *, low: int, high: int) -> int:
    """``value`` as an int from ``low`` to ``high``. :raises ValueError: otherwise."""
    number = int(value)
    if not low <= number <= high:
        raise ValueError
    return number


def whole_number_cell(
    line_no: int, column: str, value: str, errors: list[str], *, low: int = 1, high: int = 999
) -> int | None:
    """A cell's whole number from ``low`` to ``high``, or None with the problem added to
    ``errors`` (an empty cell is the caller's to judge)."""
    try:
        return whole_number(value, low=low, high=high)
    except ValueError:
        errors.append(f"line {line_no}: {column} must be a whole number from {low} to {high}")
        return None


def code_problem(line_no: int, column: str, value: str) -> str | None:
    """What is wrong with a code cell (a category's or a kind's code), if anything; an
    empty cell is the caller's to judge."""
    if not value:
        return None
    try:
        code_validator(value)
    except ValidationError:
        return (
            f"line {line_no}: {column} {value[:64]!r} must be lowercase letters, digits and "
            "underscores, starting with a letter"
        )
    return None


def checked_cells(
    line_no: int,
    raw: Mapping[str | None, object],
    *,
    columns: Sequence[str],
    required: Sequence[str],
    lengths: Mapping[str, int],
) -> tuple[dict[str, str], list[str]]:
    """A CSV row's cells, stripped and without the quote an export puts before text that
    would run as a formula, and what is wrong with its shape: values beyond the header,
    required cells left empty, cells longer than their column allows."""
    errors: list[str] = []
    if raw.get(None):
        errors.append(f"line {line_no}: more values than columns")
    # A cell the export quoted against spreadsheet formulas (dutyfree.csv) reads as exported.
    cells = {key: cell_read(str(raw.get(key) or "").strip()) for key in columns}
    for key in required:
        if not cells[key]:
            errors.append(f"line {line_no}: {key} is required")
    for key, length in lengths.items():
        if len(cells[key]) > length:
            errors.append(f"line {line_no}: {key} is longer than {length} characters")
    return cells, errors


def _parse_row(line_no: int, raw: dict[str | None, object]) -> tuple[dict[str, object], list[str]]:
    cells, errors = checked_cells(
        line_no, raw, columns=COLUMNS, required=REQUIRED, lengths=_LENGTHS
    )
    row: dict[str, object] = {
        "code": cells["code"],
        "name_zh": cells["name_zh"],
        "name_en": cells["name_en"],
        "added": cells["added"],
        "note": cells["note"],
    }
    if cells["number"] and (
        number := whole_number_cell(line_no, "number", cells["number"], errors)
    ):
        row["number"] = number
    if problem := code_problem(line_no, "code", cells["code"]):
        errors.append(problem)
    unit, value = cells["per_trip_limit_unit"], cells["per_trip_limit_value"]
    if unit and unit not in LimitUnit.values:
        errors.append(f"line {line_no}: per_trip_limit_unit must be piece, ml or empty")
    elif unit and not value:
        errors.append(f"line {line_no}: per_trip_limit_value is required with a unit")
    elif value and not unit:
        errors.append(f"line {line_no}: per_trip_limit_unit is required with a value")
    row["per_trip_limit_unit"] = unit
    row["per_trip_limit_value"] = None
    if value:
        try:
            row["per_trip_limit_value"] = whole_number(value, low=1, high=10_000_000)
        except ValueError:
            errors.append(f"line {line_no}: per_trip_limit_value must be a positive whole number")
    verified = cells["verified"] or Verification.NO
    if verified not in Verification.values:
        errors.append(f"line {line_no}: verified must be one of {', '.join(Verification.values)}")
    row["verified"] = verified
    return row, errors


def parse_categories(data: bytes) -> ParsedCategories:
    """Parse an uploaded CSV (UTF-8, optional BOM). Every problem is reported, by line."""
    refused = {
        DERIVED: (
            f"{DERIVED} is no longer a column: a category is on the immediate-pickup list when "
            "one of the policy's immediate-pickup kinds belongs to it; edit the kinds instead "
            "and remove the column"
        )
    }
    rows, errors = parsed_rows(
        data,
        columns=COLUMNS,
        required=REQUIRED,
        parse_row=_parse_row,
        what="categories",
        refused=refused,
    )
    return ParsedCategories(rows, errors)


def parsed_rows(
    data: bytes,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    parse_row: Callable[[int, dict[str | None, object]], tuple[dict[str, object], list[str]]],
    what: str,
    refused: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, object]], list[str]]:
    """The rows of an uploaded CSV (UTF-8, optional BOM) of a policy's list (``what``: its
    plural noun), each read by ``parse_row``, and every problem by line: the file's size,
    encoding and header (``refused`` names columns no longer accepted, and why), each row's
    own problems, codes and numbers that repeat. No rows when there is any error."""
    if len(data) > MAX_BYTES:
        return [], [f"the file is larger than {MAX_BYTES:,} bytes"]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        return [], [f"line {line_no}: the file is not UTF-8 (byte {exc.start}); save it as UTF-8"]
    if "\x00" in text:
        return [], ["the file is not a text CSV"]
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
    except csv.Error as exc:
        return [], [f"line 1: {exc}"]
    missing = [column for column in required if column not in header]
    if missing:
        return [], [f"line 1: missing columns: {', '.join(missing)}"]
    refused = refused or {}
    unknown = [column for column in header if column not in columns and column not in refused]
    errors = [f"line 1: {why}" for column, why in refused.items() if column in header]
    if unknown:
        errors.append(f"line 1: unknown columns: {', '.join(map(str, unknown))[:200]}")
    rows: list[dict[str, object]] = []
    seen_codes: dict[str, int] = {}
    seen_numbers: dict[int, int] = {}
    try:
        for raw in reader:
            line_no = reader.line_num
            if len(rows) >= MAX_ROWS:
                errors.append(f"line {line_no}: more than {MAX_ROWS} {what}")
                break
            row, row_errors = parse_row(line_no, raw)
            errors.extend(row_errors)
            code = row.get("code")
            if isinstance(code, str) and code:
                if code in seen_codes:
                    errors.append(f"line {line_no}: code {code} repeats line {seen_codes[code]}")
                seen_codes.setdefault(code, line_no)
            number = row.get("number")
            if isinstance(number, int):
                if number in seen_numbers:
                    errors.append(
                        f"line {line_no}: number {number} repeats line {seen_numbers[number]}"
                    )
                seen_numbers.setdefault(number, line_no)
            rows.append(row)
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: {exc}")
    if not rows and not errors:
        errors.append(f"the file has no {what}")
    return (rows if not errors else []), errors
