"""The quota half of the audit that proves the books (``check_books``): the relations over
accounts, the ledger and trips that ``shops.reporting.audit`` reads in its checks (each a
``SELECT`` for the ``FROM`` of a statement that also reads the sales). The SQL naming a quota
table, and what a ledger reference such as ``sale:123`` means, are written here; every check
still runs as one set-based statement.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import sql
from .models import QuotaAccount, Trip
from .selectors import Relation

# The relations, each a SELECT the shops audit reads in its FROM (written in quotas.sql).
# Every account: (id, shopper_id, year, used, "limit").
ACCOUNTS = sql.AUDIT_ACCOUNTS
# Every trip: (id, shopper_id).
TRIPS = sql.AUDIT_TRIPS
# Per account: the ledger's sum and number of entries, and each kind's amount and number
# (account_id, total, entries, sale_amount, sale_count, import_amount, import_count,
# return_amount, return_count, void_amount, void_count).
LEDGER_BY_ACCOUNT = sql.LEDGER_BY_ACCOUNT


def entries_of(accounts: Sequence[int]) -> Relation:
    """The accounts' ledger entries: (id, account_id, kind, amount, ref_kind, ref_id), the
    reference ``sale:123`` read as ``sale`` and 123 (``ref_id`` NULL if not a number)."""
    return sql.ENTRIES_OF, [list(accounts)]


def entries_referring(prefix: str, accounts: Sequence[int]) -> Relation:
    """The accounts' entries whose reference is ``<prefix>:<id>``: (account_id, kind, amount,
    ref_id)."""
    return sql.entries_referring_sql(prefix), [list(accounts)]


def counts() -> tuple[int, int]:
    """(accounts, trips)."""
    return QuotaAccount.objects.count(), Trip.objects.count()
