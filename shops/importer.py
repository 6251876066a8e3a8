"""Historical sales from a legacy system: ``manage.py import_sales FILE.csv``.

One CSV row per sale line (UTF-8, a BOM allowed), the rows of a receipt sharing ``receipt_no``
anywhere in the file. Imported sales consume quota but are not judged again: the policy in
force at ``sold_at`` is recorded, the quota accounts are debited with ``import`` ledger entries,
and each touched (local day, store) slice is marked for the rollups.

The pipeline:

1. **Read** the whole file with the ``csv`` module, grouping rows by receipt. What rows repeat
   is parsed once and shared: a line's (sku, category) and (quantity, price), a receipt's
   shopper (the HMACs of the document and the name), trip and store, the policy of each day.
2. **Check each receipt**: the fields every row of a receipt repeats (store, time, shopper,
   trip, pickup) must agree with its first row. Any error rejects the whole receipt; errors
   are reported with their CSV line number (the header is line 1) and field, never with a
   document number or a name.
3. **Order** the good receipts by ``sold_at`` (then line), so that each shopper's quota is
   spent in the order the sales happened, and write them in batches of ``BATCH_RECEIPTS``
   receipts, one transaction each: receipts already in ``shops_sale`` are skipped; the
   shoppers' quota accounts are locked (``FOR NO KEY UPDATE``, the lock every live sale takes,
   in id order) and a receipt that would take its account over the limit is rejected; then
   shoppers, accounts and trips are inserted in bulk, sales, lines and ledger entries go in by
   ``COPY``, balances move by one ``UPDATE`` and
   the dirty-day marks by one ``INSERT`` per batch.

``WORKERS`` connections write at once, each the receipts of its own shoppers
(split by document key): no two writers share a shopper, an account or a trip, and each
shopper's receipts still go in ``sold_at`` order. Every batch but a writer's last commits
without waiting for its WAL flush (``synchronous_commit = off``, for that transaction only);
the last batch's commit waits, and so flushes the WAL of all the batches before it. When the
command returns, everything it reported is durable; a crash of the database server during an
import may lose the batches committed last, which a re-run imports (receipts already in are
skipped).

A file that cannot be read as CSV (not UTF-8, a NUL byte, a missing column, a quoting error)
is refused whole: nothing is written. The whole file is held in memory (grouping receipts
whose rows are far apart and ordering them by time need it; how much: README, "Performance").
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from dutyfree import money
from quotas import category_csv, identity
from quotas.choices import (
    DocumentType,
    EntryKind,
    PickupMode,
    PolicyStatus,
    TravellerKind,
    TripKind,
    TripMode,
)
from quotas.errors import NoPolicyInForce
from quotas.models import Policy, QuotaAccount, QuotaEntry, Shopper, Trip
from quotas.rules import CARRIER_REF, LOCAL_TZ, MAX_LINE_QUANTITY, carrier_ref_key
from quotas.selectors import PolicyInForce, policy_in_force_cached
from quotas.services import shopper_rekey

from .catalogue import known_category_codes
from .checkout import SALE_COLUMNS
from .models import (
    SKU,
    Product,
    Sale,
    SaleLine,
    SaleStatus,
    Store,
    Terminal,
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
_NULL = "\\N"  # COPY's NULL
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


class _Item(NamedTuple):
    """What a line sells: from the catalogue when the SKU is known."""

    sku: str
    category_code: str
    product_id: int | None
    pieces: int
    volume_ml: int | None
    fingerprint: str
    copy: str  # product_id, sku, category_code, pieces, volume_ml as COPY text


class _Amount(NamedTuple):
    quantity: int
    unit_price: Decimal
    amount: Decimal
    fingerprint: str
    copy: str  # quantity, unit_price, amount as COPY text


class _Person(NamedTuple):
    """A shopper as the receipt presents them: only keys and facts, never the number or name."""

    doc_type: str
    country: str
    document_key: str
    last4: str
    name_key: str
    birth_date: date
    hainan_resident: bool


class _Trip(NamedTuple):
    kind: str
    mode: str
    carrier_ref: str
    departs_at: datetime


_Line = tuple[int, _Item, _Amount]  # (CSV line number, item, amount)


@dataclass(slots=True, eq=False)
class _Receipt:
    receipt_no: str
    first_line: int
    head: tuple[str, ...]  # the receipt fields of its first row, as read
    lines: list[_Line] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    line_count: int = 0
    # Resolved by _Reader.resolve:
    store_id: int = 0
    sold_at: datetime | None = None  # in UTC
    local_date: date | None = None
    version: PolicyInForce | None = None
    person: _Person | None = None
    trip: _Trip | None = None
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


Source = str | Path | bytes | IO[bytes] | IO[str]


@contextmanager
def _lines(source: Source) -> Iterator[Iterator[str]]:
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


def _copy_text(value: str) -> str:
    """A string as a value of PostgreSQL's COPY text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


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


class _Reader:
    """Reads rows into receipts, with everything rows and receipts repeat parsed once."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.today = now.astimezone(LOCAL_TZ).date()
        self.stores = dict(Store.objects.values_list("code", "id"))
        self.products = {
            sku: _Product(pk, code, pieces, volume)
            for pk, sku, code, pieces, volume in Product.objects.values_list(
                "id", "sku", "category_code", "pieces", "volume_ml"
            )
        }
        self.codes = known_category_codes()
        self.items: dict[tuple[str, str], _Item | Problems] = {}
        self.amounts: dict[tuple[str, str], _Amount | Problems] = {}
        self.people: dict[tuple[str, ...], _Person | Problems] = {}
        # While an identity key rotation is under way: documents to move to the current key
        # (doc_type, country, number, name), re-keyed before writing (never in a dry run).
        self.rekey: list[tuple[str, str, str, str]] = []
        self.trips: dict[tuple[str, str, str, str], _Trip | Problems | None] = {}
        self.store_ids: dict[str, int | None] = {}
        self.days: dict[date, PolicyInForce | None] = {}
        self.boundaries: list[datetime] | None = None  # instants a policy takes effect
        self.receipts: dict[str, _Receipt] = {}
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
        by_raw: dict[str, _Receipt] = {}
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
                key = get_item(row)
                item = items.get(key)
                if item is None:
                    item = self._item(*key)
                key = get_amount(row)
                amount = amounts.get(key)
                if amount is None:
                    amount = self._amount(*key)
                if type(item) is _Item and type(amount) is _Amount:
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
        by_raw: dict[str, _Receipt],
        head: tuple[str, ...],
    ) -> _Receipt | None:
        """The receipt a row belongs to, opened by this row if it is the first; ``None`` for a
        row without a receipt number (reported on its own)."""
        raw = row[at] if len(row) > at else ""
        receipt_no = raw.strip()
        if not receipt_no:
            self.orphans.append((line_no, f"line {line_no}: receipt_no: required"))
            return None
        receipt = self.receipts.get(receipt_no)
        if receipt is None:
            receipt = self.receipts[receipt_no] = _Receipt(receipt_no, line_no, head)
            if len(receipt_no) > _RECEIPT_NO_MAX:
                receipt.error(line_no, "receipt_no", f"at most {_RECEIPT_NO_MAX} characters")
            elif not receipt_no.isprintable():
                receipt.error(line_no, "receipt_no", "printable characters only")
        by_raw[raw] = receipt
        return receipt

    def _compare_heads(self, receipt: _Receipt, head: tuple[str, ...], line_no: int) -> None:
        if not receipt.head:
            return  # its first row was malformed, already reported
        for name, mine, first in zip(self.head_names, head, receipt.head, strict=True):
            if mine.strip() != first.strip():
                receipt.error(
                    line_no, name, f"differs from line {receipt.first_line} of the receipt"
                )

    def _item(self, sku_cell: str, code_cell: str) -> _Item | Problems:
        sku, code = sku_cell.strip(), code_cell.strip()
        product = self.products.get(sku) if sku else None
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
        found: _Item | Problems = problems
        if not problems:
            pk = product.id if product else None
            pieces = product.pieces if product else 1
            volume = product.volume_ml if product else None
            found = _Item(
                sku,
                code,
                pk,
                pieces,
                volume,
                f"{sku}\x1f{code}",
                "\t".join(
                    (
                        _NULL if pk is None else str(pk),
                        _copy_text(sku),
                        _copy_text(code),
                        str(pieces),
                        _NULL if volume is None else str(volume),
                    )
                ),
            )
        self.items[(sku_cell, code_cell)] = found
        return found

    def _amount(self, quantity_cell: str, price_cell: str) -> _Amount | Problems:
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
        found: _Amount | Problems = problems
        if not problems:
            amount = money.line_total(price, quantity)  # type: ignore[arg-type]  # both parsed
            found = _Amount(
                quantity,
                price,  # type: ignore[arg-type]  # no problems: parsed
                amount,
                f"{quantity}\x1f{price}",
                f"{quantity}\t{price}\t{amount}",
            )
        self.amounts[(quantity_cell, price_cell)] = found
        return found

    # -- receipts -----------------------------------------------------------------------------
    def resolve(self, receipt: _Receipt) -> None:
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
            receipt.person = person  # type: ignore[assignment]  # not a list: a _Person
            if receipt.local_date is not None and person.birth_date > receipt.local_date:  # type: ignore[union-attr]  # a _Person
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
            self.boundaries = sorted(
                Policy.objects.filter(
                    programme__code=settings.DEFAULT_PROGRAMME,
                    status=PolicyStatus.PUBLISHED,
                    effective_from__isnull=False,
                ).values_list("effective_from", flat=True)  # type: ignore[arg-type]  # not NULL
            )
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
    ) -> _Person | Problems:
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
        found: _Person | Problems = problems
        if not problems:
            country = identity.issuing_country(doc_type=doc_type, country=country)
        if not problems and identity.retired_keys():
            self.rekey.append((doc_type, country, normalised, name))
        if not problems:
            found = _Person(
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
    ) -> _Trip | Problems | None:
        kind, mode = kind_cell.strip(), mode_cell.strip()
        carrier, departs_text = carrier_cell.strip(), departs_cell.strip()
        found: _Trip | Problems | None = None
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
            found = problems or _Trip(kind, mode, carrier_ref_key(carrier), departs_at)  # type: ignore[arg-type]  # parsed
        self.trips[(kind_cell, mode_cell, carrier_cell, departs_cell)] = found
        return found


def _fingerprint(receipt: _Receipt) -> str:
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


# --- Writing --------------------------------------------------------------------------------------
class _Retry(Exception):
    """A concurrent writer created a row this batch meant to create: roll back, read again.
    (On PostgreSQL the row's unique index says so first, as an ``IntegrityError``.)"""


@dataclass(slots=True)
class _Account:
    id: int | None  # None: to be opened by this batch
    limit: Decimal
    used: Decimal  # as found (and locked) when the batch began
    after: Decimal  # after the batch's receipts accepted so far


@dataclass
class _Outcome:
    accepted: list[_Receipt] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0
    notes: list[tuple[int, str]] = field(default_factory=list)
    spent: dict[tuple[str, int, int], Decimal] = field(default_factory=dict)


_AccountKey = tuple[str, int, int]  # (document key, programme id, year)
_TripKey = tuple[int, str, datetime]  # (shopper id, carrier reference, departure)


def _batch(
    receipts: Sequence[_Receipt],
    *,
    db: _Backend,
    terminals: dict[int, int],
    spent_before: dict[_AccountKey, Decimal],
    now: datetime,
    dry_run: bool,
) -> _Outcome:
    """Skip the receipts already stored, spend each shopper's quota in ``sold_at`` order
    under the account locks, and write the receipts that fit (not in a dry run).

    Call inside a transaction. ``spent_before`` (dry run only) is what the earlier batches
    would have spent of each account, as a dry run writes nothing for the next batch to read;
    the outcome's ``spent`` is the same, this batch included.

    :raises _Retry, IntegrityError: a concurrent writer created a shopper, account or trip
        meanwhile.
    """
    outcome = _Outcome()
    existing = db.existing_receipts([r.receipt_no for r in receipts])
    fresh = []
    for receipt in receipts:
        stored = existing.get(receipt.receipt_no)
        if stored is None:
            fresh.append(receipt)
            continue
        outcome.skipped += 1
        if stored != receipt.fingerprint:
            outcome.notes.append(
                (
                    receipt.first_line,
                    f"{receipt.where(receipt.first_line)}: already in the database with other "
                    "content; skipped, not changed",
                )
            )
    shoppers = db.shopper_ids(sorted({r.account_key[0] for r in fresh}))
    found = db.accounts(
        sorted(
            {
                (shoppers[key], programme, year)
                for key, programme, year in (r.account_key for r in fresh)
                if key in shoppers
            }
        ),
        lock=not dry_run,
    )
    accounts: dict[_AccountKey, _Account] = {}
    for receipt in fresh:
        key = receipt.account_key
        account = accounts.get(key)
        if account is None:
            row = found.get((shoppers.get(key[0], 0), key[1], key[2]))
            if row is None:
                limit = receipt.version.policy.annual_limit  # type: ignore[union-attr]  # resolved
                account = _Account(None, limit, money.ZERO, money.ZERO)
            else:
                account = _Account(row[0], row[2], row[1], row[1])
            account.after += spent_before.get(key, money.ZERO)
            accounts[key] = account
        if receipt.store_id not in terminals:
            outcome.errors.append(
                (
                    receipt.first_line,
                    f"{receipt.where(receipt.first_line)}: store_code: the store has an active "
                    f"terminal named {TERMINAL_NAME!r}; rename it, so that imports get their "
                    "own revoked one",
                )
            )
            continue
        after = account.after + receipt.total
        if after > account.limit:
            outcome.errors.append(
                (
                    receipt.first_line,
                    f"{receipt.where(receipt.first_line)}: quota: the receipt's total "
                    f"{money.to_str(receipt.total)} would take the shopper's {key[2]} quota to "
                    f"{money.to_str(after)}, over the limit of {money.to_str(account.limit)} "
                    f"(already used {money.to_str(account.after)}); rejected",
                )
            )
            continue
        account.after = after
        receipt.used_after = after
        outcome.accepted.append(receipt)
    if dry_run:
        outcome.spent = {
            key: account.after - account.used
            for key, account in accounts.items()
            if account.after != account.used
        }
    elif outcome.accepted:
        _write(
            outcome.accepted,
            db=db,
            accounts=accounts,
            shoppers=shoppers,
            terminals=terminals,
            now=now,
        )
    return outcome


def _write(
    receipts: list[_Receipt],
    *,
    db: _Backend,
    accounts: dict[_AccountKey, _Account],
    shoppers: dict[str, int],
    terminals: dict[int, int],
    now: datetime,
) -> None:
    """Shoppers, accounts, balances, trips, sales, lines, ledger entries, dirty marks.

    :raises _Retry, IntegrityError: a concurrent writer created a shopper, account or trip
        meanwhile.
    """
    # Shoppers first seen here, with the facts of their latest receipt. A shopper already
    # known keeps the facts last presented at a till: they are newer than any legacy receipt.
    latest: dict[str, _Person] = {
        r.account_key[0]: r.person  # type: ignore[misc]  # a resolved receipt has a person
        for r in receipts
        if r.account_key[0] not in shoppers
    }
    if latest:
        rows = [
            (
                p.doc_type,
                p.country,
                key,
                p.last4,
                p.name_key,
                identity.current_version(),
                p.birth_date,
                p.hainan_resident,
                now,
                now,
            )
            for key, p in sorted(latest.items())
        ]
        created = db.insert_shoppers(rows)
        if len(created) != len(rows):
            raise _Retry
        shoppers.update(created)
    # Accounts opened here start with their final balance; the others move by one UPDATE.
    spent = {key: account for key, account in accounts.items() if account.after != account.used}
    opened = sorted(
        (shoppers[key[0]], key[1], key[2], account.limit, account.after, now)
        for key, account in spent.items()
        if account.id is None
    )
    ids: dict[tuple[int, int, int], int] = {}
    if opened:
        ids = db.insert_accounts(opened)
        if len(ids) != len(opened):
            raise _Retry
    moved = []
    for key, account in spent.items():
        if account.id is None:
            account.id = ids[(shoppers[key[0]], key[1], key[2])]
        else:
            moved.append((account.id, account.after - account.used))
    if moved:
        db.update_accounts(sorted(moved), now)
    trips = _trips(receipts, db=db, shoppers=shoppers, created=set(latest), now=now)
    sales = []
    for r in receipts:
        shopper = shoppers[r.account_key[0]]
        trip = r.trip
        sales.append(
            (
                r.receipt_no,
                r.store_id,
                terminals[r.store_id],
                shopper,
                None if trip is None else trips[(shopper, trip.carrier_ref, trip.departs_at)],
                accounts[r.account_key].id,
                r.version.policy.id,  # type: ignore[union-attr]  # resolved
                r.sold_at,
                r.local_date,
                r.pickup,
                _RESIDENT if trip is None else trip.kind,
                _COMPLETED,
                r.total,
                money.ZERO,
                r.used_after,
                r.receipt_no,
                r.fingerprint,
                True,
            )
        )
    sale_ids = db.insert_sales(sales)
    db.insert_lines(receipts, sale_ids)
    db.insert_entries(
        [
            (accounts[r.account_key].id, _IMPORT, r.total, f"sale:{sale_id}", now)
            for r, sale_id in zip(receipts, sale_ids, strict=True)
        ]
    )
    slices = {(r.local_date, r.store_id) for r in receipts}
    db.mark_dirty(sorted(slices), now)  # type: ignore[arg-type]  # a written receipt has a date


def _trips(
    receipts: list[_Receipt],
    *,
    db: _Backend,
    shoppers: dict[str, int],
    created: set[str],
    now: datetime,
) -> dict[_TripKey, int]:
    """Each receipt's trip by (shopper, carrier reference, departure): found or inserted.

    :raises _Retry, IntegrityError: a concurrent writer created one of them meanwhile.
    """
    wanted: dict[_TripKey, _Trip] = {}
    for receipt in receipts:
        trip = receipt.trip
        if trip is not None:
            wanted.setdefault(
                (shoppers[receipt.account_key[0]], trip.carrier_ref, trip.departs_at), trip
            )
    if not wanted:
        return {}
    new_shoppers = {shoppers[key] for key in created}  # cannot have trips yet
    found = db.trips(sorted(key for key in wanted if key[0] not in new_shoppers))
    missing = sorted(key for key in wanted if key not in found)
    if missing:
        rows = [
            (key[0], wanted[key].kind, wanted[key].mode, key[1], key[2], now) for key in missing
        ]
        inserted = db.insert_trips(rows)
        if len(inserted) != len(rows):
            raise _Retry
        found.update(inserted)
    return found


# --- Storage: COPY and arrays ------------------------------------------------------------------
# In the order of _Item.copy and _Amount.copy.
_LINE_COLUMNS = (
    "sale",
    "line_no",
    "product",
    "sku",
    "category_code",
    "pieces",
    "volume_ml",
    "quantity",
    "unit_price",
    "amount",
    "returned_quantity",
)
_ENTRY_COLUMNS = ("account", "kind", "amount", "reference", "created_at")
_SHOPPER_COLUMNS = (
    "document_type",
    "document_country",
    "document_key",
    "document_last4",
    "name_key",
    "key_version",
    "birth_date",
    "hainan_resident",
    "created_at",
    "updated_at",
)
_ACCOUNT_COLUMNS = ("shopper", "programme", "year", "limit", "used", "updated_at")
_TRIP_COLUMNS = ("shopper", "kind", "mode", "carrier_ref", "departs_at", "created_at")


def _quoted(model: type[Any], names: Iterable[str]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(model._meta.get_field(name).column) for name in names)


def _plain_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of values whose text needs no quoting: numbers, dates,
    hexadecimal keys. A whole column goes as one text parameter, not a list psycopg adapts
    element by element."""
    return "{" + ",".join(map(str, values)) + "}"


def _text_array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of any strings."""
    values = list(values)
    if not values:
        return "{}"
    return (
        '{"'
        + '","'.join(
            value.replace("\\", "\\\\").replace('"', '\\"')
            if "\\" in value or '"' in value
            else value
            for value in values
        )
        + '"}'
    )


class _IsoStamp:
    """``isoformat()`` of a datetime, remembered for the next call with the same object (the
    batch's ``now`` repeats on every row)."""

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.text = ""

    def __call__(self, at: datetime) -> str:
        if at is not self.at:
            self.at, self.text = at, at.isoformat()
        return self.text


def _time_array(values: Iterable[datetime]) -> str:
    values = list(values)
    if not values:
        return "{}"
    return '{"' + '","'.join(value.isoformat() for value in values) + '"}'


class _Backend:
    """Set-based reads and writes of one batch: keys go as one array literal per column (one
    statement whatever the batch size); new rows are streamed with ``COPY`` in text format,
    formatted here, with ids drawn beforehand from each table's sequence. Rows are inserted
    only after the batch found them missing: one created meanwhile by another writer fails on
    its unique index, and the batch is rolled back and tried again."""

    def begin(self, *, last: bool) -> None:
        if not last:  # the last batch's commit flushes the WAL of all the batches before it
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _ids(self, model: type[Any], count: int) -> list[int]:
        """``count`` fresh ids from the table's own sequence."""
        return [
            pk
            for (pk,) in self._rows(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
        ]

    def _copy(self, model: type[Any], names: Sequence[str], text: str) -> None:
        sql = f"COPY {model._meta.db_table} ({_quoted(model, names)}) FROM STDIN"
        # Errors as Django's (IntegrityError on a unique index): psycopg's copy() is not
        # wrapped by Django's cursor.
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.copy(sql) as copy,
        ):
            copy.write(text)

    def existing_receipts(self, receipt_nos: Sequence[str]) -> dict[str, str]:
        return dict(
            self._rows(
                "SELECT receipt_no, request_fingerprint FROM shops_sale "
                "WHERE receipt_no = ANY(%s::varchar[])",
                [_text_array(receipt_nos)],
            )
        )

    def shopper_ids(self, keys: Sequence[str]) -> dict[str, int]:
        return dict(
            self._rows(
                "SELECT document_key, id FROM quotas_shopper "
                "WHERE document_key = ANY(%s::varchar[])",
                [_plain_array(keys)],  # hexadecimal
            )
        )

    def accounts(
        self, wanted: Sequence[tuple[int, int, int]], *, lock: bool
    ) -> dict[tuple[int, int, int], tuple[int, Decimal, Decimal]]:
        if not wanted:
            return {}
        # The lock every sale, return and void of the shopper takes, taken in id order: two
        # imports cannot deadlock, and a sale holds one account at a time.
        sql = (
            'SELECT a.id, a.shopper_id, a.programme_id, a.year, a.used, a."limit" '
            "FROM quotas_quotaaccount AS a JOIN unnest(%s::bigint[], %s::bigint[], %s::int[]) "
            "AS k(shopper_id, programme_id, year) ON a.shopper_id = k.shopper_id "
            "AND a.programme_id = k.programme_id AND a.year = k.year ORDER BY a.id"
            + (" FOR NO KEY UPDATE OF a" if lock else "")
        )
        rows = self._rows(sql, [_plain_array(column) for column in zip(*wanted, strict=True)])
        return {(s, p, y): (pk, used, limit) for pk, s, p, y, used, limit in rows}

    def insert_shoppers(self, rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
        iso = _IsoStamp()
        ids = self._ids(Shopper, len(rows))
        text = "".join(
            [
                # Every value is an enumeration, letters and digits, hexadecimal or a date.
                f"{pk}\t{doc_type}\t{country}\t{key}\t{last4}\t{name_key}\t{version}\t"
                f"{birth}\t{'t' if resident else 'f'}\t{iso(created)}\t{iso(updated)}\n"
                for pk, (
                    doc_type,
                    country,
                    key,
                    last4,
                    name_key,
                    version,
                    birth,
                    resident,
                    created,
                    updated,
                ) in zip(ids, rows, strict=True)
            ]
        )
        self._copy(Shopper, ("id", *_SHOPPER_COLUMNS), text)
        return {row[2]: pk for row, pk in zip(rows, ids, strict=True)}

    def insert_accounts(self, rows: Sequence[tuple[Any, ...]]) -> dict[tuple[int, int, int], int]:
        iso = _IsoStamp()
        ids = self._ids(QuotaAccount, len(rows))
        text = "".join(
            [
                f"{pk}\t{shopper}\t{programme}\t{year}\t{limit}\t{used}\t{iso(at)}\n"
                for pk, (shopper, programme, year, limit, used, at) in zip(ids, rows, strict=True)
            ]
        )
        self._copy(QuotaAccount, ("id", *_ACCOUNT_COLUMNS), text)
        return {(row[0], row[1], row[2]): pk for row, pk in zip(rows, ids, strict=True)}

    def update_accounts(self, moved: Sequence[tuple[int, Decimal]], now: datetime) -> None:
        ids, deltas = zip(*moved, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE quotas_quotaaccount AS a SET used = a.used + k.delta, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS k(id, delta) WHERE a.id = k.id",
                [now, _plain_array(ids), _plain_array(deltas)],
            )

    def trips(self, keys: Sequence[_TripKey]) -> dict[_TripKey, int]:
        if not keys:
            return {}
        shoppers, carriers, departures = zip(*keys, strict=True)
        rows = self._rows(
            "SELECT t.id, t.shopper_id, t.carrier_ref, t.departs_at FROM quotas_trip AS t "
            "JOIN unnest(%s::bigint[], %s::varchar[], %s::timestamptz[]) AS k(s, c, d) "
            "ON t.shopper_id = k.s AND t.carrier_ref = k.c AND t.departs_at = k.d",
            [_plain_array(shoppers), _text_array(carriers), _time_array(departures)],
        )
        return {(s, c, d): pk for pk, s, c, d in rows}

    def insert_trips(self, rows: Sequence[tuple[Any, ...]]) -> dict[_TripKey, int]:
        iso = _IsoStamp()
        ids = self._ids(Trip, len(rows))
        text = "".join(
            [
                # kind and mode are enumerations; a carrier reference is letters, digits,
                # spaces, dashes and slashes.
                f"{pk}\t{shopper}\t{kind}\t{mode}\t{carrier}\t{departs.isoformat()}\t{iso(at)}\n"
                for pk, (shopper, kind, mode, carrier, departs, at) in zip(ids, rows, strict=True)
            ]
        )
        self._copy(Trip, ("id", *_TRIP_COLUMNS), text)
        return {(row[0], row[3], row[4]): pk for row, pk in zip(rows, ids, strict=True)}

    def insert_sales(self, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        ids = self._ids(Sale, len(rows))
        text = "".join(
            [
                f"{pk}\t{_copy_text(receipt_no)}\t{store}\t{terminal}\t{shopper}\t"
                f"{_NULL if trip is None else trip}\t{account}\t{policy}\t"
                f"{sold_at.isoformat()}\t{local_date}\t{pickup}\t{kind}\t{status}\t{total}\t"
                f"{returned}\t{after}\t{_copy_text(key)}\t{fingerprint}\t"
                f"{'t' if imported else 'f'}\n"
                for pk, (
                    receipt_no,
                    store,
                    terminal,
                    shopper,
                    trip,
                    account,
                    policy,
                    sold_at,
                    local_date,
                    pickup,
                    kind,
                    status,
                    total,
                    returned,
                    after,
                    key,
                    fingerprint,
                    imported,
                ) in zip(ids, rows, strict=True)
            ]
        )
        self._copy(Sale, ("id", *SALE_COLUMNS), text)
        return ids

    def insert_lines(self, receipts: Sequence[_Receipt], sale_ids: Sequence[int]) -> None:
        text = "".join(
            [
                f"{sale_id}\t{number}\t{item.copy}\t{amount.copy}\t0\n"
                for receipt, sale_id in zip(receipts, sale_ids, strict=True)
                for number, (_, item, amount) in enumerate(receipt.lines, start=1)
            ]
        )
        self._copy(SaleLine, _LINE_COLUMNS, text)

    def insert_entries(self, rows: Sequence[tuple[Any, ...]]) -> None:
        iso = _IsoStamp()
        text = "".join(
            [
                f"{account}\t{kind}\t{amount}\t{_copy_text(reference)}\t{iso(at)}\n"
                for account, kind, amount, reference, at in rows
            ]
        )
        self._copy(QuotaEntry, _ENTRY_COLUMNS, text)

    def mark_dirty(self, slices: Sequence[tuple[date, int]], now: datetime) -> None:
        days, stores = zip(*slices, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO shops_dirtyday (day, store_id, marked_at) "
                "SELECT d, s, %s FROM unnest(%s::date[], %s::bigint[]) AS k(d, s)",
                [now, _plain_array(days), _plain_array(stores)],
            )


# --- Terminals ------------------------------------------------------------------------------------
def import_terminals(
    store_ids: Iterable[int], *, now: datetime, dry_run: bool = False
) -> dict[int, int]:
    """Each store's ``legacy-import`` terminal by store id, created on demand and revoked
    from birth: its key is never shown, and a revoked terminal never authenticates
    (``shops.auth``). A store whose terminal of that name is active is left out. In a dry
    run nothing is created (id 0)."""
    wanted = set(store_ids)
    found = {
        store: (pk, revoked)
        for store, pk, revoked in Terminal.objects.filter(
            name=TERMINAL_NAME, store_id__in=wanted
        ).values_list("store_id", "id", "revoked_at")
    }
    terminals = {}
    for store_id in sorted(wanted):
        if store_id in found:
            pk, revoked = found[store_id]
            if revoked is not None:
                terminals[store_id] = pk
            continue
        if dry_run:
            terminals[store_id] = 0
            continue
        _, prefix, key_hash = Terminal.new_key()  # the key itself is dropped at once
        terminal, _ = Terminal.objects.get_or_create(
            store_id=store_id,
            name=TERMINAL_NAME,
            defaults={"key_prefix": prefix, "key_hash": key_hash, "revoked_at": now},
        )
        if terminal.revoked_at is not None:
            terminals[store_id] = terminal.pk
    return terminals


# --- The import -----------------------------------------------------------------------------------
def import_sales(
    path_or_file: Source,
    *,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
    now: datetime | None = None,
    batch_size: int = BATCH_RECEIPTS,
    workers: int | None = None,
) -> ImportReport:
    """Import historical receipts (see the module docstring). A dry run checks everything,
    the quota included, and writes nothing.

    ``progress`` is called with numbers of CSV lines as they are settled (written, skipped or
    rejected). ``now`` stamps the rows written (default: the clock). Receipts go in batch by
    batch: if the database fails, the batches before stay written, and re-running the file
    skips them.

    ``workers`` (PostgreSQL, outside a transaction; default ``WORKERS``): that many
    connections write at once, each the receipts of its own shoppers (by document key), so
    that no two share an account, a shopper or a trip and each shopper's receipts still go in
    ``sold_at`` order. Elsewhere, or inside a transaction, one writer.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    report = ImportReport(dry_run=dry_run)
    try:
        reader = _Reader(now=now)
        with _lines(path_or_file) as lines:
            reader.read(lines, report)
    except (ImportRefused, OSError) as exc:
        report.refused = True
        report.errors = [
            str(exc) if isinstance(exc, ImportRefused) else f"cannot read the file: {exc}"
        ]
        report.seconds = time.perf_counter() - started
        return report

    errors = list(reader.orphans)
    report.rejected += len(reader.orphans)
    settled = len(reader.orphans)
    good = []
    for receipt in reader.receipts.values():
        reader.resolve(receipt)
        if receipt.errors:
            report.rejected += 1
            settled += receipt.line_count
            errors += [(n, f"{receipt.where(n)}: {message}") for n, message in receipt.errors]
        else:
            good.append(receipt)
    if not dry_run:
        for doc_type, country, number, name in reader.rekey:
            shopper_rekey(doc_type=doc_type, country=country, number=number, name=name, now=now)
    del reader
    if progress and settled:
        progress(settled)
    good.sort(key=attrgetter("sold_at", "first_line"))

    terminals = import_terminals({r.store_id for r in good}, now=now, dry_run=dry_run)
    count = _writers(workers)
    groups: list[list[_Receipt]] = [[] for _ in range(count)]
    for receipt in good:
        groups[int(receipt.account_key[0][:8], 16) % count].append(receipt)
    notes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def settle(batch: Sequence[_Receipt], outcome: _Outcome) -> None:
        with lock:
            report.imported += len(outcome.accepted)
            report.lines_imported += sum(len(r.lines) for r in outcome.accepted)
            report.skipped += outcome.skipped
            report.rejected += len(outcome.errors)
            notes.extend(outcome.notes)
            errors.extend(outcome.errors)
            if progress:
                progress(sum(r.line_count for r in batch))

    def write(group: list[_Receipt]) -> None:
        _write_group(
            group,
            terminals=terminals,
            now=now,
            dry_run=dry_run,
            batch_size=batch_size,
            settle=settle,
        )

    if count == 1:
        write(groups[0])
    else:
        with ThreadPoolExecutor(count, thread_name_prefix="import-sales") as pool:
            for future in [pool.submit(_in_own_connection, write, group) for group in groups]:
                future.result()
    errors.sort(key=itemgetter(0))
    notes.sort(key=itemgetter(0))
    report.errors = [message for _, message in errors]
    report.notes = [message for _, message in notes]
    report.seconds = time.perf_counter() - started
    return report


def _writers(requested: int | None) -> int:
    """How many connections write at once (see :func:`import_sales`)."""
    if connection.in_atomic_block:
        return 1  # a writer thread could not see the caller's uncommitted rows
    return max(1, WORKERS if requested is None else requested)


def _in_own_connection(work: Callable[[list[_Receipt]], None], group: list[_Receipt]) -> None:
    """Run ``work`` in this thread's own database connection, closed afterwards."""
    try:
        work(group)
    finally:
        connection.close()


def _write_group(
    receipts: list[_Receipt],
    *,
    terminals: dict[int, int],
    now: datetime,
    dry_run: bool,
    batch_size: int,
    settle: Callable[[Sequence[_Receipt], _Outcome], None],
) -> None:
    """Write ``receipts`` (in ``sold_at`` order) batch by batch, one transaction each."""
    db = _Backend()
    spent: dict[_AccountKey, Decimal] = {}
    for start in range(0, len(receipts), batch_size):
        batch = receipts[start : start + batch_size]
        last = start + batch_size >= len(receipts)
        for attempt in range(RETRIES):
            try:
                with transaction.atomic(durable=True):
                    db.begin(last=last or dry_run)
                    outcome = _batch(
                        batch,
                        db=db,
                        terminals=terminals,
                        spent_before=spent,
                        now=now,
                        dry_run=dry_run,
                    )
                break
            except (_Retry, IntegrityError, OperationalError):
                # A concurrent writer created a row this batch meant to create, or a
                # deadlock: rolled back, read again. Anything else fails again and is raised.
                if attempt == RETRIES - 1:
                    raise
        spent.update(outcome.spent)
        settle(batch, outcome)
