"""Every hand-written statement of ``quotas``, each with one line of why it is SQL and not the
ORM (docs/ARCHITECTURE.md, "Hand-written statements"). Constants only: every value is a
parameter, and a builder interpolates nothing but what its signature checks.

Kept where they are: the advisory and batch locks (``quotas/locks.py``, the lock module says
each lock's strength).
"""

from __future__ import annotations

from functools import cache

# --- The importer (quotas.bulk): a batch of thousands in one statement -------------------------
# Set-based: a batch's document keys as one array literal, one statement whatever its size.
SHOPPER_IDS = "SELECT document_key, id FROM quotas_shopper WHERE document_key = ANY(%s::varchar[])"

# Set-based: every balance of a batch moves in one statement (UPDATE … FROM unnest).
ACCOUNTS_MOVE = (
    "UPDATE quotas_quotaaccount AS a SET used = a.used + k.delta, updated_at = %s "
    "FROM unnest(%s::bigint[], %s::numeric[]) AS k(id, delta) WHERE a.id = k.id"
)

# Set-based: a batch's (shopper, carrier, departure) keys matched as rows, which no lookup spells.
TRIPS_FIND = (
    "SELECT t.id, t.shopper_id, t.carrier_ref, t.departs_at FROM quotas_trip AS t "
    "JOIN unnest(%s::bigint[], %s::varchar[], %s::timestamptz[]) AS k(s, c, d) "
    "ON t.shopper_id = k.s AND t.carrier_ref = k.c AND t.departs_at = k.d"
)

# --- Relations another app's statement reads in its FROM (quotas.selectors) --------------------
# On the sale path: the recount's one statement reads the trip of the departure from this.
TRIP_OF_DEPARTURE = (
    "SELECT id, departed_at FROM quotas_trip "
    "WHERE shopper_id = %s AND carrier_ref = %s AND departs_at = %s"
)

# One statement with the sales: the look-up recounts every open trip's usage from this.
OPEN_TRIPS = (
    "SELECT id, carrier_ref, kind, mode, departs_at FROM quotas_trip "
    "WHERE shopper_id = %s AND departed_at IS NULL AND departs_at > %s"
)

# --- What a policy preview judges a recorded sale with (shops.previews): relations joined to
# the sales, by id (the shopper's, the trip's) or by shopper (the recorded departures).
# A preview's relation: each shopper's birth year, residence and ban span, joined by id.
PREVIEW_SHOPPERS = (
    "SELECT id, birth_year, hainan_resident, banned_from, banned_until FROM quotas_shopper"
)
# A preview's relation: each trip's kind, mode and times, joined by id.
PREVIEW_TRIPS = "SELECT id, kind, mode, departs_at, departed_at FROM quotas_trip"
# A preview's relation: every recorded departure, joined by shopper (a trip-less resident's).
PREVIEW_DEPARTURES = "SELECT shopper_id, departed_at FROM quotas_trip WHERE departed_at IS NOT NULL"

# --- The audit's relations (quotas.audit), read by check_books' set-based checks ---------------
# Set-based: every account, joined by the audit's statements to the sales.
AUDIT_ACCOUNTS = 'SELECT id, shopper_id, year, used, "limit" FROM quotas_quotaaccount'

# Set-based: every trip, joined by the audit's statements to the sales.
AUDIT_TRIPS = "SELECT id, shopper_id FROM quotas_trip"

# Set-based: one grouped pass over the whole ledger (account_id + 0: read in table order, hashed).
LEDGER_BY_ACCOUNT = """
SELECT account_id + 0 AS account_id, SUM(amount) AS total, COUNT(*) AS entries,
       SUM(CASE WHEN kind = 'sale' THEN amount ELSE 0 END) AS sale_amount,
       SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS sale_count,
       SUM(CASE WHEN kind = 'import' THEN amount ELSE 0 END) AS import_amount,
       SUM(CASE WHEN kind = 'import' THEN 1 ELSE 0 END) AS import_count,
       SUM(CASE WHEN kind = 'return' THEN amount ELSE 0 END) AS return_amount,
       SUM(CASE WHEN kind = 'return' THEN 1 ELSE 0 END) AS return_count,
       SUM(CASE WHEN kind = 'void' THEN amount ELSE 0 END) AS void_amount,
       SUM(CASE WHEN kind = 'void' THEN 1 ELSE 0 END) AS void_count
FROM quotas_quotaentry GROUP BY account_id + 0
"""

# Set-based: the suspect accounts' entries, each reference read as a kind and an id.
ENTRIES_OF = (
    "SELECT e.id, e.account_id, e.kind, e.amount, split_part(e.reference, ':', 1) AS ref_kind, "
    "CASE WHEN e.reference ~ '^[a-z]+:[0-9]{1,18}$' "
    "THEN CAST(split_part(e.reference, ':', 2) AS BIGINT) END AS ref_id "
    "FROM quotas_quotaentry AS e WHERE e.account_id = ANY(%s::bigint[])"
)


# Set-based: the suspect accounts' entries of one reference prefix (a constant pattern, planned).
@cache
def entries_referring_sql(prefix: str) -> str:
    """The entries of accounts ``%s`` whose reference is ``<prefix>:<id>``."""
    if not prefix.isalpha():
        raise ValueError(f"not a reference prefix: {prefix!r}")
    start = len(prefix) + 2
    return (
        f"SELECT account_id, kind, amount, CAST(substr(reference, {start}) AS BIGINT) "  # noqa: S608 - a number and letters
        "AS ref_id FROM quotas_quotaentry WHERE account_id = ANY(%s::bigint[]) "
        f"AND reference ~ '^{prefix}:[0-9]{{1,18}}$'"
    )


# --- The sale's quota side (quotas.services): the lock, and parts of the sale's one write -------
# The lock every sale takes first (quotas/locks.py, the order): one upsert of the shopper and of
# the year's account. ON CONFLICT DO UPDATE locks the row it meets (FOR NO KEY UPDATE: no key
# column changes) and works on its latest committed version, whatever the statement's snapshot:
# the ``used`` it returns is current. The shopper's presented facts are written, its updated_at
# moves only when they change; the account carries the limit of the policy in force (never below
# what is used), its updated_at moves only when the limit does. ``xmax = 0``: the row version was
# inserted by this statement, not updated.
# On the sale path: two upserts that are their own lock, one round trip.
def _shopper_and_account_lock(shopper_update: str, account_update: str) -> str:
    return (
        "WITH shopper AS (INSERT INTO quotas_shopper AS s (document_type, document_country,"  # noqa: S608 -- the updates are this module's constants
        " document_key, document_last4, key_version, name_key, birth_year, hainan_resident,"
        " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        f" ON CONFLICT (document_key) DO UPDATE SET {shopper_update}"
        " RETURNING s.id, s.banned_from, s.banned_until, s.xmax = 0 AS inserted"
        "), account AS ("
        ' INSERT INTO quotas_quotaaccount AS a (shopper_id, programme_id, year, "limit", used,'
        " updated_at) SELECT shopper.id, %s, %s, %s, 0, %s FROM shopper"
        f" ON CONFLICT (shopper_id, programme_id, year) DO UPDATE SET {account_update}"
        ' RETURNING a.id, a.used, a."limit"'
        ") SELECT shopper.id, shopper.banned_from, shopper.banned_until, shopper.inserted,"
        ' account.id, account.used, account."limit" FROM shopper, account'
    )


# A purchase records what the shopper presented and gives the account the policy's limit.
SHOPPER_AND_ACCOUNT_LOCK = _shopper_and_account_lock(
    "name_key = EXCLUDED.name_key,"
    " birth_year = EXCLUDED.birth_year, hainan_resident = EXCLUDED.hainan_resident,"
    " updated_at = CASE WHEN (s.name_key, s.birth_year, s.hainan_resident)"
    " IS DISTINCT FROM (EXCLUDED.name_key, EXCLUDED.birth_year, EXCLUDED.hainan_resident)"
    " THEN EXCLUDED.updated_at ELSE s.updated_at END",
    '"limit" = GREATEST(EXCLUDED."limit", a.used),'
    ' updated_at = CASE WHEN a."limit" = GREATEST(EXCLUDED."limit", a.used)'
    " THEN a.updated_at ELSE EXCLUDED.updated_at END",
)
# A training till's purchase takes the same locks and changes nothing stored: a cashier
# practising on a real document, with a wrong name, must not change what the shopper's own
# look-up matches.
SHOPPER_AND_ACCOUNT_LOCK_KEEPING = _shopper_and_account_lock(
    "name_key = s.name_key", '"limit" = a."limit"'
)

# A ledger entry's insert, in LEDGER_POST and in the sale's SALE_DEBIT.
_ENTRY_INSERT = (
    "INSERT INTO quotas_quotaentry (account_id, kind, amount, reference, created_at)"
    " VALUES (%s, %s, %s, %s, %s)"
)
# A balance's move, likewise.
_USED_UPDATE = "UPDATE quotas_quotaaccount SET used = used + %s, updated_at = %s WHERE id = %s"
# One statement (a data-modifying CTE): the entry and the balance cannot be written apart.
LEDGER_POST = f"WITH entry AS ({_ENTRY_INSERT}) {_USED_UPDATE}"

# shops.pos.checkout writes a sale, its lines, its dirty-day mark and its idempotency record in
# one statement; these parts (common table expressions, joined with commas in its WITH) put the
# new trip, the ledger entry and the balance in the same one. The SQL that writes a quota table
# stays written here, whoever runs it (tests/code/test_ownership.py).
# On the sale path: the trip a sale is for, when none was read (none stored, or the verdict did
# not depend on what it holds); its id is SALE_TRIP_ID: the trip stored, or inserted now, or
# NULL when the stored one has departed (the sale then fails: quotas.services.sale_trip_part).
SALE_TRIP = (
    "trip AS (INSERT INTO quotas_trip AS t (shopper_id, kind, mode, carrier_ref, departs_at,"
    " created_at) VALUES (%s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (shopper_id, carrier_ref, departs_at) DO UPDATE SET created_at = t.created_at"
    " WHERE t.departed_at IS NULL RETURNING t.id)"
)
# On the sale path: the ledger entry and the balance, in the sale's own statement.
SALE_DEBIT = f"quota_entry AS ({_ENTRY_INSERT}), quota_used AS ({_USED_UPDATE})"
# On the sale path: what the sale's statement selects to tell the trip's id.
SALE_TRIP_ID = "(SELECT id FROM trip)"
