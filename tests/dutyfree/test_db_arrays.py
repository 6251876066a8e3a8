"""The array literals that carry a whole column as one parameter (dutyfree.db) come back from
PostgreSQL as the values that went in, whatever the strings hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from dutyfree.db import column_array, fetch_all, plain_array, text_array

pytestmark = pytest.mark.django_db

AWKWARD = ['a"b\\c', "", "x,y", "{}", "NULL", "null", " spaced ", "中文", "tab\there", "'"]


@pytest.mark.parametrize(
    ("values", "cast"),
    [
        (AWKWARD, "varchar(64)[]"),
        ([*AWKWARD, None], "text[]"),
        ([1, None, 2**62], "bigint[]"),
        ([Decimal("1200.00"), Decimal("0.01"), None], "numeric(14, 2)[]"),
        ([], "integer[]"),
    ],
)
def test_column_array_round_trips(values: list[Any], cast: str) -> None:
    ((back,),) = fetch_all(f"SELECT %s::{cast}", [column_array(values)])
    assert back == values


def test_a_null_string_and_none_stay_apart() -> None:
    ((back,),) = fetch_all("SELECT %s::text[]", [column_array(["NULL", None])])
    assert back == ["NULL", None]


def test_the_older_literals_still_round_trip() -> None:
    ((numbers, texts),) = fetch_all(
        "SELECT %s::bigint[], %s::text[]", [plain_array([3, 1, 2]), text_array(AWKWARD)]
    )
    assert numbers == [3, 1, 2]
    assert texts == AWKWARD
