"""Input shapes of the terminal API, validated straight from the request body with pydantic.

Strict: JSON strings for identifiers (a number would lose leading zeros), JSON integers for
quantities, JSON booleans for flags, ISO 8601 for dates and times (a time without an offset is
Asia/Shanghai). pydantic validates the raw JSON in one pass (not DRF serializers: see
docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias, TypeVar

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
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
from quotas.choices import DocumentType as DocumentTypes
from quotas.choices import PickupMode as PickupModes
from quotas.choices import TripKind as TripKinds
from quotas.choices import TripMode as TripModes
from quotas.rules import CARRIER_REF, MAX_LINE_QUANTITY, carrier_ref_key
from quotas.services import PresentedShopper
from shops.pos.checkout import Basket, LineInput, TripInput
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


def _text(value: str) -> str:
    """Text the database can store and a receipt can print: no NUL, no lone surrogates."""
    if "\x00" in value:
        raise ValueError(_("Null characters are not allowed."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(_("Not valid Unicode text.")) from exc
    return value


Text = AfterValidator(_text)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Text]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64), Text]
Quantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]


class InvalidInput(DomainError):
    """A body that does not have the contract's shape: 400 with ``errors`` by field."""

    status = 400
    code = "invalid_input"
    title = gettext_lazy("Invalid input")


class MalformedRequest(DomainError):
    status = 400
    code = "malformed_request"
    title = gettext_lazy("Malformed request")


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


class _Input(BaseModel):
    # extra="forbid": a field the contract does not define, at any depth, is a 400 naming it
    # (a dropped "at", "price" or "discount" would silently change what the till meant).
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class DocumentIn(_Input):
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
            raise ValueError(
                _("A resident identity card number has 17 digits and a digit or X.")
            )
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
            raise ValueError(_("Not a plausible birth date."))
        return value

    @model_validator(mode="after")
    def _matches_resident_id(self) -> ShopperIn:
        if self.document.type == DocumentTypes.RESIDENT_ID and self.document.number[
            6:14
        ] != self.birth_date.strftime("%Y%m%d"):
            raise ValueError(
                _("birth_date does not match the birth date in the identity number.")
            )
        return self


class TripIn(_Input):
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


class LineIn(_Input):
    sku: Sku
    quantity: Quantity


class BasketIn(_Input):
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
            raise ValueError(_("Each sale line once."))
        return lines


class DepartureIn(_Input):
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


# pydantic's messages are English only. Each kind of error a body can have, in the request's
# language: the English reads as pydantic's own, with its context (``ctx``) filled in.
_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("Field required"),
    "bool_type": gettext_lazy("Input should be a valid boolean"),
    "int_type": gettext_lazy("Input should be a valid integer"),
    "int_from_float": gettext_lazy("Input should be a valid integer, not a fraction"),
    "string_type": gettext_lazy("Input should be a valid string"),
    "list_type": gettext_lazy("Input should be a valid array"),
    "model_type": gettext_lazy("Input should be an object"),
    "model_attributes_type": gettext_lazy("Input should be an object"),
    "dict_type": gettext_lazy("Input should be an object"),
    "date_type": gettext_lazy("Input should be a valid date"),
    "date_parsing": gettext_lazy("Input should be a valid date in the format YYYY-MM-DD"),
    "date_from_datetime_parsing": gettext_lazy(
        "Input should be a valid date in the format YYYY-MM-DD"
    ),
    "date_from_datetime_inexact": gettext_lazy(
        "Input should be a valid date in the format YYYY-MM-DD"
    ),
    "datetime_type": gettext_lazy("Input should be a valid datetime"),
    "datetime_parsing": gettext_lazy(
        "Input should be a valid datetime in ISO 8601, such as 2026-02-01T10:30:00+08:00"
    ),
    "datetime_from_date_parsing": gettext_lazy(
        "Input should be a valid datetime in ISO 8601, such as 2026-02-01T10:30:00+08:00"
    ),
    "greater_than_equal": gettext_lazy("Input should be greater than or equal to %(ge)s"),
    "less_than_equal": gettext_lazy("Input should be less than or equal to %(le)s"),
    "greater_than": gettext_lazy("Input should be greater than %(gt)s"),
    "less_than": gettext_lazy("Input should be less than %(lt)s"),
    "literal_error": gettext_lazy("Input should be %(expected)s"),
    "enum": gettext_lazy("Input should be %(expected)s"),
    "string_pattern_mismatch": gettext_lazy("String should match pattern '%(pattern)s'"),
    "string_too_short": ngettext_lazy(
        "String should have at least %(min_length)s character",
        "String should have at least %(min_length)s characters",
        "min_length",
    ),
    "string_too_long": ngettext_lazy(
        "String should have at most %(max_length)s character",
        "String should have at most %(max_length)s characters",
        "max_length",
    ),
    "too_short": ngettext_lazy(
        "Should have at least %(min_length)s item, not %(actual_length)s",
        "Should have at least %(min_length)s items, not %(actual_length)s",
        "min_length",
    ),
    "too_long": ngettext_lazy(
        "Should have at most %(max_length)s item, not %(actual_length)s",
        "Should have at most %(max_length)s items, not %(actual_length)s",
        "max_length",
    ),
    "recursion_loop": gettext_lazy("Nested too deeply"),
    "extra_forbidden": gettext_lazy("This field is not part of the request: remove it."),
}
_JSON_POSITION = re.compile(r"line (\d+) column (\d+)")


def _message(model: type[_Input], error: Any, location: str) -> str:
    """The message of one pydantic error, in the active language."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":  # our validators' messages, translated where they were raised
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        hint = getattr(model, "unknown_field_hints", {}).get(location)
        return str(hint or _MESSAGES[kind])
    if kind == "json_invalid":
        found = _JSON_POSITION.search(str(ctx.get("error", "")))
        if found:
            return _("Not valid JSON near line %(line)s, column %(column)s.") % {
                "line": found[1],
                "column": found[2],
            }
        return _("Not valid JSON.")
    template = _MESSAGES.get(kind)
    if template is None:  # a kind no body of ours has met yet
        english = (translation.get_language() or "").startswith("en")
        return error["msg"] if english else _("Invalid value.")
    values = {key: value for key, value in ctx.items() if isinstance(value, str | int | float)}
    if kind in {"literal_error", "enum"} and not (translation.get_language() or "").startswith(
        "en"
    ):
        values["expected"] = str(values.get("expected", "")).replace(" or ", " 或 ")
    try:
        return str(template % values)  # (a plural picks its form from values here)
    except (KeyError, TypeError, ValueError):
        return error["msg"]


M = TypeVar("M", bound=_Input)


def parse(model: type[M], body: bytes) -> M:
    """Validate a JSON body; messages in the request's language.

    :raises MalformedRequest: the body is not JSON (or nests beyond reason).
    :raises InvalidInput: the JSON does not have the contract's shape; ``errors`` by field.
    """
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        malformed = False
        for error in exc.errors(include_url=False, include_input=False):
            if error["type"] in {"json_invalid", "recursion_loop"}:
                malformed = True
            location = _location(error["loc"])
            errors.setdefault(location, []).append(_message(model, error, location))
        if malformed:
            raise MalformedRequest(_("The body is not valid JSON."), errors=errors) from exc
        raise InvalidInput(_("The request has invalid fields; see errors."), errors=errors) from exc
