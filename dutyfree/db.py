"""Small PostgreSQL helpers the ORM does not offer.

The hot paths write through :func:`insert_rows` and read through :func:`select_rows`, not the
ORM's per-object machinery (why: docs/ARCHITECTURE.md, "Hand-written statements"), and a row
read or written by hand becomes a model instance through :func:`loaded` (``Model.from_db``),
never by setting an instance's ``_state``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections, models

M = TypeVar("M", bound=models.Model)

# The largest id a bigint primary key can hold: a larger id in a URL or body matches nothing.
MAX_ID = 2**63 - 1


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
    # The real connection, not the thread-local proxy: looked up once, not per value.
    connection = connections[DEFAULT_DB_ALIAS]
    names = tuple(rows[0])
    fields = _fields(model, names)
    params: list[Any] = []
    for row in rows:
        params.extend(field.get_db_prep_save(row[field.name], connection) for field in fields)
    sql = _insert_sql(model, names, len(rows), tuple(conflict), tuple(update), tuple(returning))
    returning_fields = _fields(model, returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    converters = _converters(model, tuple(returning))
    result = []
    for row in fetched:
        values = {}
        for field, (column, convert), value in zip(returning_fields, converters, row, strict=True):
            for converter in convert:
                value = converter(value, column, connection)
            values[field.name] = value
        result.append(values)
    return result


@cache
def _insert_sql(
    model: type[models.Model],
    names: tuple[str, ...],
    count: int,
    conflict: tuple[str, ...],
    update: tuple[str, ...],
    returning: tuple[str, ...],
) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    fields = _fields(model, names)
    placeholder = f"({', '.join(['%s'] * len(fields))})"
    sql = [
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)})",
        f"VALUES {', '.join([placeholder] * count)}",
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
    sql.append(f"RETURNING {', '.join(quote(f.column) for f in _fields(model, returning))}")
    # Identifiers come from model metadata and are quoted; every value is a parameter.
    return " ".join(sql)


@cache
def _converters(
    model: type[models.Model], returning: tuple[str, ...]
) -> list[tuple[Any, list[Any]]]:
    """(column, converters) for each returned field: the ORM's own value conversions."""
    connection = connections[DEFAULT_DB_ALIAS]
    found = []
    for field in _fields(model, returning):
        column = field.get_col(model._meta.db_table)
        found.append(
            (
                column,
                connection.ops.get_db_converters(column) + column.get_db_converters(connection),
            )
        )
    return found


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
    convert each value as the ORM would (Decimal, aware datetime, date)."""
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    columns, converters = _select_converters(tuple(fields))
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


@cache
def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", model._meta.get_field(name))  # a column, not a relation


@cache
def _select_converters(fields: tuple[Any, ...]) -> tuple[list[Any], list[list[Any]]]:
    """The columns of ``fields`` and the ORM's converters of each (per process, not per row)."""
    connection = connections[DEFAULT_DB_ALIAS]
    columns = [field.get_col(field.model._meta.db_table) for field in fields]
    converters = [
        connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        for column in columns
    ]
    return columns, converters


def db_value(model: type[models.Model], name: str, value: Any) -> Any:
    """``value`` as a parameter for ``model.name``'s column."""
    return _column(model, name).get_db_prep_save(value, connections[DEFAULT_DB_ALIAS])


def db_values(model: type[models.Model], values: Mapping[str, Any]) -> list[Any]:
    """Each of ``values`` (by field name) as a parameter for its column of ``model``, in order."""
    connection = connections[DEFAULT_DB_ALIAS]  # the real connection, looked up once
    return [
        _column(model, name).get_db_prep_save(value, connection) for name, value in values.items()
    ]


# --- Set-based statements: arrays and COPY -------------------------------------------------------
# Bulk reads pass a whole column as one array literal (one statement whatever the batch size, and
# one text parameter, not a list psycopg adapts element by element); bulk writes stream rows with
# COPY in text format, ids drawn beforehand from the table's sequence.
COPY_NULL = "\\N"


def copy_text(value: str) -> str:
    """A string as a value of PostgreSQL's COPY text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def plain_array(values: Iterable[Any]) -> str:
    """An array literal of values whose text needs no quoting: numbers, dates, hexadecimal."""
    return "{" + ",".join(map(str, values)) + "}"


def text_array(values: Iterable[str]) -> str:
    """An array literal of any strings."""
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


def column_array(values: Iterable[Any]) -> str:
    """An array literal of one column's values: numbers, Decimals or strings, ``None`` as NULL
    (every other element quoted, so any string is safe)."""
    return (
        "{"
        + ",".join(
            "NULL"
            if value is None
            else '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for value in values
        )
        + "}"
    )


def time_array(values: Iterable[datetime]) -> str:
    """An array literal of aware datetimes."""
    values = list(values)
    if not values:
        return "{}"
    return '{"' + '","'.join(value.isoformat() for value in values) + '"}'


class IsoStamp:
    """``isoformat()`` of a datetime, remembered for the next call with the same object (a
    batch's ``now`` repeats on every row)."""

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.text = ""

    def __call__(self, at: datetime) -> str:
        if at is not self.at:
            self.at, self.text = at, at.isoformat()
        return self.text


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a hand-written statement, unconverted."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: Sequence[Any]) -> None:
    """Run a hand-written statement that returns nothing."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` fresh ids from the model's table's own sequence, in one statement."""
    return [
        pk
        for (pk,) in fetch_all(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
    ]


def copy_rows(model: type[models.Model], names: Sequence[str], text: str) -> None:
    """``COPY table (columns of names) FROM STDIN`` of ``text`` (COPY text format, formatted by
    the caller). Errors come as Django's (an ``IntegrityError`` on a unique index): psycopg's
    ``copy()`` is not wrapped by Django's cursor."""
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _fields(model, names))
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.write(text)


def loaded(model: type[M], **values: Any) -> M:
    """The instance of a row that a hand-written statement read or wrote, built as the ORM
    builds the rows of a query: by ``Model.from_db``, so it is not ``adding`` and belongs to
    the default database, and ``save()`` updates that row.

    ``values`` are the row's columns by field name (or attname): a foreign key's id, never a
    related instance (``from_db`` takes column values; assign the instance afterwards, e.g.
    ``account.shopper = shopper``). A field not given is deferred, as with
    ``QuerySet.only()``: reading it costs a query, so give every field the caller reads.
    """
    names = tuple(values)
    attnames, order = _loading(model, names)
    row = list(values.values())
    for value in row:
        if isinstance(value, models.Model):
            raise TypeError(
                f"loaded({model.__name__}): give a related row's id, not {value!r}; assign the "
                "instance once the row is built."
            )
    return model.from_db(DEFAULT_DB_ALIAS, attnames, [row[i] for i in order])


@cache
def _loading(model: type[models.Model], names: tuple[str, ...]) -> tuple[list[str], list[int]]:
    """The attnames of ``names`` in the model's column order, and where each value is among
    ``names``: what ``from_db`` takes."""
    position = {}
    for index, name in enumerate(names):
        field = model._meta.get_field(name)
        if not getattr(field, "concrete", False) or getattr(field, "column", None) is None:
            raise TypeError(f"loaded({model.__name__}): {name} is not a column.")
        position[cast("models.Field[Any, Any]", field).attname] = index
    if len(position) != len(names):
        raise TypeError(f"loaded({model.__name__}): a column is given twice in {names}.")
    attnames = [f.attname for f in model._meta.concrete_fields if f.attname in position]
    return attnames, [position[attname] for attname in attnames]
