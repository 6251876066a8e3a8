"""Every PostgreSQL advisory-lock key the project takes, in one registry.

An advisory lock is named by numbers only, and the server has one table of them per database:
two features that picked the same numbers would serialise each other, or worse, one would
believe it holds a lock that guards something else. So the numbers are chosen here, once, and
the apps' lock modules (``quotas/locks.py``, ``shops/locks.py``), the only places an
advisory-lock statement may be written, take them from here;
``tests/code/test_no_private_machinery.py`` checks both.

Why no two can collide:

- PostgreSQL keeps the two forms apart: a lock on one 64-bit key
  (``pg_advisory_xact_lock(bigint)``) never conflicts with a lock on two 32-bit keys
  (``pg_advisory_xact_lock(int, int)``), whatever the numbers (the manual: "these two key
  spaces do not overlap").
- Among the one-key locks, each is a distinct constant.
- Among the two-key locks, the first key says whose lock it is, and the spaces' first keys are
  disjoint ranges: the terminals' idempotency keys use the terminal's id, always positive; any
  other two-key space takes a negative constant. The second key is the space's own business (a
  hash of an idempotency key): a collision there only ever meets a lock of the same kind.

Each lock here is transaction-scoped (``_xact_``): it is released at commit or rollback, never
left behind by a request that failed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Form(enum.Enum):
    ONE_KEY = "one 64-bit key"
    TWO_KEYS = "two 32-bit keys"


@dataclass(frozen=True)
class KeySpace:
    """The numbers one kind of advisory lock uses: ``first`` is the range of its (first) key;
    ``second`` says what the second key of a two-key lock is."""

    name: str
    form: Form
    first: range
    second: str = ""

    @property
    def key(self) -> int:
        """The space's one (first) key, for a space that has one."""
        if len(self.first) != 1:
            raise ValueError(f"{self.name}: the first key is a range, not one number")
        return self.first[0]


INT4 = range(-(2**31), 2**31)  # what a 32-bit key can hold

# One writer of the sales rollups at a time (shops.locks.rollups_lock).
ROLLUPS = KeySpace("rollups refresh or rebuild", Form.ONE_KEY, range(0x5EED_0001, 0x5EED_0002))
# A request in flight with a terminal's Idempotency-Key (shops.locks.IDEMPOTENCY_KEY_TRY_LOCK).
TERMINAL_IDEMPOTENCY = KeySpace(
    "terminal idempotency key",
    Form.TWO_KEYS,
    range(1, 2**31),
    "hashtext(the Idempotency-Key)",
)

REGISTRY = (ROLLUPS, TERMINAL_IDEMPOTENCY)
