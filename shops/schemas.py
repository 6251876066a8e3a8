"""Input shapes of the terminal API, validated straight from the request body with pydantic.

Strict: JSON strings for identifiers (a number would lose leading zeros), JSON integers for
quantities, JSON booleans for flags, ISO 8601 for dates and times (a time without an offset is
Asia/Shanghai). pydantic validates the raw JSON in one pass; DRF serializers cost ~1.5 ms per
sale here, more than the database work (bench/pos_load.py).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from django.utils import timezone
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from dutyfree.db import MAX_ID
from dutyfree.errors import DomainError
from quotas import identity
from quotas.rules import MAX_LINE_QUANTITY, carrier_ref_key
from quotas.services import PresentedShopper

from .checkout import Basket, LineInput, TripInput
from .lookup import LookupQuery

_CARRIER_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-/]{0,31}$")
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")

DocumentType = Literal["resident_id", "passport", "hkmo_permit", "tw_permit", "foreigner_id"]
PickupMode = Literal["departure", "mail", "return_to_island", "immediate", "guarantee"]


def _text(value: str) -> str:
    """Text the database can store and a receipt can print: no NUL, no lone surrogates."""
    if "\x00" in value:
        raise ValueError("Null characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("Not valid Unicode text.") from exc
    return value


Text = AfterValidator(_text)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Text]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64), Text]
Quantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]


class InvalidInput(DomainError):
    """A body that does not have the contract's shape: 400 with ``errors`` by field."""

    status = 400
    code = "invalid_input"
    title = "Invalid input"


class MalformedRequest(DomainError):
    status = 400
    code = "malformed_request"
    title = "Malformed request"


def _local(value: datetime) -> datetime:
    """A time without an offset is read as Asia/Shanghai (the policy's local time); the
    instant must lie in this century or the next."""
    if value.tzinfo is None:
        value = timezone.make_aware(value, timezone.get_default_timezone())
    try:
        year = value.astimezone(UTC).year
    except OverflowError as exc:
        raise ValueError("Out of range.") from exc
    if not 2000 <= year <= 2199:
        raise ValueError("Out of range.")
    return value


def _carrier_ref(value: str) -> str:
    if not _CARRIER_REF.match(value):
        raise ValueError("A flight, train or ship reference such as HU7181.")
    return carrier_ref_key(value)


class _Input(BaseModel):
    # extra="forbid": a field the contract does not define, at any depth, is a 400 naming it
    # (a dropped "at", "price" or "discount" would silently change what the till meant).
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class DocumentIn(_Input):
    type: DocumentType
    number: Annotated[str, StringConstraints(min_length=1, max_length=64), Text]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] = "CHN"

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
        if self.type == "resident_id" and not _RESIDENT_ID.match(self.number):
            raise ValueError("A resident identity card number has 17 digits and a digit or X.")
        return self


class ShopperIn(_Input):
    document: DocumentIn
    name: Name
    birth_date: date
    hainan_resident: bool = False

    @field_validator("birth_date")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if value < date(1900, 1, 1) or value > timezone.localdate():
            raise ValueError("Not a plausible birth date.")
        return value

    @model_validator(mode="after")
    def _matches_resident_id(self) -> ShopperIn:
        if self.document.type == "resident_id" and self.document.number[
            6:14
        ] != self.birth_date.strftime("%Y%m%d"):
            raise ValueError("birth_date does not match the birth date in the identity number.")
        return self


class TripIn(_Input):
    mode: Literal["air", "rail", "sea"]
    kind: Literal["domestic", "outbound"]
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


class LineIn(_Input):
    sku: Sku
    quantity: Quantity


class BasketIn(_Input):
    # A sale is judged at the moment it commits: "at" (a quote's) is refused, saying why.
    unknown_field_hints: ClassVar[dict[str, str]] = {
        "at": "A sale is judged at the moment it commits: at is for quotes only."
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
    unknown_field_hints: ClassVar[dict[str, str]] = {}

    # Absent: now. Present, it must be a time (an explicit null is refused).
    at: datetime = Field(default=None, description="Judge as of this instant (default now).")  # type: ignore[assignment]

    @field_validator("at")
    @classmethod
    def _at(cls, value: datetime) -> datetime:
        return _local(value)


class NoBodyIn(_Input):
    """The body of an action that takes none (void, pickup): nothing, or ``{}``."""


class ReturnLineIn(_Input):
    line: Annotated[int, Field(ge=1, le=MAX_ID)]
    quantity: Quantity


class ReturnIn(_Input):
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=100)]
    reason: Annotated[str, StringConstraints(max_length=500), Text] = ""

    @field_validator("lines")
    @classmethod
    def _once(cls, lines: list[ReturnLineIn]) -> list[ReturnLineIn]:
        if len({line.line for line in lines}) != len(lines):
            raise ValueError("Each sale line once.")
        return lines


class DepartureIn(_Input):
    document: DocumentIn
    carrier_ref: Annotated[str, StringConstraints(max_length=32), Text]
    departed_at: datetime
    kind: Literal["domestic", "outbound"] = "domestic"
    mode: Literal["air", "rail", "sea"] = "air"

    @field_validator("carrier_ref")
    @classmethod
    def _carrier(cls, value: str) -> str:
        return _carrier_ref(value)

    @field_validator("departed_at")
    @classmethod
    def _departed(cls, value: datetime) -> datetime:
        return _local(value)


class LookupIn(_Input):
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


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "non_field_errors"


M = TypeVar("M", bound=_Input)


def parse(model: type[M], body: bytes) -> M:
    """Validate a JSON body.

    :raises MalformedRequest: the body is not JSON (or nests beyond reason).
    :raises InvalidInput: the JSON does not have the contract's shape; ``errors`` by field.
    """
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        malformed = False
        for error in exc.errors(include_url=False, include_input=False, include_context=False):
            if error["type"] in {"json_invalid", "recursion_loop"}:
                malformed = True
            message = error["msg"].removeprefix("Value error, ")
            location = _location(error["loc"])
            if error["type"] == "extra_forbidden":
                hints: dict[str, str] = getattr(model, "unknown_field_hints", {})
                message = hints.get(location, "This field is not part of the request: remove it.")
            errors.setdefault(location, []).append(message)
        if malformed:
            raise MalformedRequest("The body is not valid JSON.", errors=errors) from exc
        raise InvalidInput("The request has invalid fields; see errors.", errors=errors) from exc
