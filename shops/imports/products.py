"""The product catalogue from CSV: rows checked one by one with the model's validators, then
upserted by SKU in batches into one catalogue, an operator's or the island's
(``manage.py import_products [--operator CODE]``).

The header is ``sku,name_zh,name_en,brand,category_code,retail_price,volume_ml,pieces`` and,
optionally, ``immediate_kind`` and ``barcode`` (in any order). An optional column the header
does not have leaves what the products hold; a column it has is written, an empty cell
clearing it.

A product's ``immediate_kind`` must be a kind of the immediate-pickup list (即购即提) of a
*published* policy version, in force or not: a store tags its products ahead of a version
that lists a new kind, and a product keeps its kind while the version in force does not list
it (the rules then refuse it immediate pickup; tagging it is not wrong). A code no published
version lists is a typo, or a draft's, which may still change. Where the kind names the
category that holds it (sunglasses: eyewear), the product must be of that category, as the
version in force at the import's ``now`` says (or the newest version listing the kind).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from dutyfree import money
from quotas.category_csv import checked_cells
from quotas.selectors import category_codes, immediate_kinds_known
from shops.models import Operator, Product, barcode_validator, sku_validator

COLUMNS = (
    "sku",
    "name_zh",
    "name_en",
    "brand",
    "category_code",
    "retail_price",
    "volume_ml",
    "pieces",
)
# Optional columns: when the header has one, its cells are written (empty clears them); when
# it has none, the products keep what they have.
OPTIONAL = ("immediate_kind", "barcode")
REQUIRED = ("sku", "name_zh", "name_en", "category_code", "retail_price")
_LENGTHS = {"sku": 64, "name_zh": 200, "name_en": 200, "brand": 100, "category_code": 64}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: int = 0  # rows skipped (a row may have several errors)
    errors: list[str] = field(default_factory=list)


def known_category_codes() -> set[str]:
    """Every category code of any policy version (a product may wait for its category)."""
    return category_codes()


def category_code_unknown(code: str, codes: AbstractSet[str]) -> bool:
    """Whether a product's ``code`` is no category of any policy version (``codes``: as
    :func:`known_category_codes` gives them); an empty code is the caller's to judge."""
    return bool(code) and code not in codes


def known_immediate_kinds(*, at: datetime | None) -> dict[str, str | None]:
    """The kind codes a product may carry, each with the category that holds it (None where
    the list does not say) as the policy in force at ``at`` says (None: the newest version
    listing the kind): see the module's docstring."""
    return {code: kind.category_code for code, kind in immediate_kinds_known(at=at).items()}


def immediate_kind_problem(
    kind: str, category_code: str, kinds: Mapping[str, str | None]
) -> str | None:
    """What is wrong with a product of ``category_code`` carrying ``kind`` (empty: none), or
    None. ``kinds``: as :func:`known_immediate_kinds` gives them."""
    if not kind:
        return None
    if kind not in kinds:
        return f"unknown immediate_kind {kind[:64]!r}: no published policy lists it"
    holder = kinds[kind]
    if holder and category_code and holder != category_code:
        return f"immediate_kind {kind} belongs to {holder}, not {category_code}"
    return None


def _positive_int(value: str, *, high: int) -> int:
    number = int(value)
    if not 1 <= number <= high:
        raise ValueError
    return number


def parse_row(
    line_no: int,
    row: dict[str | None, str | None],
    codes: set[str],
    kinds: Mapping[str, str | None],
) -> tuple[dict | None, list[str]]:
    """One row as the product's fields, or what is wrong with it (each error with
    ``line_no``). ``codes``: the category codes known; ``kinds``: the immediate-pickup kinds
    known, as :func:`known_immediate_kinds` gives them."""
    cells, errors = checked_cells(
        line_no, row, columns=COLUMNS, required=REQUIRED, lengths=_LENGTHS
    )
    if cells["sku"]:
        try:
            sku_validator(cells["sku"])
        except ValidationError:
            errors.append(f"line {line_no}: sku must be letters, digits, '.', '-' or '_'")
    if category_code_unknown(cells["category_code"], codes):
        errors.append(f"line {line_no}: unknown category_code {cells['category_code'][:64]!r}")
    price: Decimal | None = None
    if cells["retail_price"]:
        try:
            price = money.parse(cells["retail_price"])
            if price <= 0:
                raise money.MoneyError
        except money.MoneyError:
            errors.append(f"line {line_no}: retail_price must be a positive amount such as 1234.50")
    volume = None
    if cells["volume_ml"]:
        try:
            volume = _positive_int(cells["volume_ml"], high=1_000_000)
        except ValueError:
            errors.append(f"line {line_no}: volume_ml must be a whole number of millilitres")
    pieces = 1
    if cells["pieces"]:
        try:
            pieces = _positive_int(cells["pieces"], high=1000)
        except ValueError:
            errors.append(f"line {line_no}: pieces must be a whole number from 1 to 1000")
    optional = {}
    if "barcode" in row:
        optional["barcode"] = (row.get("barcode") or "").strip()
        try:
            if optional["barcode"]:
                barcode_validator(optional["barcode"])
        except ValidationError:
            errors.append(f"line {line_no}: barcode must be 1–64 letters, digits or dashes")
    if "immediate_kind" in row:
        optional["immediate_kind"] = (row.get("immediate_kind") or "").strip()
        problem = immediate_kind_problem(optional["immediate_kind"], cells["category_code"], kinds)
        if problem:
            errors.append(f"line {line_no}: {problem}")
    if errors:
        return None, errors
    return {
        **optional,
        "sku": cells["sku"],
        "name_zh": cells["name_zh"],
        "name_en": cells["name_en"],
        "brand": cells["brand"],
        "category_code": cells["category_code"],
        "retail_price": price,
        "volume_ml": volume,
        "pieces": pieces,
    }, []


def read_rows(data: bytes) -> tuple[Iterator[tuple[int, dict]] | None, list[str]]:
    """Rows of a UTF-8 CSV (BOM allowed) with line numbers, or why it cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        return None, [f"line {line_no}: the file is not UTF-8"]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        return None, [f"line 1: missing columns: {', '.join(missing)}"]

    def rows() -> Iterator[tuple[int, dict]]:
        for row in reader:
            yield reader.line_num, row

    return rows(), []


def import_products(
    data: bytes,
    *,
    now: datetime,
    batch_size: int = 1000,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
    operator: Operator | None = None,
) -> ImportReport:
    """Upsert products by SKU into ``operator``'s catalogue (``None``: the island catalogue);
    no other catalogue's product is read or written. Bad rows are reported with their line
    numbers and skipped; good rows are written in batches (each batch all or nothing).
    ``now``: the instant whose policy in force says which category holds each
    immediate-pickup kind."""
    report = ImportReport()
    rows, errors = read_rows(data)
    if rows is None:
        report.errors = errors
        return report
    codes = known_category_codes()
    kinds = known_immediate_kinds(at=now)
    batch: dict[str, dict] = {}
    seen: dict[str, int] = {}
    line_no = 1
    try:
        for line_no, raw in rows:
            parsed, row_errors = parse_row(line_no, raw, codes, kinds)
            if parsed is not None and parsed["sku"] in seen:
                row_errors = [
                    f"line {line_no}: sku {parsed['sku']} repeats line {seen[parsed['sku']]}"
                ]
                parsed = None
            report.errors.extend(row_errors)
            report.rejected += bool(row_errors)
            if parsed is not None:
                seen[parsed["sku"]] = line_no
                batch[parsed["sku"]] = parsed
            if len(batch) >= batch_size:
                _write(
                    batch.values(),
                    report,
                    dry_run=dry_run,
                    kinds=kinds,
                    lines=seen,
                    operator=operator,
                )
                batch = {}
            if progress:
                progress(1)
    except csv.Error as exc:
        report.errors.append(f"line {line_no + 1}: {exc}")
        report.rejected += 1
    if batch:
        _write(batch.values(), report, dry_run=dry_run, kinds=kinds, lines=seen, operator=operator)
    return report


def _write(
    rows: Iterable[dict],
    report: ImportReport,
    *,
    dry_run: bool,
    kinds: Mapping[str, str | None],
    lines: Mapping[str, int],
    operator: Operator | None,
) -> None:
    """Upsert one batch. A file without the ``immediate_kind`` column keeps each product's
    kind, so a row moving a product out of the category its kind belongs to is refused (by
    its line number ``lines`` gives): the file must then say the kind too."""
    rows = list(rows)
    with transaction.atomic():
        existing = {
            p.sku: p
            for p in Product.objects.filter(operator=operator, sku__in=[r["sku"] for r in rows])
        }
        if rows and "immediate_kind" not in rows[0]:
            kept = []
            for row in rows:
                product = existing.get(row["sku"])
                problem = None
                if product is not None and product.category_code != row["category_code"]:
                    problem = immediate_kind_problem(
                        product.immediate_kind, row["category_code"], kinds
                    )
                if problem:
                    report.errors.append(
                        f"line {lines[row['sku']]}: the product's {problem}; give its "
                        "immediate_kind in the file"
                    )
                    report.rejected += 1
                else:
                    kept.append(row)
            rows = kept
            if not rows:
                return
        new = [Product(operator=operator, **row) for row in rows if row["sku"] not in existing]
        changed = []
        for row in rows:
            product = existing.get(row["sku"])
            if product is not None and any(getattr(product, k) != v for k, v in row.items()):
                for key, value in row.items():
                    setattr(product, key, value)
                changed.append(product)
        if not dry_run:
            Product.objects.bulk_create(new)
            written = [c for c in (*COLUMNS, *OPTIONAL) if c != "sku" and c in rows[0]]
            Product.objects.bulk_update(changed, written)
        report.created += len(new)
        report.updated += len(changed)
