"""The quota half of the audit that proves the books (``check_books``): the relations over
accounts, the ledger and trips that ``shops.reporting.audit`` reads in its checks (each a
``SELECT`` for the ``FROM`` of a statement that also reads the sales). The SQL naming a quota
table, and what a ledger reference such as ``sale:123`` means, are written here; every check
still runs as one set-based statement.
"""

from __future__ import annotations

from collections.abc import Sequence

from .models import QuotaAccount, Trip
from .selectors import Relation

# Every account: (id, shopper_id, year, used, "limit").
ACCOUNTS = 'SELECT id, shopper_id, year, used, "limit" FROM quotas_quotaaccount'
# Every trip: (id, shopper_id).
TRIPS = "SELECT id, shopper_id FROM quotas_trip"

# Per account: the ledger's sum and number of entries, and each kind's amount and number
# (account_id, total, entries, sale_amount, sale_count, import_amount, import_count,
# return_amount, return_count, void_amount, void_count).
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
# Grouped by an expression (account_id + 0), so read in table order and hashed: the
# (account, created_at) index returns the entries in account order, one random read each,
# twice as slow.


def entries_of(accounts: Sequence[int]) -> Relation:
    """The accounts' ledger entries: (id, account_id, kind, amount, ref_kind, ref_id), the
    reference ``sale:123`` read as ``sale`` and 123 (``ref_id`` NULL if not a number)."""
    return (
        "SELECT e.id, e.account_id, e.kind, e.amount, split_part(e.reference, ':', 1) AS ref_kind, "
        "CASE WHEN e.reference ~ '^[a-z]+:[0-9]{1,18}$' "
        "THEN CAST(split_part(e.reference, ':', 2) AS BIGINT) END AS ref_id "
        "FROM quotas_quotaentry AS e WHERE e.account_id = ANY(%s::bigint[])",
        [list(accounts)],
    )


def entries_referring(prefix: str, accounts: Sequence[int]) -> Relation:
    """The accounts' entries whose reference is ``<prefix>:<id>``: (account_id, kind, amount,
    ref_id)."""
    if not prefix.isalpha():
        raise ValueError(f"not a reference prefix: {prefix!r}")
    start = len(prefix) + 2
    return (
        f"SELECT account_id, kind, amount, CAST(substr(reference, {start}) AS BIGINT) "  # noqa: S608 - a number and letters
        "AS ref_id FROM quotas_quotaentry WHERE account_id = ANY(%s::bigint[]) "
        f"AND reference ~ '^{prefix}:[0-9]{{1,18}}$'",
        [list(accounts)],
    )


def counts() -> tuple[int, int]:
    """(accounts, trips)."""
    return QuotaAccount.objects.count(), Trip.objects.count()
