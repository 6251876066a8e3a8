"""Every hand-written statement of ``shops``, each with one line of why it is SQL and not the
ORM (docs/ARCHITECTURE.md, "Hand-written statements"). Constants, templates whose ``{names}``
take other constants, column lists or conditions (never a value: every value is a parameter),
and cached builders for a statement shaped by its caller's columns or a batch's size.

Kept where they are: the locks (``shops/locks.py``, the lock module says each lock's strength).
"""

from __future__ import annotations

from functools import cache


# --- Pieces of the statements below --------------------------------------------------------------
def differs(a: str, b: str) -> str:
    """Two amounts differ (numeric: exact)."""
    return f"({a}) <> ({b})"


def year_of(column: str) -> str:
    return f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"


def local_date_of(column: str) -> str:
    """The Asia/Shanghai calendar date of an instant."""
    return f"CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS date)"


def not_dirty(day: str, store: str) -> str:
    """The slice of ``day`` and ``store`` (column names) is not marked for the next refresh."""
    return (
        "NOT EXISTS (SELECT 1 FROM shops_dirtyday AS dirty "  # noqa: S608 - column names only
        f"WHERE dirty.day = {day} AND dirty.store_id = {store})"
    )


# --- Terminals (shops.api.auth) -------------------------------------------------------------------
# On the sale path: every terminal request authenticates, one round trip with its store.
TERMINAL_BY_PREFIX = (
    "SELECT t.id, t.name, t.key_hash, t.training, s.id, s.code, s.name_zh, s.name_en, s.city, "
    "s.channel, s.operator_id "
    "FROM shops_terminal AS t JOIN shops_store AS s ON s.id = t.store_id "
    "WHERE t.key_prefix = %s AND t.revoked_at IS NULL AND s.active"
)

# --- The sale (shops.pos.checkout) ---------------------------------------------------------------
# On the sale path: the key's try-lock ({lock}: shops.locks, a retry is told 409 instead of
# waiting), the key's recorded answer if any ({record}: its columns, shops.pos.idempotency),
# fresh ids for the sale and its lines (the first answer is rendered before the write and
# recorded by the write itself), and the basket's products of every catalogue (as
# PRODUCTS_BY_SKU): one round trip. The ids come from a materialized CTE, evaluated once.
SALE_PRELUDE = (
    "WITH fresh AS MATERIALIZED (SELECT {lock} AS locked, "
    "nextval(pg_get_serial_sequence('shops_sale', 'id')) AS sale_id, "
    "ARRAY(SELECT nextval(pg_get_serial_sequence('shops_saleline', 'id')) "
    "FROM generate_series(1, %s)) AS line_ids) "
    "SELECT fresh.locked, fresh.sale_id, fresh.line_ids, {record}, "
    "product.id, product.sku, product.category_code, product.retail_price, "
    "product.volume_ml, product.pieces, product.immediate_kind, product.operator_id, "
    "product.active "
    "FROM fresh LEFT JOIN shops_idempotencyrecord AS record "
    "ON record.terminal_id = %s AND record.key = %s "
    "LEFT JOIN shops_product AS product ON product.sku = ANY(%s::varchar[])"
)

# On the sale path (a quote): the basket's products, of every catalogue, the SKUs as one array
# literal. Which of them the store sells is decided in Python (shops.pos.checkout.sold_here):
# a condition on the store's operator here, a parameter that may be NULL, kept PostgreSQL from
# settling on one generic plan (a quarter more backend work per sale, replanning each time).
PRODUCTS_BY_SKU = (
    "SELECT id, sku, category_code, retail_price, volume_ml, pieces, immediate_kind, "
    "operator_id, active FROM shops_product WHERE sku = ANY(%s::varchar[])"
)

# What the key's record copies from the sale's row: the same terminal, key and fingerprint.
_RECORD_FROM_SALE = ("terminal_id", "idempotency_key", "request_fingerprint")


# On the sale path, a part of the write below: the sale's event in the outbox (shops.feed.events),
# its data the first answer's text as the key's record keeps it, its id drawn by PostgreSQL, the
# identity sealed for customs (or empty) the one parameter.
SALE_EVENT = (
    "INSERT INTO shops_event (public_id, type, store_id, sale_id, created_at, data, "
    "sealed_identity) SELECT 'evt_' || replace(gen_random_uuid()::text, '-', ''), "
    "'sale.completed', sale.store_id, sale.id, sale.sold_at, record.content, %s "
    "FROM sale, record"
)


def _sale_parts(
    sale: tuple[tuple[str, str], ...], lines: tuple[tuple[str, str], ...], record: tuple[str, ...]
) -> tuple[str, str, str]:
    """The CTEs ``sale``, ``line`` and ``record`` of a sale's write (:func:`sale_write_sql`'s
    arguments), which a real sale's write and a training sale's share."""
    arrays = ", ".join(f"%s::{db_type}[]" for _, db_type in lines)
    return (
        f"sale AS (INSERT INTO shops_sale ({', '.join(column for column, _ in sale)}) "  # noqa: S608
        f"VALUES ({', '.join(value for _, value in sale)}) RETURNING id, trip_id, local_date, "
        f"store_id, {', '.join(_RECORD_FROM_SALE)}, sold_at)",
        f"line AS (INSERT INTO shops_saleline (sale_id, {', '.join(c for c, _ in lines)}) "  # noqa: S608
        f"SELECT sale.id, u.* FROM sale, unnest({arrays}) AS u RETURNING id)",
        "record AS (INSERT INTO shops_idempotencyrecord (terminal_id, key, fingerprint, "  # noqa: S608
        f"created_at, {', '.join(record)}) "
        f"SELECT {', '.join(_RECORD_FROM_SALE)}, sold_at, "
        f"{', '.join(['%s'] * len(record))} FROM sale RETURNING content)",
    )


# What a sale's write answers: its trip's id and how many lines it wrote.
_SALE_WRITTEN = "SELECT sale.trip_id, (SELECT count(*) FROM line) FROM sale"


# On the sale path: the sale, its lines, its dirty-day mark, the key's record of the first
# answer, the sale's event and the quota side, one data-modifying statement (one round trip,
# one snapshot).
@cache
def sale_write_sql(
    *,
    sale: tuple[tuple[str, str], ...],
    lines: tuple[tuple[str, str], ...],
    record: tuple[str, ...],
    parts: str,
) -> str:
    """``sale``: each quoted column of the sale with its value's SQL (``%s``, or the new trip's
    id from ``parts``); ``lines``: each quoted line column with its type, one array per column
    (the same statement for 1 line or 50); ``record``: the key record's quoted columns that
    take the first answer (its terminal, key, fingerprint and time are the sale's, read from
    the sale's CTE: the statement stays under psycopg's 50 parameters of a cached conversion);
    ``parts``: the quota side's CTEs (quotas.sql: a new trip first, the ledger and balance).
    Identifiers come from model metadata, quoted; every value is a parameter, the event's
    sealed identity the last."""
    sale_part, line_part, record_part = _sale_parts(sale, lines, record)
    return (
        f"WITH {parts}, {sale_part}, {line_part}, "  # noqa: S608
        "dirty AS (INSERT INTO shops_dirtyday (day, store_id, marked_at) "
        f"SELECT local_date, store_id, sold_at FROM sale), {record_part}, "
        f"event AS ({SALE_EVENT}) {_SALE_WRITTEN}"
    )


# On the sale path of a training terminal: the sale, its lines and the key's record alone (no
# quota side, no dirty-day mark, no event), one data-modifying statement; a statement of its
# own, so that a real sale's keeps its text and its plan.
@cache
def training_sale_write_sql(
    *,
    sale: tuple[tuple[str, str], ...],
    lines: tuple[tuple[str, str], ...],
    record: tuple[str, ...],
) -> str:
    """:func:`sale_write_sql` without its quota parts, its dirty-day mark and its event."""
    return f"WITH {', '.join(_sale_parts(sale, lines, record))} {_SALE_WRITTEN}"


# --- The event feed (shops.feed.delivery; the fan-out, which locks, is in shops.locks) ----------
# Set-based: every enabled endpoint with a delivery due, not in its backoff and not leased,
# leased until the first parameter with a fresh token (one delivery task per endpoint at a
# time). One statement.
FEED_QUEUE_DUE = """
UPDATE shops_endpoint AS endpoint
SET queued_until = %s, lease_token = gen_random_uuid()::text
WHERE endpoint.enabled
  AND (endpoint.queued_until IS NULL OR endpoint.queued_until <= %s)
  AND (endpoint.retry_at IS NULL OR endpoint.retry_at <= %s)
  AND EXISTS (SELECT 1 FROM shops_delivery AS delivery
              WHERE delivery.endpoint_id = endpoint.id AND delivery.status = 'pending'
                AND delivery.next_attempt_at <= %s)
RETURNING endpoint.id, endpoint.lease_token"""

# --- The importer (shops.imports.writing) ---------------------------------------------------------
# Set-based: a batch's commit need not wait for the WAL; the last batch's commit flushes it all.
IMPORT_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"

# Set-based: a batch's receipt numbers as one array literal, one statement whatever its size.
IMPORT_EXISTING_RECEIPTS = (
    "SELECT receipt_no, request_fingerprint FROM shops_sale WHERE receipt_no = ANY(%s::varchar[])"
)

# Set-based: a batch's dirty-day marks in one statement, the keys as one array per column.
IMPORT_MARK_DIRTY = (
    "INSERT INTO shops_dirtyday (day, store_id, marked_at) "
    "SELECT d, s, %s FROM unnest(%s::date[], %s::bigint[]) AS k(d, s)"
)

# --- What a trip holds (shops.pos.trip_usage) -----------------------------------------------------
# (A training terminal's sale has no trip, shops.pos.checkout: nothing here ever counts it.)
# What a line still holds: sold, net of returns.
_NET = "(line.quantity - line.returned_quantity)"
# On the sale path: the recount's limited categories, a lateral part of its one statement.
USAGE_CATEGORIES = f"""
  SELECT line.category_code AS category_code, NULL::varchar AS kind, NULL::varchar AS sku,
         SUM({_NET} * line.pieces) AS pieces,
         SUM({_NET} * COALESCE(line.volume_ml, 0)) AS ml, NULL::bigint AS units
  FROM shops_sale AS sale JOIN shops_saleline AS line ON line.sale_id = sale.id
  WHERE sale.trip_id = trip.id AND sale.status = 'completed' AND line.category_code IN ({{codes}})
  GROUP BY line.category_code"""  # noqa: S608
# On the sale path: the recount's immediate-pickup kinds and SKUs, a lateral part likewise.
USAGE_IMMEDIATE = f"""
  SELECT NULL::varchar AS category_code, line.immediate_kind AS kind, line.sku AS sku,
         NULL::bigint AS pieces, NULL::bigint AS ml,
         SUM({_NET} * CASE WHEN line.immediate_kind = ANY(%s::varchar[]) THEN line.pieces
                           ELSE 1 END) AS units
  FROM shops_sale AS sale JOIN shops_saleline AS line ON line.sale_id = sale.id
  WHERE sale.trip_id = trip.id AND sale.status = 'completed' AND sale.pickup = %s
    AND line.immediate_kind <> ''
  GROUP BY line.immediate_kind, line.sku"""  # noqa: S608


# On the sale path: the trips and what they hold in one statement, whatever the number of trips.
@cache
def trips_usage_sql(trips: str, columns: tuple[str, ...], categories: int, immediate: bool) -> str:
    """The ``trips`` relation's ``columns`` with the usage of each trip (``held_*`` columns,
    one row per category or kind and SKU held): ``categories`` placeholders for the limited
    category codes, then, with ``immediate``, the piece kinds and the pickup mode."""
    selected = ", ".join(f"trip.{column}" for column in columns)
    parts = [USAGE_CATEGORIES.format(codes=", ".join(["%s"] * categories))] if categories else []
    if immediate:
        parts.append(USAGE_IMMEDIATE)
    if not parts:
        return f"SELECT {selected} FROM ({trips}) AS trip"  # noqa: S608
    # Identifiers are the caller's column names; every value is a parameter.
    return (
        f"SELECT {selected}, u.category_code AS held_category, u.kind AS held_kind, "  # noqa: S608
        "u.sku AS held_sku, u.pieces AS held_pieces, u.ml AS held_ml, u.units AS held_units "
        f"FROM ({trips}) AS trip LEFT JOIN LATERAL ({' UNION ALL '.join(parts)}) AS u ON true"
    )


# --- Rollups (shops.reporting.rollups): ``{where}`` selects the slices' sales or rollup rows ------
# (No rollup counts a training terminal's sale: ``NOT s.training`` beside every completed one.)
# The category rollup's columns, in the order of ROLLUP_CATEGORY's select list.
ROLLUP_CATEGORY_COLUMNS = "day, store_id, category_code, traveller_kind, amount, items, sales"
# The store rollup's columns, in the order ROLLUP_STORE_COPY's rows give them.
ROLLUP_STORE_COLUMNS = (
    "day",
    "store_id",
    "traveller_kind",
    "amount",
    "items",
    "sales",
    "shoppers",
    "trips",
    "tripless_shoppers",
)
# Set-based: one aggregate per rollup slice, whatever the number of sales.
ROLLUP_CATEGORY = """
SELECT s.local_date, s.store_id, l.category_code, s.traveller_kind,
       SUM((l.quantity - l.returned_quantity) * l.unit_price) AS amount,
       SUM((l.quantity - l.returned_quantity) * l.pieces) AS items,
       COUNT(DISTINCT s.id) AS sales
FROM shops_sale AS s JOIN shops_saleline AS l ON l.sale_id = s.id
WHERE s.status = 'completed' AND NOT s.training AND {where}
GROUP BY s.local_date, s.store_id, l.category_code, s.traveller_kind
"""
# Set-based: the store level's sets (array_agg, no ORM spelling), from the sales.
ROLLUP_STORE_SETS = """
SELECT s.local_date, s.store_id, s.traveller_kind, COUNT(*),
       array_agg(DISTINCT s.shopper_id),
       COALESCE(array_agg(DISTINCT s.trip_id) FILTER (WHERE s.trip_id IS NOT NULL), '{{}}'),
       COALESCE(array_agg(DISTINCT s.shopper_id) FILTER (WHERE s.trip_id IS NULL), '{{}}')
FROM shops_sale AS s
WHERE s.status = 'completed' AND NOT s.training AND {where}
GROUP BY s.local_date, s.store_id, s.traveller_kind
"""
# Set-based: the store level's totals from the category rows just written.
ROLLUP_STORE_TOTALS = """
SELECT day, store_id, traveller_kind, SUM(amount), SUM(items)
FROM shops_dailycategorysales AS s
WHERE {where}
GROUP BY day, store_id, traveller_kind
"""
# Set-based: the slices' category rows go in one statement.
ROLLUP_CATEGORY_DELETE = "DELETE FROM shops_dailycategorysales WHERE {where}"
# Set-based: the slices' store rows go in one statement.
ROLLUP_STORE_DELETE = "DELETE FROM shops_dailystoresales WHERE {where}"
# Set-based: the category rows written by the aggregate itself (``{select}``), not row by row.
ROLLUP_CATEGORY_INSERT = (
    f"INSERT INTO shops_dailycategorysales ({ROLLUP_CATEGORY_COLUMNS}) {{select}}"
)
# Set-based: a full rebuild's aggregate, which CREATE TABLE … AS may run in parallel.
ROLLUP_BUILD = "CREATE UNLOGGED TABLE shops_rollup_build AS {select}"
# Set-based: a full rebuild's leftover from a crash, gone before it starts.
ROLLUP_BUILD_DROP_STALE = "DROP TABLE IF EXISTS shops_rollup_build"
# Set-based: a full rebuild's category rows, copied from the table the aggregate built.
ROLLUP_BUILD_COPY = (
    f"INSERT INTO shops_dailycategorysales ({ROLLUP_CATEGORY_COLUMNS}) "  # noqa: S608
    "SELECT * FROM shops_rollup_build"
)
# Set-based: a full rebuild's table dropped in its own transaction.
ROLLUP_BUILD_DROP = "DROP TABLE shops_rollup_build"
# Set-based: the store rows streamed by COPY (not a bulk INSERT through Django's compiler).
ROLLUP_STORE_COPY = f"COPY shops_dailystoresales ({', '.join(ROLLUP_STORE_COLUMNS)}) FROM STDIN"
# Set-based: a full rebuild empties both tables at once (no index full of deleted rows).
ROLLUPS_TRUNCATE = "TRUNCATE shops_dailycategorysales, shops_dailystoresales"

# --- The books (shops.reporting.audit) ------------------------------------------------------------
# A training terminal's sale spends no quota and is in no rollup: the checks of the ledger, the
# accounts, the trips, the caps and the rollups leave it out (``NOT s.training``); those of a
# sale against its own lines and returns hold for it as for any.
# Set-based: a check's first rows in ``{order}``, fenced by OFFSET 0 from a fast-start plan.
AUDIT_FIRST = "SELECT * FROM ({sql} OFFSET 0) AS found ORDER BY {order} LIMIT %s"
# One snapshot for every check: no ORM spelling for a read-only repeatable-read transaction.
AUDIT_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
# A planner setting read for one statement (restored after): no ORM spelling.
AUDIT_TUPLE_FRACTION = "SELECT current_setting('cursor_tuple_fraction')"
# A planner setting for one statement, local to the transaction: no ORM spelling.
AUDIT_TUPLE_FRACTION_SET = "SELECT set_config('cursor_tuple_fraction', %s, true)"
# Set-based: every clean store rollup row's sets (the sales' side comes next).
AUDIT_STORED_SETS = (
    "SELECT day, store_id, traveller_kind, shoppers, trips, tripless_shoppers "  # noqa: S608
    f"FROM shops_dailystoresales AS x WHERE {not_dirty('x.day', 'x.store_id')}"
)
# Set-based: the sets behind each clean slice's distinct counts (array_agg), from the sales.
AUDIT_SALES_SETS = (
    "SELECT s.local_date, s.store_id, s.traveller_kind, "  # noqa: S608
    "array_agg(DISTINCT s.shopper_id), "
    "array_agg(DISTINCT s.trip_id) FILTER (WHERE s.trip_id IS NOT NULL), "
    "array_agg(DISTINCT s.shopper_id) FILTER (WHERE s.trip_id IS NULL) "
    "FROM shops_sale AS s WHERE s.status = 'completed' AND NOT s.training AND "
    f"{not_dirty('s.local_date', 's.store_id')} "
    "GROUP BY s.local_date, s.store_id, s.traveller_kind"
)

# Set-based: one pass over the ledger and one over the sales, grouped by account.
AUDIT_ACCOUNTS = """
SELECT a.id, a.used, a."limit", COALESCE(e.total, 0), COALESCE(x.net, 0),
       CASE WHEN {ledger_differs} THEN 1 ELSE 0 END
FROM ({accounts}) AS a
LEFT JOIN ({ledger}) AS e ON e.account_id = a.id
LEFT JOIN (
    SELECT account_id,
           SUM(CASE WHEN status = 'completed' THEN total - returned_amount ELSE 0 END) AS net,
           SUM(CASE WHEN imported THEN 0 ELSE total END) AS sale_amount,
           SUM(CASE WHEN imported THEN 0 ELSE 1 END) AS sale_count,
           SUM(CASE WHEN imported THEN total ELSE 0 END) AS import_amount,
           SUM(CASE WHEN imported THEN 1 ELSE 0 END) AS import_count,
           SUM(CASE WHEN status = 'voided' THEN returned_amount - total ELSE 0 END)
               AS void_amount,
           SUM(CASE WHEN status = 'voided' AND total > returned_amount THEN 1 ELSE 0 END)
               AS void_count
    FROM shops_sale WHERE NOT training GROUP BY account_id
) AS x ON x.account_id = a.id
LEFT JOIN (
    SELECT s.account_id, SUM(r.amount) AS amount, COUNT(*) AS returns
    FROM shops_return AS r JOIN shops_sale AS s ON s.id = r.sale_id
    WHERE NOT s.training
    GROUP BY s.account_id
) AS r ON r.account_id = a.id
WHERE {used_ledger} OR {used_net} OR a.used < 0 OR a.used > a."limit" OR {ledger_differs}
"""


# What a sale's void credits should add up to.
_VOID_OWED = "CASE WHEN s.status = 'voided' THEN s.returned_amount - s.total ELSE 0 END"
# Set-based: the suspect accounts' sales against their debits and void credits, at once.
AUDIT_SALE_ENTRIES = f"""
WITH debit AS (SELECT ref_id, SUM(amount) AS amount, COUNT(*) AS n,
                      MIN(account_id) AS a_min, MAX(account_id) AS a_max,
                      MIN(kind) AS k_min, MAX(kind) AS k_max
               FROM ({{sale_debits}}) AS e GROUP BY ref_id),
void AS (SELECT ref_id, SUM(amount) AS amount, COUNT(*) AS n,
                MIN(account_id) AS a_min, MAX(account_id) AS a_max
         FROM ({{void_credits}}) AS e GROUP BY ref_id)
SELECT s.id, s.account_id, s.total, s.returned_amount, s.status, s.imported,
       d.ref_id, d.amount, d.a_min, d.a_max, d.k_min, d.k_max, d.n,
       v.ref_id, v.amount, v.a_min, v.a_max, v.n
FROM shops_sale AS s
LEFT JOIN debit AS d ON d.ref_id = s.id
LEFT JOIN void AS v ON v.ref_id = s.id
WHERE {{among_sales}} AND NOT s.training AND (d.ref_id IS NULL OR d.n <> 1
   OR {differs("d.amount", "s.total")}
   OR d.a_min <> s.account_id OR d.a_max <> s.account_id OR d.k_min <> d.k_max
   OR d.k_min <> (CASE WHEN s.imported THEN 'import' ELSE 'sale' END)
   OR (v.ref_id IS NOT NULL AND (v.n > 1 OR v.a_min <> s.account_id
                                 OR v.a_max <> s.account_id))
   OR {differs("COALESCE(v.amount, 0)", _VOID_OWED)})
"""  # noqa: S608


# Set-based: the suspect accounts' returns against their credits, at once.
AUDIT_RETURN_ENTRIES = f"""
WITH credit AS (SELECT ref_id, SUM(amount) AS amount, COUNT(*) AS n,
                       MIN(account_id) AS a_min, MAX(account_id) AS a_max
                FROM ({{return_credits}}) AS e GROUP BY ref_id)
SELECT r.id, r.sale_id, r.amount, s.account_id, c.ref_id, c.amount, c.a_min, c.a_max, c.n
FROM shops_return AS r
JOIN shops_sale AS s ON s.id = r.sale_id
LEFT JOIN credit AS c ON c.ref_id = r.id
WHERE {{among_sales}} AND NOT s.training AND (c.ref_id IS NULL OR c.n <> 1
   OR {differs("c.amount", "-r.amount")}
   OR c.a_min <> s.account_id OR c.a_max <> s.account_id)
"""  # noqa: S608


# Set-based: the suspect accounts' entries that refer to nothing, at once.
AUDIT_ENTRIES_WITHOUT_SOURCE = """
SELECT e.id, e.account_id, e.kind, e.ref_kind, e.ref_id
FROM ({entries}) AS e
LEFT JOIN shops_sale AS s ON e.ref_kind IN ('sale', 'void') AND s.id = e.ref_id
LEFT JOIN shops_return AS r ON e.ref_kind = 'return' AND r.id = e.ref_id
WHERE CASE
    WHEN e.ref_kind = 'sale' AND e.kind IN ('sale', 'import') AND s.id IS NOT NULL THEN 0
    WHEN e.ref_kind = 'void' AND e.kind = 'void' AND s.id IS NOT NULL THEN 0
    WHEN e.ref_kind = 'return' AND e.kind = 'return' AND r.id IS NOT NULL THEN 0
    ELSE 1 END = 1
"""


# Set-based: every sale's total against its lines and returns, in one pass.
AUDIT_SALE_TOTALS = f"""
SELECT s.id, s.total, s.returned_amount, l.sale_id, l.amount, r.amount
FROM shops_sale AS s
LEFT JOIN (SELECT sale_id, SUM(amount) AS amount FROM shops_saleline GROUP BY sale_id)
    AS l ON l.sale_id = s.id
LEFT JOIN (SELECT sale_id, SUM(amount) AS amount FROM shops_return GROUP BY sale_id)
    AS r ON r.sale_id = s.id
WHERE l.sale_id IS NULL
   OR {differs("s.total", "l.amount")}
   OR {differs("s.returned_amount", "COALESCE(r.amount, 0)")}
"""  # noqa: S608


# Set-based: every line's amount and returned quantity against its return lines.
AUDIT_SALE_LINES = f"""
SELECT l.id, l.sale_id, l.quantity, l.unit_price, l.amount, l.returned_quantity,
       COALESCE(r.quantity, 0)
FROM shops_saleline AS l
LEFT JOIN (SELECT sale_line_id, SUM(quantity) AS quantity FROM shops_returnline
           GROUP BY sale_line_id) AS r ON r.sale_line_id = l.id
WHERE {differs("l.amount", "l.quantity * l.unit_price")}
   OR l.returned_quantity <> COALESCE(r.quantity, 0)
   OR l.returned_quantity < 0 OR l.returned_quantity > l.quantity
"""  # noqa: S608


# Set-based: every return against its lines and the sale lines they return.
AUDIT_RETURNS = f"""
SELECT r.id, r.sale_id, r.amount, x.sale_return_id, x.amount, x.foreign_lines,
       x.mispriced
FROM shops_return AS r
LEFT JOIN (
    SELECT rl.sale_return_id, SUM(rl.amount) AS amount,
           SUM(CASE WHEN sl.sale_id <> rr.sale_id THEN 1 ELSE 0 END) AS foreign_lines,
           SUM(CASE WHEN {differs("rl.amount", "rl.quantity * sl.unit_price")}
               THEN 1 ELSE 0 END) AS mispriced
    FROM shops_returnline AS rl
    JOIN shops_saleline AS sl ON sl.id = rl.sale_line_id
    JOIN shops_return AS rr ON rr.id = rl.sale_return_id
    GROUP BY rl.sale_return_id
) AS x ON x.sale_return_id = r.id
WHERE x.sale_return_id IS NULL OR {differs("r.amount", "x.amount")}
   OR x.foreign_lines > 0 OR x.mispriced > 0
"""  # noqa: S608


# Set-based: every sale's repeated facts against its account and trip, in one pass.
AUDIT_SALE_FACTS = f"""
SELECT s.id, s.shopper_id, s.status, s.voided_at, s.local_date,
       a.id, a.shopper_id, a.year, t.id, t.shopper_id,
       {year_of("s.local_date")}, {local_date_of("s.sold_at")}
FROM shops_sale AS s
JOIN ({{accounts}}) AS a ON a.id = s.account_id
LEFT JOIN ({{trips}}) AS t ON t.id = s.trip_id
WHERE a.shopper_id <> s.shopper_id
   OR a.year <> {year_of("s.local_date")}
   OR s.local_date <> {local_date_of("s.sold_at")}
   OR (s.trip_id IS NOT NULL AND (t.id IS NULL OR t.shopper_id <> s.shopper_id))
   OR s.status NOT IN ('completed', 'voided')
   OR (s.status = 'voided' AND s.voided_at IS NULL)
   OR (s.status <> 'voided' AND s.voided_at IS NOT NULL)
"""  # noqa: S608


# Set-based: every trip's holdings per limited category against its policies' limits.
AUDIT_TRIPS_OVER = """
WITH limits (policy_id, code, unit, cap) AS (VALUES {values}),
held AS (
    SELECT s.trip_id, s.policy_id, s.imported, l.category_code AS code,
           SUM((l.quantity - l.returned_quantity) * l.pieces) AS pieces,
           SUM((l.quantity - l.returned_quantity) * COALESCE(l.volume_ml, 0)) AS ml
    FROM shops_sale AS s JOIN shops_saleline AS l ON l.sale_id = s.id
    WHERE s.status = 'completed' AND NOT s.training AND s.trip_id IS NOT NULL
      AND l.category_code IN ({codes})
    GROUP BY s.trip_id, s.policy_id, s.imported, l.category_code
),
totals AS (
    SELECT trip_id, policy_id, imported, code,
           SUM(pieces) OVER trip AS all_pieces, SUM(ml) OVER trip AS all_ml,
           SUM(CASE WHEN imported THEN 0 ELSE pieces END) OVER trip AS judged_pieces,
           SUM(CASE WHEN imported THEN 0 ELSE ml END) OVER trip AS judged_ml
    FROM held
    WINDOW trip AS (PARTITION BY trip_id, code)
),
measured AS (
    SELECT t.trip_id, t.code, t.imported, c.unit, c.cap,
           CASE WHEN c.unit = 'ml' THEN t.all_ml ELSE t.all_pieces END AS held_all,
           CASE WHEN c.unit = 'ml' THEN t.judged_ml ELSE t.judged_pieces END AS held_judged
    FROM totals AS t
    JOIN limits AS c ON c.policy_id = t.policy_id AND c.code = t.code
)
SELECT trip_id, code, MAX(unit), MAX(cap), MAX(held_all), MAX(held_judged),
       COALESCE(MIN(CASE WHEN imported THEN NULL WHEN held_judged > cap THEN 1 ELSE 0 END), 0)
FROM measured
GROUP BY trip_id, code
HAVING MIN(CASE WHEN held_all > cap THEN 1 ELSE 0 END) = 1
"""


# Set-based: every departure's immediate pickups per kind and SKU against their caps.
AUDIT_IMMEDIATE_OVER = """
WITH kinds (policy_id, kind, cap, per_variety, pieces) AS (VALUES {values}),
lines AS (
    SELECT s.trip_id, CASE WHEN s.trip_id IS NULL THEN s.id END AS alone, s.policy_id,
           s.imported, l.immediate_kind AS kind, l.sku,
           (l.quantity - l.returned_quantity)
             * CASE WHEN k.pieces THEN l.pieces ELSE 1 END AS units
    FROM shops_sale AS s JOIN shops_saleline AS l ON l.sale_id = s.id
    JOIN kinds AS k ON k.policy_id = s.policy_id AND k.kind = l.immediate_kind
    WHERE s.status = 'completed' AND NOT s.training AND s.pickup = 'immediate'
),
held AS (
    SELECT trip_id, alone, kind, NULL::varchar AS sku, policy_id, imported, SUM(units) AS u
    FROM lines GROUP BY trip_id, alone, kind, policy_id, imported
    UNION ALL
    SELECT trip_id, alone, kind, sku, policy_id, imported, SUM(units)
    FROM lines GROUP BY trip_id, alone, kind, sku, policy_id, imported
),
totals AS (
    SELECT trip_id, alone, kind, sku, policy_id, imported,
           SUM(u) OVER departure AS all_u,
           SUM(CASE WHEN imported THEN 0 ELSE u END) OVER departure AS judged_u
    FROM held
    WINDOW departure AS (PARTITION BY trip_id, alone, kind, sku)
),
measured AS (
    SELECT t.*, CASE WHEN t.sku IS NULL THEN k.cap ELSE k.per_variety END AS cap
    FROM totals AS t JOIN kinds AS k ON k.policy_id = t.policy_id AND k.kind = t.kind
    WHERE t.sku IS NULL OR k.per_variety IS NOT NULL
)
SELECT trip_id, alone, kind, sku, MAX(cap), MAX(all_u), MAX(judged_u),
       COALESCE(MIN(CASE WHEN imported THEN NULL WHEN judged_u > cap THEN 1 ELSE 0 END), 0)
FROM measured
GROUP BY trip_id, alone, kind, sku
HAVING MIN(CASE WHEN all_u > cap THEN 1 ELSE 0 END) = 1
"""


# Set-based: every rollup slice against the sales it sums, both ways, in one statement.
AUDIT_ROLLUPS = """
WITH cat (day, store_id, category_code, traveller_kind, amount, items, sales) AS ({category}),
receipts AS (
    SELECT s.local_date AS day, s.store_id, s.traveller_kind, COUNT(*) AS sales
    FROM shops_sale AS s
    WHERE s.status = 'completed' AND NOT s.training AND {sale_clean}
    GROUP BY s.local_date, s.store_id, s.traveller_kind
),
store AS (
    SELECT r.day, r.store_id, r.traveller_kind, COALESCE(SUM(c.amount), 0) AS amount,
           COALESCE(SUM(c.items), 0) AS items, r.sales
    FROM receipts AS r
    LEFT JOIN cat AS c ON c.day = r.day AND c.store_id = r.store_id
        AND c.traveller_kind = r.traveller_kind
    GROUP BY r.day, r.store_id, r.traveller_kind, r.sales
),
cat_roll AS (
    SELECT day, store_id, category_code, traveller_kind, amount, items, sales
    FROM shops_dailycategorysales AS x WHERE {cat_clean}
),
store_roll AS (
    SELECT day, store_id, traveller_kind, amount, items, sales
    FROM shops_dailystoresales AS x WHERE {store_clean}
)
SELECT 'category', c.day, c.store_id, c.category_code, c.traveller_kind,
       c.amount, r.amount, c.items, r.items, c.sales, r.sales, r.day IS NULL
FROM cat AS c LEFT JOIN cat_roll AS r ON r.day = c.day AND r.store_id = c.store_id
    AND r.category_code = c.category_code AND r.traveller_kind = c.traveller_kind
WHERE r.day IS NULL OR {cat_amount} OR c.items <> r.items OR c.sales <> r.sales
UNION ALL
SELECT 'category', r.day, r.store_id, r.category_code, r.traveller_kind,
       NULL, r.amount, NULL, r.items, NULL, r.sales, NULL
FROM cat_roll AS r LEFT JOIN cat AS c ON r.day = c.day AND r.store_id = c.store_id
    AND r.category_code = c.category_code AND r.traveller_kind = c.traveller_kind
WHERE c.day IS NULL
UNION ALL
SELECT 'store', c.day, c.store_id, NULL, c.traveller_kind,
       c.amount, r.amount, c.items, r.items, c.sales, r.sales, r.day IS NULL
FROM store AS c LEFT JOIN store_roll AS r ON r.day = c.day AND r.store_id = c.store_id
    AND r.traveller_kind = c.traveller_kind
WHERE r.day IS NULL OR {store_amount} OR c.items <> r.items OR c.sales <> r.sales
UNION ALL
SELECT 'store', r.day, r.store_id, NULL, r.traveller_kind,
       NULL, r.amount, NULL, r.items, NULL, r.sales, NULL
FROM store_roll AS r LEFT JOIN store AS c ON r.day = c.day AND r.store_id = c.store_id
    AND r.traveller_kind = c.traveller_kind
WHERE c.day IS NULL
"""


# --- A policy preview (shops.previews.reading): reads only, never a row lock -------------------
# ``{shoppers}``, ``{trips}`` and ``{departures}`` are quotas' relations
# (quotas.selectors.preview_relations). The sales a preview judges: the window's (local days,
# inclusive) of the programme's versions, training sales never.
_PREVIEW_WINDOW = """
  s.local_date BETWEEN %(start)s AND %(end)s AND NOT s.training
  AND s.policy_id = ANY(%(policies)s)"""
# Every sale of the window (a voided one too: what it held until voided), and each earlier
# sale of the same trips, one row per sale with its lines (and, where something was returned,
# its return lines with their times) as arrays, trip by trip, each trip's sales in time order,
# trip-less sales last. ``judged``: a completed sale of the window, judged again; the others
# only held something for a while. Each sale's lines are read once in line order (the
# (sale, line_no) index's) and every array aggregates that one stream, rather than each array
# sorting them again: nine sorts a sale were a third of the statement's server time over a
# million lines (bench/preview_bench.py).
PREVIEW_SALES = f"""
WITH window_sales AS MATERIALIZED (
  SELECT s.id, s.trip_id FROM shops_sale AS s WHERE {_PREVIEW_WINDOW}
),
scope AS (
  SELECT id FROM window_sales
  UNION ALL
  SELECT s.id FROM shops_sale AS s
  WHERE s.local_date < %(start)s AND NOT s.training
    AND s.trip_id IN (SELECT w.trip_id FROM window_sales AS w WHERE w.trip_id IS NOT NULL)
)
SELECT s.id, s.receipt_no, s.store_id, s.trip_id, s.sold_at,
       (s.local_date >= %(start)s AND s.status = 'completed') AS judged,
       s.imported, s.pickup, s.traveller_kind, s.voided_at, s.total, s.quota_used_after,
       s.shopper_age, s.shopper_resident, sh.birth_year, sh.hainan_resident,
       sh.banned_from, sh.banned_until, t.mode, t.departs_at, t.departed_at,
       CASE WHEN s.trip_id IS NULL THEN EXISTS (
         SELECT 1 FROM ({{departures}}) AS d
         WHERE d.shopper_id = s.shopper_id AND d.departed_at <= s.sold_at
           AND d.departed_at >= date_trunc('year', s.sold_at, %(zone)s)
       ) END AS outbound,
       l.ids, l.skus, l.categories, l.quantities, l.unit_prices, l.amounts, l.pieces,
       l.volumes, l.kinds, r.line_ids, r.returned_at, r.quantities
FROM scope JOIN shops_sale AS s ON s.id = scope.id
JOIN ({{shoppers}}) AS sh ON sh.id = s.shopper_id
LEFT JOIN ({{trips}}) AS t ON t.id = s.trip_id
CROSS JOIN LATERAL (
  SELECT array_agg(l.id) AS ids, array_agg(l.sku) AS skus,
         array_agg(l.category_code) AS categories, array_agg(l.quantity) AS quantities,
         array_agg(l.unit_price) AS unit_prices, array_agg(l.amount) AS amounts,
         array_agg(l.pieces) AS pieces, array_agg(l.volume_ml) AS volumes,
         array_agg(l.immediate_kind) AS kinds
  FROM (
    SELECT * FROM shops_saleline AS l WHERE l.sale_id = s.id ORDER BY l.line_no
  ) AS l
) AS l
LEFT JOIN LATERAL (
  SELECT array_agg(rl.sale_line_id) AS line_ids, array_agg(r.created_at) AS returned_at,
         array_agg(rl.quantity) AS quantities
  FROM shops_return AS r JOIN shops_returnline AS rl ON rl.sale_return_id = r.id
  WHERE r.sale_id = s.id AND s.returned_amount > 0
) AS r ON true
ORDER BY s.trip_id, s.sold_at, s.id
"""  # noqa: S608 - the relations are quotas' fixed SQL; every value is a parameter
# The window's completed sales and their shoppers: how many (a preview's progress), and how many
# shoppers the previewed annual limit would have stopped (``limit``) and how many reached the
# limit of the version that judged them (``versions``/``limits``: each version's).
PREVIEW_COUNTS = f"""
SELECT count(*), count(DISTINCT s.shopper_id),
       count(DISTINCT s.shopper_id) FILTER (WHERE s.quota_used_after > %(limit)s),
       count(DISTINCT s.shopper_id) FILTER (WHERE s.quota_used_after >= v.annual_limit)
FROM shops_sale AS s
JOIN unnest(%(versions)s::bigint[], %(limits)s::numeric[]) AS v(id, annual_limit)
  ON v.id = s.policy_id
WHERE s.status = 'completed' AND {_PREVIEW_WINDOW}
"""  # noqa: S608
