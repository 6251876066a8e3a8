"""Reading a legacy sales file: rows grouped into receipts, each field checked.

Step 1 and 2 of ``manage.py import_sales`` (the whole pipeline: :mod:`shops.imports.batching`).
The whole file is read with the ``csv`` module, rows grouped by receipt; what rows repeat is
parsed once and shared: a line's (sku, category) and (quantity, price), a receipt's shopper (the
HMACs of the document and the name), trip and store, the policy of each day. The fields every
row of a receipt repeats must agree with its first row; any error rejects the whole receipt,
reported with its CSV line number (the header is line 1) and field, never with a document
number or a name. The patterns and words are the API's own (``shops.models.SKU``,
``quotas.rules.CARRIER_REF``, ``quotas.identity``, ``quotas.category_csv``).

A file that cannot be read as CSV (not UTF-8, a NUL byte, a missing column, a quoting error)
is refused whole (:class:`ImportRefused`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import IO, NamedTuple

from dutyfree import money
from dutyfree.db import (
    COPY_NULL,
    copy_text,
)
from quotas import category_csv, identity
from quotas.choices import (
    DocumentType,
    EntryKind,
    PickupMode,
    TravellerKind,
    TripKind,
    TripMode,
)
from quotas.errors import NoPolicyInForce
from quotas.rules import CARRIER_REF, LOCAL_TZ, MAX_LINE_QUANTITY, carrier_ref_key
from quotas.selectors import PolicyInForce, policy_in_force_cached, policy_starts
from shops.imports.products import known_category_codes
from shops.models import (
    SKU,
    Operator,
    Product,
    Sale,
    SaleStatus,
    Store,
)

COLUMNS = (
    "receipt_no",
    "store_code",
    "sold_at",
    "doc_type",
    "doc_number",
    "name",
    "birth_date",
    "hainan_resident",
    "trip_kind",
    "trip_mode",
    "carrier_ref",
    "departs_at",
    "pickup",
    "sku",
    "category_code",
    "quantity",
    "unit_price",
)
# Every row of a receipt repeats these; they are parsed once, from its first row.
RECEIPT_FIELDS = COLUMNS[1:13]
# Extra, optional: the issuing country of the document (the terminal API's default if absent).
COUNTRY_COLUMN = "doc_country"
DEFAULT_COUNTRY = "CHN"

TERMINAL_NAME = "legacy-import"
BATCH_RECEIPTS = 5000
MAX_RECEIPT_LINES = 1000
MAX_ERRORS_PER_RECEIPT = 20
RETRIES = 3
# PostgreSQL connections writing at once, each for its own shoppers (see import_sales).
WORKERS = 2

_RECEIPT_NO_MAX = Sale._meta.get_field("receipt_no").max_length or 40
_PRICE = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")  # NUMERIC(14, 2), no sign, no exponent
_DOC_TYPES = frozenset(DocumentType.values)
_PICKUPS = frozenset(PickupMode.values)
_TRIP_KINDS = frozenset(TripKind.values)
_TRIP_MODES = frozenset(TripMode.values)
_EARLIEST_BIRTH = date(1900, 1, 1)
_RESIDENT = TravellerKind.RESIDENT.value
_COMPLETED = SaleStatus.COMPLETED.value
_IMPORT = EntryKind.IMPORT.value
_RESIDENT_ID_TYPE = DocumentType.RESIDENT_ID.value


class ImportRefused(ValueError):
    """The file as a whole cannot be read; nothing was written."""


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0  # receipts already in the database
    rejected: int = 0
    lines: int = 0  # data rows read (the header and blank lines not counted)
    lines_imported: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    refused: bool = False  # the file could not be read: nothing was considered
    # "line N (receipt R): field: message", in line order; never a document number or name.
    errors: list[str] = field(default_factory=list)
    # Receipts skipped although their content differs from what the database holds.
    notes: list[str] = field(default_factory=list)

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"Receipts: {self.imported} imported, {self.skipped} skipped (existing), "
            f"{self.rejected} rejected. Lines: {self.lines} read, {self.lines_imported} "
            f"imported, in {self.seconds:.2f} s ({self.lines_per_second:,.0f} lines/s)."
            + (" Dry run: nothing was written." if self.dry_run else "")
        )


# --- Parsed values, each shared by every row or receipt that repeats it ---------------------------
Problems = list[tuple[str, str]]  # (field, message)


class Item(NamedTuple):
    """What a line sells: from the catalogue when the SKU is known."""

    sku: str
    category_code: str
    product_id: int | None
    pieces: int
    volume_ml: int | None
    fingerprint: str
    copy: str  # product_id, sku, category_code, pieces, volume_ml, immediate_kind as COPY text


class Amount(NamedTuple):
    quantity: int
    unit_price: Decimal
    amount: Decimal
    fingerprint: str
    copy: str  # quantity, unit_price, amount as COPY text


class Person(NamedTuple):
    """A shopper as the receipt presents them: only keys and facts, never the number or name."""

    doc_type: str
    country: str
    document_key: str
    last4: str
    name_key: str
    birth_date: date
    hainan_resident: bool


class LegacyTrip(NamedTuple):
    kind: str
    mode: str
    carrier_ref: str
    departs_at: datetime


Line = tuple[int, Item, Amount]  # (CSV line number, item, amount)


@dataclass(slots=True, eq=False)
class Receipt:
    receipt_no: str
    first_line: int
    head: tuple[str, ...]  # the receipt fields of its first row, as read
    lines: list[Line] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    line_count: int = 0
    # The operator whose own catalogue its SKUs are looked up in first (its store's, read
    # from its first row); None: the island catalogue alone.
    catalogue: int | None = None
    # Resolved by Reader.resolve:
    store_id: int = 0
    sold_at: datetime | None = None  # in UTC
    local_date: date | None = None
    version: PolicyInForce | None = None
    person: Person | None = None
    trip: LegacyTrip | None = None
    pickup: str = ""
    total: Decimal = money.ZERO
    fingerprint: str = ""
    account_key: tuple[str, int, int] = ("", 0, 0)  # (document key, programme id, year)
    used_after: Decimal = money.ZERO

    def error(self, line_no: int, name: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS_PER_RECEIPT:
            self.errors.append((line_no, f"{name}: {message}"))

    def problems(self, line_no: int, problems: Problems) -> None:
        for name, message in problems:
            self.error(line_no, name, message)

    def where(self, line_no: int) -> str:
        return f"line {line_no} (receipt {self.receipt_no})"


# --- Reading --------------------------------------------------------------------------------------
class _Product(NamedTuple):
    id: int
    category_code: str
    pieces: int
    volume_ml: int | None
    immediate_kind: str  # the line's snapshot: what it counts towards, picked up at once


Source = str | Path | bytes | IO[bytes] | IO[str]


@contextmanager
def source_lines(source: Source) -> Iterator[Iterator[str]]:
    """The file's lines, decoded one by one (a file of any size is never held whole as text,
    and a byte that is not UTF-8 is reported on its own line). A path is opened and closed
    here; a file object is read from where it stands."""
    if isinstance(source, str | Path):
        with Path(source).open("rb") as handle:
            yield _decoded(handle)
    elif isinstance(source, bytes):
        yield _decoded(io.BytesIO(source))
    elif isinstance(source, io.TextIOBase):
        yield _checked(source)
    else:
        yield _decoded(source)  # type: ignore[arg-type]  # not text: a binary file


def _decoded(handle: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 lines (a byte order mark dropped), each with its line ending for the csv module.

    :raises ImportRefused: at the first line that is not UTF-8 or holds a NUL character.
    """
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportRefused(f"line {number}: the file is not UTF-8") from exc
        if "\x00" in line:
            raise ImportRefused(f"line {number}: the file contains a NUL character")
        yield line.removeprefix("\ufeff") if number == 1 else line


def _checked(lines: Iterable[str]) -> Iterator[str]:
    """Text lines as :func:`_decoded` yields them.

    :raises ImportRefused: at the first line that holds a NUL character.
    """
    for number, line in enumerate(lines, start=1):
        if "\x00" in line:
            raise ImportRefused(f"line {number}: the file contains a NUL character")
        yield line.removeprefix("\ufeff") if number == 1 else line


def _shown(value: str) -> str:
    """A cell as a message may quote it (never used for a document number or a name)."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _instant(text: str) -> datetime | str:
    """An ISO 8601 time with an offset, in UTC, or why it is not one."""
    if not text:
        return "required"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return f"{_shown(text)} is not an ISO 8601 time such as 2026-01-31T10:30:00+08:00"
    if value.tzinfo is None or value.utcoffset() is None:
        return (
            f"{_shown(text)} has no UTC offset: write the time with Z or an offset such as +08:00"
        )
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        return f"{_shown(text)} is out of range"
    if not 2000 <= value.year <= 2199:
        return f"{_shown(text)} is out of range (years 2000 to 2199)"
    return value


class Reader:
    """Reads rows into receipts, with everything rows and receipts repeat parsed once."""

    def __init__(self, *, now: datetime, operator: Operator | None = None) -> None:
        self.now = now
        self.today = now.astimezone(LOCAL_TZ).date()
        self.stores = dict(Store.objects.values_list("code", "id"))
        # Run for an operator: its stores only; a row of another's is an error on its line.
        self.operator_code = operator.code if operator is not None else ""
        self.own = (
            None
            if operator is None
            else set(Store.objects.filter(operator=operator).values_list("id", flat=True))
        )
        # The catalogues by operator (None: the island's); a store sells its operator's
        # product where both list a SKU (shops.pos.search.sold_by_store).
        self.catalogues: dict[int | None, dict[str, _Product]] = defaultdict(dict)
        for pk, operator_id, sku, code, pieces, volume, kind in Product.objects.values_list(
            "id", "operator_id", "sku", "category_code", "pieces", "volume_ml", "immediate_kind"
        ):
            self.catalogues[operator_id][sku] = _Product(pk, code, pieces, volume, kind)
        self.products = self.catalogues[None]
        # A store's code → its operator, for the stores whose operator has products of its
        # own: their rows look in that catalogue first (the others in the island's alone).
        self.store_operators = {
            code: operator_id
            for code, operator_id in Store.objects.values_list("code", "operator_id")
            if operator_id in self.catalogues
        }
        self.codes = known_category_codes()
        self.items: dict[tuple[int | None, str, str], Item | Problems] = {}
        self.amounts: dict[tuple[str, str], Amount | Problems] = {}
        self.people: dict[tuple[str, ...], Person | Problems] = {}
        # While an identity key rotation is under way: documents to move to the current key
        # (doc_type, country, number, name), re-keyed before writing (never in a dry run).
        self.rekey: list[tuple[str, str, str, str]] = []
        self.trips: dict[tuple[str, str, str, str], LegacyTrip | Problems | None] = {}
        self.store_ids: dict[str, int | None] = {}
        self.days: dict[date, PolicyInForce | None] = {}
        self.boundaries: list[datetime] | None = None  # instants a policy takes effect
        self.receipts: dict[str, Receipt] = {}
        self.orphans: list[tuple[int, str]] = []  # rows without a receipt number
        self.has_country = False
        self.head_names: tuple[str, ...] = RECEIPT_FIELDS

    # -- rows ---------------------------------------------------------------------------------
    def read(self, lines: Iterable[str], report: ImportReport) -> None:
        """Group the rows into receipts and parse each line.

        :raises ImportRefused: missing columns, CSV that cannot be parsed, text that is not UTF-8
            or holds a NUL character.
        """
        reader = csv.reader(lines)
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise ImportRefused(f"line 1: missing columns: {', '.join(missing)}")
        self.has_country = COUNTRY_COLUMN in header
        self.head_names = RECEIPT_FIELDS + ((COUNTRY_COLUMN,) if self.has_country else ())
        width = len(header)
        get_head = itemgetter(*(header.index(name) for name in self.head_names))
        get_item = itemgetter(header.index("sku"), header.index("category_code"))
        get_amount = itemgetter(header.index("quantity"), header.index("unit_price"))
        at_receipt = header.index("receipt_no")
        by_raw: dict[str, Receipt] = {}
        items, amounts = self.items, self.amounts
        counted = 0
        line_no = 1
        try:
            for row in reader:
                line_no = reader.line_num
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # a blank line
                    counted += 1
                    receipt = self._receipt_of(row, at_receipt, line_no, by_raw, ())
                    if receipt is not None:
                        receipt.line_count += 1
                        receipt.error(line_no, "row", f"{width} values expected, {len(row)} found")
                    continue
                counted += 1
                receipt = by_raw.get(row[at_receipt])
                if receipt is None:
                    receipt = self._receipt_of(row, at_receipt, line_no, by_raw, get_head(row))
                    if receipt is None:
                        continue
                receipt.line_count += 1
                head = get_head(row)
                if head != receipt.head:
                    self._compare_heads(receipt, head, line_no)
                key = (receipt.catalogue, *get_item(row))
                item = items.get(key)
                if item is None:
                    item = self._item(*key)
                key = get_amount(row)
                amount = amounts.get(key)
                if amount is None:
                    amount = self._amount(*key)
                if type(item) is Item and type(amount) is Amount:
                    if not receipt.errors:
                        receipt.lines.append((line_no, item, amount))
                else:
                    for problems in (item, amount):
                        if type(problems) is list:
                            receipt.problems(line_no, problems)
        except csv.Error as exc:
            raise ImportRefused(f"line {line_no + 1}: not valid CSV ({exc})") from exc
        report.lines = counted

    def _receipt_of(
        self,
        row: list[str],
        at: int,
        line_no: int,
        by_raw: dict[str, Receipt],
        head: tuple[str, ...],
    ) -> Receipt | None:
        """The receipt a row belongs to, opened by this row if it is the first; ``None`` for a
        row without a receipt number (reported on its own)."""
        raw = row[at] if len(row) > at else ""
        receipt_no = raw.strip()
        if not receipt_no:
            self.orphans.append((line_no, f"line {line_no}: receipt_no: required"))
            return None
        receipt = self.receipts.get(receipt_no)
        if receipt is None:
            receipt = self.receipts[receipt_no] = Receipt(receipt_no, line_no, head)
            if head and self.store_operators:
                receipt.catalogue = self.store_operators.get(head[0].strip().upper())
            if len(receipt_no) > _RECEIPT_NO_MAX:
                receipt.error(line_no, "receipt_no", f"at most {_RECEIPT_NO_MAX} characters")
            elif not receipt_no.isprintable():
                receipt.error(line_no, "receipt_no", "printable characters only")
        by_raw[raw] = receipt
        return receipt

    def _compare_heads(self, receipt: Receipt, head: tuple[str, ...], line_no: int) -> None:
        if not receipt.head:
            return  # its first row was malformed, already reported
        for name, mine, first in zip(self.head_names, head, receipt.head, strict=True):
            if mine.strip() != first.strip():
                receipt.error(
                    line_no, name, f"differs from line {receipt.first_line} of the receipt"
                )

    def _item(self, catalogue: int | None, sku_cell: str, code_cell: str) -> Item | Problems:
        sku, code = sku_cell.strip(), code_cell.strip()
        own = self.catalogues[catalogue] if catalogue is not None else {}
        product = (own[sku] if sku in own else self.products.get(sku)) if sku else None
        problems: Problems = []
        if product is not None:
            code = product.category_code  # the catalogue says what it is
        else:
            if sku and not SKU.match(sku):
                problems.append(
                    ("sku", f"{_shown(sku)}: 1–64 letters, digits, dots, dashes or underscores")
                )
            if not code:
                problems.append(
                    ("category_code", "required when the sku is empty or not in the catalogue")
                )
            elif code not in self.codes:
                problems.append(("category_code", f"unknown code {_shown(code)}"))
        found: Item | Problems = problems
        if not problems:
            pk = product.id if product else None
            pieces = product.pieces if product else 1
            volume = product.volume_ml if product else None
            found = Item(
                sku,
                code,
                pk,
                pieces,
                volume,
                f"{sku}\x1f{code}",
                "\t".join(
                    (
                        COPY_NULL if pk is None else str(pk),
                        copy_text(sku),
                        copy_text(code),
                        str(pieces),
                        COPY_NULL if volume is None else str(volume),
                        copy_text(product.immediate_kind if product else ""),
                    )
                ),
            )
        self.items[(catalogue, sku_cell, code_cell)] = found
        return found

    def _amount(self, quantity_cell: str, price_cell: str) -> Amount | Problems:
        problems: Problems = []
        text = quantity_cell.strip()
        quantity = int(text) if text.isdigit() and text.isascii() else 0
        if not 1 <= quantity <= MAX_LINE_QUANTITY:
            problems.append(
                (
                    "quantity",
                    f"{_shown(text)} is not a whole number from 1 to {MAX_LINE_QUANTITY}",
                )
            )
        price = None
        text = price_cell.strip()
        if _PRICE.match(text):
            try:
                price = money.parse(text)
            except money.MoneyError:
                price = None
        if price is None or price <= 0:
            problems.append(
                (
                    "unit_price",
                    f"{_shown(text)} is not an amount above 0 such as 1234.50 "
                    "(at most two decimals)",
                )
            )
        found: Amount | Problems = problems
        if not problems:
            amount = money.line_total(price, quantity)  # type: ignore[arg-type]  # both parsed
            found = Amount(
                quantity,
                price,  # type: ignore[arg-type]  # no problems: parsed
                amount,
                f"{quantity}\x1f{price}",
                f"{quantity}\t{price}\t{amount}",
            )
        self.amounts[(quantity_cell, price_cell)] = found
        return found

    # -- receipts -----------------------------------------------------------------------------
    def resolve(self, receipt: Receipt) -> None:
        """Parse the receipt-level fields (from its first row); errors go to the receipt."""
        if not receipt.head:
            return
        store_code, sold_text, *person_cells = receipt.head[:7]
        trip_cells = receipt.head[7:11]
        pickup = receipt.head[11].strip()
        country = receipt.head[12] if self.has_country else ""
        line_no = receipt.first_line
        if receipt.line_count > MAX_RECEIPT_LINES:
            receipt.error(line_no, "receipt_no", f"more than {MAX_RECEIPT_LINES} lines")

        store_id = self.store_ids.get(store_code, 0)
        if store_id == 0:
            store_id = self.store_ids[store_code] = self.stores.get(store_code.strip().upper())
        if store_id is None:
            shown = store_code.strip()
            receipt.error(
                line_no, "store_code", f"unknown store {_shown(shown)}" if shown else "required"
            )
        elif self.own is not None and store_id not in self.own:
            receipt.error(
                line_no,
                "store_code",
                f"{_shown(store_code.strip())} is not a store of {self.operator_code}",
            )
        else:
            receipt.store_id = store_id

        sold_at = _instant(sold_text.strip())
        if isinstance(sold_at, str):
            receipt.error(line_no, "sold_at", sold_at)
        elif sold_at > self.now:
            receipt.error(line_no, "sold_at", "is in the future")
        else:
            receipt.sold_at = sold_at
            local = sold_at.astimezone(LOCAL_TZ).date()
            receipt.local_date = local
            receipt.version = self._policy(sold_at, local)
            if receipt.version is None:
                receipt.error(line_no, "sold_at", "no published policy was in force at that time")
            else:
                # Limits are not re-judged on import, but what was not a duty-free category on
                # the day was not a duty-free sale: a till would have refused it.
                categories = receipt.version.rules.categories
                for item_line, item, _ in receipt.lines:
                    if item.category_code not in categories:
                        receipt.error(
                            item_line,
                            "category_code",
                            f"{_shown(item.category_code)} was not a duty-free category on {local} "
                            f"({receipt.version.policy.name})",
                        )

        key = (*person_cells, country)
        person = self.people.get(key)
        if person is None:
            person = self._person(*key)
        if type(person) is list:
            receipt.problems(line_no, person)
        else:
            receipt.person = person  # type: ignore[assignment]  # not a list: a Person
            if receipt.local_date is not None and person.birth_date > receipt.local_date:  # type: ignore[union-attr]  # a Person
                receipt.error(line_no, "birth_date", "after the sale")

        trip = self.trips.get(trip_cells, 0)  # type: ignore[arg-type]  # head[7:11]: 4 cells
        if trip == 0:
            trip = self._trip(*trip_cells)
        if type(trip) is list:
            receipt.problems(line_no, trip)
        else:
            receipt.trip = trip  # type: ignore[assignment]  # not the 0 sentinel any more

        if pickup not in _PICKUPS:
            receipt.error(
                line_no, "pickup", f"{_shown(pickup)} is not one of {', '.join(PickupMode.values)}"
            )
        receipt.pickup = pickup

        if not receipt.errors:
            person = receipt.person
            receipt.total = money.quantize(
                sum([amount.amount for _, _, amount in receipt.lines], money.ZERO)
            )
            receipt.account_key = (
                person.document_key,  # type: ignore[union-attr]  # no errors: resolved
                receipt.version.policy.programme_id,  # type: ignore[union-attr]  # resolved
                receipt.local_date.year,  # type: ignore[union-attr]  # resolved
            )
            receipt.fingerprint = _fingerprint(receipt)
        receipt.head = ()  # parsed: its cells are not needed any more

    def _policy(self, at: datetime, day: date) -> PolicyInForce | None:
        """The policy in force at ``at``, cached per local day (looked up per instant on a day
        on which a version takes effect)."""
        if day in self.days:
            return self.days[day]
        try:
            version = policy_in_force_cached(at=at)
        except NoPolicyInForce:
            version = None
        if self.boundaries is None:
            self.boundaries = policy_starts()
        start = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ)
        after = bisect_right(self.boundaries, start)
        if (
            after == len(self.boundaries)
            or self.boundaries[after].astimezone(LOCAL_TZ).date() != day
        ):
            self.days[day] = version  # no version takes effect within the day
        return version

    def _person(
        self,
        doc_type_cell: str,
        number_cell: str,
        name_cell: str,
        birth_cell: str,
        resident_cell: str,
        country_cell: str,
    ) -> Person | Problems:
        problems: Problems = []
        doc_type = doc_type_cell.strip()
        country = (country_cell.strip() or DEFAULT_COUNTRY).upper()
        if not identity.COUNTRY.match(country):
            problems.append((COUNTRY_COLUMN, f"{_shown(country)} is not three letters such as CHN"))
        normalised = ""
        if doc_type not in _DOC_TYPES:
            problems.append(
                (
                    "doc_type",
                    f"{_shown(doc_type)} is not one of {', '.join(DocumentType.values)}",
                )
            )
        else:
            try:
                normalised = identity.normalise_document_number(number_cell)
            except identity.InvalidDocument:
                problems.append(("doc_number", "a document number has 4 to 32 letters and digits"))
            else:
                if doc_type == _RESIDENT_ID_TYPE and not identity.RESIDENT_ID.match(normalised):
                    normalised = ""
                    problems.append(
                        (
                            "doc_number",
                            "a resident identity card number has 17 digits and a digit or X",
                        )
                    )
        name = name_cell.strip()
        if not name or len(name) > 100 or not name.isprintable():
            problems.append(("name", "1 to 100 printable characters"))
        birth_text = birth_cell.strip()
        try:
            birth = date.fromisoformat(birth_text) if len(birth_text) == 10 else None
        except ValueError:
            birth = None
        if birth is None:
            problems.append(
                ("birth_date", f"{_shown(birth_text)} is not a date such as 1990-01-31")
            )
        elif not _EARLIEST_BIRTH <= birth <= self.today:
            problems.append(("birth_date", "not a plausible birth date"))
        elif doc_type == _RESIDENT_ID_TYPE and normalised and normalised[6:14] != f"{birth:%Y%m%d}":
            problems.append(("birth_date", "does not match the birth date in the identity number"))
        resident = resident_cell.strip().lower()
        if resident not in category_csv.YES and resident not in category_csv.NO:
            problems.append(
                ("hainan_resident", f"{_shown(resident)} is not true or false (or empty)")
            )
        found: Person | Problems = problems
        if not problems:
            country = identity.issuing_country(doc_type=doc_type, country=country)
        # Not shopper_of_document's fallback: nothing is looked up here; the batch moves these.
        if not problems and identity.retired_keys():
            self.rekey.append((doc_type, country, normalised, name))
        if not problems:
            found = Person(
                doc_type,
                country,
                identity.document_key(doc_type=doc_type, country=country, number=normalised),
                normalised[-4:],
                identity.name_key(name),
                birth,  # type: ignore[arg-type]  # no problems: parsed
                resident in category_csv.YES,
            )
        key = (doc_type_cell, number_cell, name_cell, birth_cell, resident_cell, country_cell)
        self.people[key] = found
        return found

    def _trip(
        self, kind_cell: str, mode_cell: str, carrier_cell: str, departs_cell: str
    ) -> LegacyTrip | Problems | None:
        kind, mode = kind_cell.strip(), mode_cell.strip()
        carrier, departs_text = carrier_cell.strip(), departs_cell.strip()
        found: LegacyTrip | Problems | None = None
        cells = {"trip_kind": kind, "trip_mode": mode, "carrier_ref": carrier}
        if kind or mode or carrier or departs_text:
            problems: Problems = [
                (name, "required when any trip field is given")
                for name, value in cells.items()
                if not value
            ]
            if kind and kind not in _TRIP_KINDS:
                problems.append(
                    ("trip_kind", f"{_shown(kind)} is not one of {', '.join(TripKind.values)}")
                )
            if mode and mode not in _TRIP_MODES:
                problems.append(
                    ("trip_mode", f"{_shown(mode)} is not one of {', '.join(TripMode.values)}")
                )
            if carrier and not CARRIER_REF.match(carrier):
                problems.append(
                    (
                        "carrier_ref",
                        f"{_shown(carrier)} is not a flight, train or ship reference like HU7181",
                    )
                )
            departs_at = _instant(departs_text)
            if isinstance(departs_at, str):
                problems.append(
                    (
                        "departs_at",
                        "required when any trip field is given"
                        if departs_at == "required"
                        else departs_at,
                    )
                )
            found = problems or LegacyTrip(kind, mode, carrier_ref_key(carrier), departs_at)  # type: ignore[arg-type]  # parsed
        self.trips[(kind_cell, mode_cell, carrier_cell, departs_cell)] = found
        return found


def _fingerprint(receipt: Receipt) -> str:
    """SHA-256 of the receipt's rows as understood: its fields once (the document number and
    the name as their keyed HMACs, so that a fingerprint cannot be searched for a number),
    then each line in file order."""
    person = receipt.person
    cells = [cell.strip() for cell in receipt.head]
    cells[3], cells[4] = person.document_key, person.name_key  # type: ignore[union-attr]  # resolved
    text = "\x1f".join((receipt.receipt_no, *cells, person.country)) + "".join(  # type: ignore[union-attr]  # resolved
        [f"\x1e{item.fingerprint}\x1f{amount.fingerprint}" for _, item, amount in receipt.lines]
    )
    return hashlib.sha256(text.encode()).hexdigest()
