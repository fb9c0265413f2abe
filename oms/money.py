"""Exact amounts (D8). Prices, quantities and balances are `Decimal`, stored as
NUMERIC(38, 18) and sent as strings in JSON; nothing here ever touches a float.

Order entry bounds what it accepts (`MAX_PRICE`, `MAX_QUANTITY`, `MAX_NOTIONAL`: settings
and instruments may narrow them, never widen them), so that every product the money
arithmetic forms has a known number of digits. `MONEY_CONTEXT` is the decimal context wide
enough to compute all of them exactly: Python's default context keeps 28 digits, and a
price times a quantity on fine ticks and lots needs more than twice that, so a quantize in
the default context raised `InvalidOperation` on input that order entry had accepted."""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from functools import lru_cache

MAX_DIGITS = 38
DECIMAL_PLACES = 18
ZERO = Decimal(0)

# The widest bounds order entry ever accepts (settings OMS_MAX_PRICE, OMS_MAX_QUANTITY and
# OMS_MAX_NOTIONAL, and each instrument's own maximums, can only lower them).
MAX_PRICE = Decimal(10) ** 9
MAX_QUANTITY = Decimal(10) ** 9
MAX_NOTIONAL = Decimal(10) ** 12
# The finest tick or lot an instrument may have: a price times a quantity on it has at most
# 16 decimal places, exact in the ledger's 18.
MIN_STEP = Decimal("1e-8")
# Fee rates lie strictly between -1 and 1 (a rebate is negative).
MAX_FEE_RATE = Decimal(1)

# Significant digits of the largest operands: an amount has at most DECIMAL_PLACES places,
# and a price may exceed MAX_PRICE by one integer digit once market price protection adds
# its slippage. A fee is (quantity x price) x rate, so three operands multiply exactly in
# MONEY_PRECISION digits; divisions by a tick or lot yield integers far below it.
_AMOUNT_DIGITS = len(str(int(max(MAX_PRICE, MAX_QUANTITY)))) + 1 + DECIMAL_PLACES
_RATE_DIGITS = DECIMAL_PLACES + 1
MONEY_PRECISION = 2 * _AMOUNT_DIGITS + _RATE_DIGITS
MONEY_CONTEXT = Context(
    prec=MONEY_PRECISION,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


class InvalidAmount(ValueError):
    pass


def parse_amount(value: object) -> Decimal:
    """A finite Decimal from a string or int (floats are refused: they are not exact)."""
    if isinstance(value, (bool, float)):
        raise InvalidAmount("amounts are strings or integers, never floats")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidAmount(f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise InvalidAmount(f"{value!r} is not a finite number")
    return amount


@lru_cache(maxsize=1 << 16)
def format_amount(amount: Decimal) -> str:
    """The shortest plain string of an amount: no exponent, no trailing zeros.
    (Remembered: equal amounts have one string, and events repeat prices and sizes.)"""
    if amount == 0:
        return "0"
    return format(amount.normalize(MONEY_CONTEXT), "f")


def is_multiple_of(amount: Decimal, step: Decimal) -> bool:
    return step > 0 and MONEY_CONTEXT.remainder(amount, step) == 0
