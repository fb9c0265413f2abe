"""How much an order holds in reserve, what a trade costs in fees, and how prices and
quantities map to the engine's integer ticks and lots. Pure and exact.

A buy reserves quote for its whole open quantity at its reserve price (its limit, or the
protection price of a market order) plus the highest fee it could pay; a sell reserves its
open base quantity. After each fill the reservation is recomputed for what stays open, and
what the fill did not consume goes back to available.

Every function computes in `oms.money.MONEY_CONTEXT` (its methods, not a local context: a
context switch per call cost more than the arithmetic), whatever context the caller has: it
is wide enough for every amount order entry accepts, so nothing here rounds by accident or
raises on a valid order (the default 28-digit context did, on large prices)."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_UP, Decimal, localcontext
from functools import lru_cache

from oms.money import MONEY_CONTEXT
from oms.terms import Side

LEDGER_PLACES = Decimal("1e-18")


@lru_cache(maxsize=1 << 16)
def to_units(amount: Decimal, step: Decimal) -> int:
    """Ticks or lots of an amount that lies on its step (order entry checked it does).
    Remembered: a book's prices and sizes repeat, and the flow asks for each several
    times per order (equal amounts give equal units, whatever their exponent)."""
    units = MONEY_CONTEXT.divide(amount, step)
    if units != units.to_integral_value():
        raise ValueError(f"{amount} is not a multiple of {step}")
    return int(units)


def from_units(units: int, step: Decimal) -> Decimal:
    return MONEY_CONTEXT.multiply(step, units)


def notional(price: Decimal, quantity: Decimal) -> Decimal:
    """Price times quantity, exact whatever the caller's context."""
    return MONEY_CONTEXT.multiply(price, quantity)


def fee_for(notional: Decimal, rate: Decimal) -> Decimal:
    """The fee on a notional, rounded away from zero to the ledger's 18 places (a rebate,
    from a negative rate, rounds to the larger rebate as well)."""
    return MONEY_CONTEXT.multiply(notional, rate).quantize(LEDGER_PLACES, rounding=ROUND_UP,
                                                            context=MONEY_CONTEXT)


def reservation_for(*, side: Side, remaining: Decimal, reserve_price: Decimal | None,
                    maker_rate: Decimal, taker_rate: Decimal) -> Decimal:
    """What an order with `remaining` open quantity must hold back."""
    if side == Side.SELL:
        return remaining
    if reserve_price is None:
        return Decimal(0)
    held = MONEY_CONTEXT.multiply(remaining, reserve_price)
    return MONEY_CONTEXT.add(held, fee_for(held, max(maker_rate, taker_rate, Decimal(0))))


def protection_price(*, side: Side, reference: Decimal, slippage: Decimal,
                     tick: Decimal) -> Decimal:
    """The worst price a market order may trade at: `slippage` beyond the reference, on
    the tick and never below one tick."""
    with localcontext(MONEY_CONTEXT):
        if side == Side.BUY:
            bound = (reference * (1 + slippage) / tick).to_integral_value(ROUND_CEILING) * tick
        else:
            bound = (reference * (1 - slippage) / tick).to_integral_value(ROUND_FLOOR) * tick
        return max(bound, tick)
