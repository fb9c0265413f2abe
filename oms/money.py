"""Exact amounts (D8). Prices, quantities and balances are `Decimal`, stored as
NUMERIC(38, 18) and sent as strings in JSON; nothing here ever touches a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_DIGITS = 38
DECIMAL_PLACES = 18
ZERO = Decimal(0)


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


def format_amount(amount: Decimal) -> str:
    """The shortest plain string of an amount: no exponent, no trailing zeros."""
    if amount == 0:
        return "0"
    text = format(amount.normalize(), "f")
    return text


def is_multiple_of(amount: Decimal, step: Decimal) -> bool:
    return step > 0 and amount % step == 0
