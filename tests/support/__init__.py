"""The one home of test helpers; no test module imports another test module
(tests/code/test_test_imports.py checks it).

By what they make:

- ``keys``: the one source of unique idempotency keys and names.
- ``shop``: products (and ``CATALOGUE``, the ``catalogue`` fixture's), terminals, shoppers,
  trips.
- ``sales``: baskets, and sales through the real checkout (``commit``, ``sell``).
- ``rows``: counts of written rows (``written``), to assert a refusal wrote nothing.
- ``legacy``: rows of the legacy sales CSV.
- ``books``: ``check_books`` as the operator runs it; the rollups as rows.
- ``pages``: the quota page's CAPTCHA, answered.
- ``policies``: the shipped policy data as pure rules; facts for the rules.
- ``admin_forms``: admin pages' POST data as a browser sends it.
- ``identity``: identity-key settings before and during a rotation.
- ``source``: the project's own source as the checks in tests/code/ read it.

The makers of a sale are here too, so ``from tests.support import basket, sell`` reads.
"""

from .keys import unique_key
from .pages import captcha_answer
from .rows import written
from .sales import basket, commit, json_basket, sell
from .shop import (
    CATALOGUE,
    DEPARTS,
    product,
    resident_id,
    shopper,
    shopper_row,
    stock,
    terminal,
    trip,
)

__all__ = [
    "CATALOGUE",
    "DEPARTS",
    "basket",
    "captcha_answer",
    "commit",
    "json_basket",
    "product",
    "resident_id",
    "sell",
    "shopper",
    "shopper_row",
    "stock",
    "terminal",
    "trip",
    "unique_key",
    "written",
]
