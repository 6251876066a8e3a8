"""Every hand-written statement of ``quotas``, each with one line of why it is SQL and not the
ORM (docs/ARCHITECTURE.md, "Hand-written statements"). Constants only: every value is a
parameter, and a builder interpolates nothing but what its signature checks.

Kept where they are for now: the locks (``quotas/locks.py``, the lock module says each lock's
strength) and the sale's parts and the ledger's post (``quotas/services.py``).
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
