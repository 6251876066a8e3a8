"""Requests validated with pydantic, bodies and query strings alike: one technology, one error
shape. Every error is a 400 problem (``invalid_input``, or ``malformed_request`` for a body
that is not JSON) whose ``errors`` name the fields, in the request's language
(docs/ARCHITECTURE.md, "Requests").

A body model is a :class:`Body` (strict: JSON types as sent; a field the contract does not
define, at any depth, is refused); a query model a :class:`Query` (lax: every value arrives as
text; a parameter the operation does not define is refused).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from drf_spectacular.utils import OpenApiParameter
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from dutyfree.errors import DomainError


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


class InvalidInput(DomainError):
    """A body that does not have the contract's shape: 400 with ``errors`` by field."""

    status = 400
    code = "invalid_input"
    title = gettext_lazy("Invalid input")


class MalformedRequest(DomainError):
    status = 400
    code = "malformed_request"
    title = gettext_lazy("Malformed request")


class Body(BaseModel):
    # extra="forbid": a field the contract does not define, at any depth, is a 400 naming it
    # (a dropped "at", "price" or "discount" would silently change what the till meant).
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class QueryError(ValueError):
    """Values that do not go together, told on one parameter (:meth:`Query.check`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class Query(BaseModel):
    """A query string's parameters. Lax, since every value arrives as text ("50" is 50)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    unknown_field_hints: ClassVar[dict[str, Any]] = {}
    # Strict: a parameter the operation does not define, or one sent empty, is a 400 naming
    # it. Otherwise both are ignored (an empty one means "not sent").
    strict_parameters: ClassVar[bool] = True

    def check(self) -> None:
        """Checks across parameters, once each is valid.

        :raises QueryError: the values do not go together.
        """


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


def _message(model: type[BaseModel], error: Any, location: str) -> str:
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


M = TypeVar("M", bound=Body)
Q = TypeVar("Q", bound="Query")


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


def _invalid(errors: dict[str, list[str]]) -> InvalidInput:
    return InvalidInput(_("The request has invalid fields; see errors."), errors=errors)


def parse_query(model: type[Q], params: Mapping[str, str]) -> Q:
    """Validate a query string (the last value of each parameter, as Django reads it);
    messages in the request's language.

    :raises InvalidInput: a parameter the operation does not define, one sent empty, a bad
        value, or values that do not go together; ``errors`` by parameter.
    """
    if not model.strict_parameters:  # as a browser's form or cache buster sends them
        params = {k: v for k, v in params.items() if k in model.model_fields and v.strip()}
    unknown = sorted(set(params) - set(model.model_fields))
    if unknown:
        raise _invalid({name: [_("Not a parameter of this operation.")] for name in unknown})
    # (An HTML form sends "?sku=" for no sku at all: to a till it is a mistake.)
    empty = sorted(name for name, value in params.items() if not value.strip())
    if empty:
        raise _invalid({name: [_("Give a value, or leave the parameter out.")] for name in empty})
    try:
        query = model.model_validate(dict(params.items()))
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False, include_input=False):
            location = _location(error["loc"])
            errors.setdefault(location, []).append(_message(model, error, location))
        raise _invalid(errors) from exc
    try:
        query.check()
    except QueryError as exc:
        raise _invalid({exc.field: [exc.message]}) from exc
    return query


def query_parameters(model: type[Query]) -> list[OpenApiParameter]:
    """The operation's query parameters for the schema, from the model's fields (each one's
    JSON Schema, without the null that stands for "not sent")."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    parameters = []
    for name, field in model.model_fields.items():
        prop = dict(schema["properties"][name])
        members = [member for member in prop.pop("anyOf", ()) if member.get("type") != "null"]
        if members:
            (member,) = members
            prop.update(member)
        for noise in ("title", "default", "description"):
            prop.pop(noise, None)
        parameters.append(
            OpenApiParameter(
                name,
                prop,
                OpenApiParameter.QUERY,
                required=field.is_required(),
                description=field.description or "",
            )
        )
    return parameters
