"""Small database helpers the ORM does not offer (portable across PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models


def insert_returning(
    model: type[models.Model],
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    update: Sequence[str] = (),
    returning: Sequence[str] = ("id",),
) -> dict[str, Any] | None:
    """``INSERT … ON CONFLICT (conflict) DO UPDATE SET update | DO NOTHING RETURNING …``.

    One statement: returns the inserted (or, with ``update``, the updated) row's ``returning``
    columns, or ``None`` when the row existed and ``update`` is empty. An update takes the
    row lock until the transaction ends. ``values`` are model field names; each is converted
    with the field's ``get_db_prep_save``.
    """
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    columns = [field.column for field in fields]  # type: ignore[union-attr]
    params = [
        field.get_db_prep_save(values[field.name], connection)  # type: ignore[union-attr]
        for field in fields
    ]
    quote = connection.ops.quote_name
    conflict_columns = ", ".join(quote(meta.get_field(name).column) for name in conflict)  # type: ignore[union-attr]
    if update:
        sets = ", ".join(
            f"{quote(meta.get_field(name).column)} = EXCLUDED.{quote(meta.get_field(name).column)}"  # type: ignore[union-attr]
            for name in update
        )
        action = f"DO UPDATE SET {sets}"
    else:
        action = "DO NOTHING"
    returning_fields = [meta.get_field(name) for name in returning]
    # Identifiers come from model metadata and are quoted; every value is a parameter.
    table = quote(meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({conflict_columns}) {action} "
        f"RETURNING {', '.join(quote(f.column) for f in returning_fields)}"  # type: ignore[union-attr]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    result = {}
    for field, value in zip(returning_fields, row, strict=True):
        column = field.get_col(meta.db_table)  # type: ignore[union-attr]
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        for converter in converters:
            value = converter(value, column, connection)
        result[field.name] = value  # type: ignore[union-attr]
    return result
