"""Counts of the rows a request can write, to assert that a refusal wrote nothing::

before = written()
...  # the refused request
assert written() == before
"""

from __future__ import annotations

from django.db.models import Model

from quotas.models import QuotaAccount, QuotaEntry, Shopper, Trip
from shops.models import DirtyDay, IdempotencyRecord, Return, ReturnLine, Sale, SaleLine, Terminal

# Every table a sale, a return, a void, a departure or an import writes to.
WRITTEN: tuple[type[Model], ...] = (
    Sale,
    SaleLine,
    Return,
    ReturnLine,
    QuotaAccount,
    QuotaEntry,
    Shopper,
    Trip,
    DirtyDay,
    IdempotencyRecord,
    Terminal,
)


def written() -> dict[str, int]:
    """The number of rows of each table in ``WRITTEN``, by model name."""
    return {model.__name__: model.objects.count() for model in WRITTEN}
