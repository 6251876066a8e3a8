"""Money: the one place amounts are parsed and rounded.

Amounts are ``Decimal`` yuan with two places. Floats are refused (a float cannot hold 0.10
exactly). Each line total is rounded half-up to the fen once, stored, and sums are sums of
stored line totals, so a receipt, the ledger and the dashboards agree to the fen.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
# Far above any real duty-free price or total; bounds what NUMERIC(14, 2) columns must hold.
MAX_AMOUNT = Decimal("999999999999.99")


class MoneyError(ValueError):
    """An amount that is not a finite, non-float decimal within range."""


def quantize(value: Decimal) -> Decimal:
    """Round half-up to the fen."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def parse(value: object) -> Decimal:
    """Parse an amount given as a decimal string, int or Decimal.

    :raises MoneyError: for floats, booleans, non-numbers, NaN/Infinity, more than two decimal
        places, or amounts beyond ``MAX_AMOUNT``.
    """
    if isinstance(value, bool | float):
        raise MoneyError('Amounts must be decimal strings such as "1234.50", not floats.')
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation as exc:
            raise MoneyError(f"{value[:40]!r} is not an amount.") from exc
    else:
        raise MoneyError('Amounts must be decimal strings such as "1234.50".')
    if not amount.is_finite():
        raise MoneyError("Amounts must be finite.")
    if abs(amount) > MAX_AMOUNT:
        raise MoneyError("Amount out of range.")
    if amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise MoneyError("Amounts have at most two decimal places (fen).")
    return quantize(amount)


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    """The amount of one basket line: unit price × quantity, rounded once."""
    return quantize(unit_price * quantity)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """Sum of already-rounded amounts."""
    result = ZERO
    for amount in amounts:
        result += amount
    return quantize(result)


def to_str(value: Decimal) -> str:
    """The contract's representation: two places, no exponent (``"1234.50"``)."""
    return f"{quantize(value):.2f}"
