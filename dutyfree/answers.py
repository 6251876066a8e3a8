"""The shape of an answer, written once: a pydantic model builds the body and, passed to
``extend_schema(responses=...)``, describes it in the OpenAPI document
(``drf_spectacular.contrib.pydantic``). See docs/ARCHITECTURE.md, "Answers".

A body is ``Model(...).body()``: the fields in the order the model declares them, money as
strings with two places, times in Asia/Shanghai as ISO 8601 with their offset. A member that
only some answers carry is typed ``X | Absent = MISSING`` and left out of the body (and out of the
schema's ``required``) when not given.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeAlias

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from dutyfree import money

__all__ = ["MISSING", "Absent", "Answer", "LocalTime", "Money"]

# A member some answers leave out: ``field: X | Absent = MISSING``. pydantic's sentinel (PEP
# 661) is not a type to mypy yet: to it, a class of its own.
if TYPE_CHECKING:

    class _Absent:
        pass

    Absent: TypeAlias = _Absent
    MISSING: Final = _Absent()
else:
    from pydantic import MISSING

    Absent = MISSING

MONEY_PATTERN = r"^-?\d+\.\d{2}$"


def _local_iso(value: datetime) -> str:
    return value.astimezone(timezone.get_default_timezone()).isoformat()


# Yuan as a decimal string with two places ("1234.50"), never a float.
Money = Annotated[
    Decimal,
    PlainSerializer(money.to_str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN}),
]
# An instant as the policy's local time reads it (Asia/Shanghai, "+08:00").
LocalTime = Annotated[
    datetime,
    PlainSerializer(_local_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _open(schema: dict[str, Any]) -> None:
    # Answers may grow (the contract lets them): a client must not refuse a member it does not
    # know, whatever the model refuses when it is built.
    schema.pop("additionalProperties", None)


class Answer(BaseModel):
    """An answer's body: built from values already checked, so a member the model does not
    declare is refused when it is built (a misspelt field fails the test that builds it, not a
    till); the schema leaves answers open to members added later."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_open)

    def body(self) -> dict[str, Any]:
        """The JSON-ready body, in the model's field order."""
        return self.model_dump(mode="json")
