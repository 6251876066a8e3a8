"""Small database helpers the ORM does not offer (portable across PostgreSQL and SQLite).

The point of sale's hot path writes through :func:`insert_rows`: one statement per table,
values prepared by the model fields themselves, none of the ORM's per-object machinery
(which cost more than the database work here; see bench/pos_load.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models


def _fields(model: type[models.Model], names: Sequence[str]) -> list[Any]:
    return [model._meta.get_field(name) for name in names]


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[str] = ("id",),
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """``INSERT INTO … VALUES (…), (…) [ON CONFLICT …] RETURNING …`` as one statement.

    ``rows`` share their keys (model field names); values are converted by each field's
    ``get_db_prep_save``. With ``conflict``: ``DO UPDATE SET update`` or, when ``update`` is
    empty, ``DO NOTHING`` (then a conflicting row returns nothing). Returns the ``returning``
    columns of each inserted or updated row, converted back to Python, in ``rows`` order.
    """
    if not rows:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    fields = _fields(model, list(rows[0]))
    params: list[Any] = []
    for row in rows:
        params.extend(field.get_db_prep_save(row[field.name], connection) for field in fields)
    placeholder = f"({', '.join(['%s'] * len(fields))})"
    sql = [
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})",
        f"VALUES {', '.join([placeholder] * len(rows))}",
    ]
    if conflict:
        target = ", ".join(quote(f.column) for f in _fields(model, conflict))
        if update:
            sets = ", ".join(
                f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in _fields(model, update)
            )
            sql.append(f"ON CONFLICT ({target}) DO UPDATE SET {sets}")
        else:
            sql.append(f"ON CONFLICT ({target}) DO NOTHING")
    returning_fields = _fields(model, returning)
    sql.append(f"RETURNING {', '.join(quote(f.column) for f in returning_fields)}")
    # Identifiers come from model metadata and are quoted; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(" ".join(sql), params)
        fetched = cursor.fetchall()
    columns = [field.get_col(meta.db_table) for field in returning_fields]
    converters = [
        connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        for column in columns
    ]
    result = []
    for row in fetched:
        values = {}
        for field, column, convert, value in zip(
            returning_fields, columns, converters, row, strict=True
        ):
            for converter in convert:
                value = converter(value, column, connection)
            values[field.name] = value
        result.append(values)
    return result


def insert_returning(
    model: type[models.Model],
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    update: Sequence[str] = (),
    returning: Sequence[str] = ("id",),
) -> dict[str, Any] | None:
    """One row through :func:`insert_rows`: the returned columns, or ``None`` when the row
    existed and ``update`` is empty (``DO NOTHING``)."""
    found = insert_rows(model, [values], returning=returning, conflict=conflict, update=update)
    return found[0] if found else None


def select_rows(sql: str, params: Sequence[Any], fields: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run a hand-written ``SELECT`` whose columns are ``fields`` (model fields, in order) and
    convert each value as the ORM would (Decimal, aware datetime, date on every backend)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    columns = [field.get_col(field.model._meta.db_table) for field in fields]
    converters = [
        connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        for column in columns
    ]
    if not any(converters):
        return fetched
    rows = []
    for row in fetched:
        values = []
        for column, convert, value in zip(columns, converters, row, strict=True):
            for converter in convert:
                value = converter(value, column, connection)
            values.append(value)
        rows.append(tuple(values))
    return rows


def db_value(model: type[models.Model], name: str, value: Any) -> Any:
    """``value`` as a parameter for ``model.name``'s column."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)
