"""Input shapes of the terminal API, validated straight from the request body with pydantic.

Strict: JSON strings for identifiers (a number would lose leading zeros), JSON integers for
quantities, JSON booleans for flags, ISO 8601 for dates and times (a time without an offset is
Asia/Shanghai). pydantic validates the raw JSON in one pass (not DRF serializers: see
docs/ARCHITECTURE.md), and the query strings too (dutyfree.validation: one technology, one
error shape).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dutyfree.db import MAX_ID
from dutyfree.validation import Body, Query, QueryError, Text
from quotas import identity
from quotas.choices import DocumentType as DocumentTypes
from quotas.choices import PickupMode as PickupModes
from quotas.choices import TripKind as TripKinds
from quotas.choices import TripMode as TripModes
from quotas.rules import CARRIER_REF, MAX_LINE_QUANTITY, carrier_ref_key
from quotas.services import PresentedShopper
from shops.models import BARCODE, SKU
from shops.pos.checkout import Basket, LineInput, TripInput
from shops.reporting import stats
from shops.reporting.stats import Align as StatsAlign
from shops.reporting.stats import Group as StatsGroup
from shops.shoppers.lookup import LookupQuery

# The contract's enumerations, as JSON Schema enums of the choices' values. Built from the
# choices at run time, which a type checker cannot follow: to it they are strings.
if TYPE_CHECKING:
    DocumentType: TypeAlias = str
    PickupMode: TypeAlias = str
    TripKind: TypeAlias = str
    TripMode: TypeAlias = str
else:
    DocumentType = Literal[tuple(DocumentTypes.values)]
    PickupMode = Literal[tuple(PickupModes.values)]
    TripKind = Literal[tuple(TripKinds.values)]
    TripMode = Literal[tuple(TripModes.values)]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Text]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64), Text]
Quantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]


def _local(value: datetime) -> datetime:
    """A time without an offset is read as Asia/Shanghai (the policy's local time); the
    instant must lie in this century or the next."""
    if value.tzinfo is None:
        value = timezone.make_aware(value, timezone.get_default_timezone())
    try:
        year = value.astimezone(UTC).year
    except OverflowError as exc:
        raise ValueError(_("Out of range.")) from exc
    if not 2000 <= year <= 2199:
        raise ValueError(_("Out of range."))
    return value


def _carrier_ref(value: str) -> str:
    if not CARRIER_REF.match(value):
        raise ValueError(_("A flight, train or ship reference such as HU7181."))
    return carrier_ref_key(value)


class DocumentIn(Body):
    type: DocumentType
    number: Annotated[str, StringConstraints(min_length=1, max_length=64), Text]
    country: Annotated[str, StringConstraints(pattern=identity.COUNTRY)] = "CHN"

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        try:
            return identity.normalise_document_number(value)
        except identity.InvalidDocument as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _resident_id(self) -> DocumentIn:
        if self.type == DocumentTypes.RESIDENT_ID and not identity.RESIDENT_ID.match(self.number):
            raise ValueError(_("A resident identity card number has 17 digits and a digit or X."))
        return self


class ShopperIn(Body):
    document: DocumentIn
    name: Name
    birth_date: date
    hainan_resident: bool = False

    @field_validator("birth_date")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if value < date(1900, 1, 1) or value > timezone.localdate():
            raise ValueError(_("Not a plausible birth date."))
        return value

    @model_validator(mode="after")
    def _matches_resident_id(self) -> ShopperIn:
        if self.document.type == DocumentTypes.RESIDENT_ID and self.document.number[
            6:14
        ] != self.birth_date.strftime("%Y%m%d"):
            raise ValueError(_("birth_date does not match the birth date in the identity number."))
        return self


class TripIn(Body):
    mode: TripMode
    kind: TripKind
    carrier_ref: Annotated[str, StringConstraints(max_length=32), Text]
    departs_at: datetime

    @field_validator("carrier_ref")
    @classmethod
    def _carrier(cls, value: str) -> str:
        return _carrier_ref(value)

    @field_validator("departs_at")
    @classmethod
    def _departs(cls, value: datetime) -> datetime:
        return _local(value)


class LineIn(Body):
    sku: Sku
    quantity: Quantity


class BasketIn(Body):
    # A sale is judged at the moment it commits: "at" (a quote's) is refused, saying why.
    unknown_field_hints: ClassVar[dict[str, Any]] = {
        "at": gettext_lazy("A sale is judged at the moment it commits: at is for quotes only.")
    }

    shopper: ShopperIn
    trip: TripIn | None = None
    pickup: PickupMode
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=100)]

    def basket(self) -> Basket:
        document = self.shopper.document
        return Basket(
            shopper=PresentedShopper(
                doc_type=document.type,
                country=document.country,
                number=document.number,
                name=self.shopper.name,
                birth_date=self.shopper.birth_date,
                hainan_resident=self.shopper.hainan_resident,
            ),
            trip=TripInput(
                kind=self.trip.kind,
                mode=self.trip.mode,
                carrier_ref=self.trip.carrier_ref,
                departs_at=self.trip.departs_at,
            )
            if self.trip
            else None,
            pickup=self.pickup,
            lines=tuple(LineInput(sku=line.sku, quantity=line.quantity) for line in self.lines),
        )


class QuoteIn(BasketIn):
    unknown_field_hints: ClassVar[dict[str, Any]] = {}

    # Absent: now. Present, it must be a time (an explicit null is refused).
    at: datetime = Field(default=None, description="Judge as of this instant (default now).")  # type: ignore[assignment]  # None: absent

    @field_validator("at")
    @classmethod
    def _at(cls, value: datetime) -> datetime:
        return _local(value)


class NoBodyIn(Body):
    """The body of an action that takes none (void, pickup): nothing, or ``{}``."""


class ReturnLineIn(Body):
    line: Annotated[int, Field(ge=1, le=MAX_ID)]
    quantity: Quantity


class ReturnIn(Body):
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=100)]
    reason: Annotated[str, StringConstraints(max_length=500), Text] = ""

    @field_validator("lines")
    @classmethod
    def _once(cls, lines: list[ReturnLineIn]) -> list[ReturnLineIn]:
        if len({line.line for line in lines}) != len(lines):
            raise ValueError(_("Each sale line once."))
        return lines


class DepartureIn(Body):
    document: DocumentIn
    carrier_ref: Annotated[str, StringConstraints(max_length=32), Text]
    departed_at: datetime
    kind: TripKind = "domestic"
    mode: TripMode = "air"

    @field_validator("carrier_ref")
    @classmethod
    def _carrier(cls, value: str) -> str:
        return _carrier_ref(value)

    @field_validator("departed_at")
    @classmethod
    def _departed(cls, value: datetime) -> datetime:
        return _local(value)


class LookupIn(Body):
    """A shopper's own quota: the document and the name as printed on it."""

    document: DocumentIn
    name: Name

    def query(self) -> LookupQuery:
        return LookupQuery(
            doc_type=self.document.type,
            country=self.document.country,
            number=self.document.number,
            name=self.name,
        )


# --- Query strings -----------------------------------------------------------------------------
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: Any) -> Any:
    """A local day as ``YYYY-MM-DD``; a day the calendar does not have (2026-13-01,
    2026-02-30) is told so, not called a wrong format."""
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise PydanticCustomError("date_parsing", "Input should be a valid date")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            _("There is no such day as {value}: the month or the day is out of range.").format(
                value=value
            )
        ) from None
    return value


Day = Annotated[date, BeforeValidator(_day)]
MAX_PAGE_SIZE = 200
Barcode = Annotated[str, StringConstraints(pattern=BARCODE.pattern)]
MAX_SKUS = 100
MAX_WORDS = 10


class PageQuery(Query):
    cursor: Annotated[str, StringConstraints(max_length=1000), Text] | None = Field(
        default=None, description="The next page: as the answer's next gives it."
    )
    page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] | None = Field(
        default=None, description="Default 50."
    )


class ProductQuery(PageQuery):
    sku: Annotated[str, StringConstraints(max_length=MAX_SKUS * 65), Text] | None = Field(
        default=None, description=f"SKUs, comma-separated (at most {MAX_SKUS})."
    )
    barcode: Barcode | None = Field(default=None, description="As the scanner reads it.")
    q: Annotated[str, StringConstraints(max_length=200), Text] | None = Field(
        default=None,
        description="Words that must all appear in the names (zh or en), brand or SKU; any case.",
    )

    @field_validator("sku")
    @classmethod
    def _skus(cls, value: str) -> str:
        skus = cls.split(value)
        if not skus or len(skus) > MAX_SKUS or not all(SKU.match(sku) for sku in skus):
            raise ValueError(_("1 to %(most)s SKUs separated by commas.") % {"most": MAX_SKUS})
        return value

    @field_validator("q")
    @classmethod
    def _words(cls, value: str) -> str:
        if not value.split() or len(value.split()) > MAX_WORDS:
            raise ValueError(_("1 to %(most)s words.") % {"most": MAX_WORDS})
        return value

    @staticmethod
    def split(skus: str) -> list[str]:
        return [sku.strip() for sku in skus.split(",") if sku.strip()]

    @property
    def skus(self) -> list[str]:
        return self.split(self.sku or "")

    @property
    def words(self) -> list[str]:
        return (self.q or "").split()


class SaleQuery(PageQuery):
    receipt_no: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,40}$")] | None = None
    date: Day | None = Field(default=None, description="A local (Asia/Shanghai) day.")

    def check(self) -> None:
        if not self.receipt_no and not self.date:
            raise QueryError("receipt_no", _("Give receipt_no or date (or both)."))


class TerminalReportQuery(Query):
    date: Day | None = Field(
        default=None, description="A local (Asia/Shanghai) day; today when absent."
    )


class PolicyPreviewIn(Body):
    policy: Annotated[int, Field(ge=1, le=MAX_ID)] = Field(
        description="The version to preview: a draft or any published one."
    )
    start: date | None = Field(
        default=None, description="The first local day, included (default: 29 days before end)."
    )
    end: date | None = Field(
        default=None, description="The last local day, included (default: today)."
    )


class StatsQuery(Query):
    start: Day
    end: Day
    group_by: StatsGroup | None = None
    align: StatsAlign = "calendar"

    def check(self) -> None:
        try:
            stats.check_period(self.start, self.end)
        except stats.StatsError as exc:
            raise QueryError(exc.field or "non_field_errors", str(exc)) from None
