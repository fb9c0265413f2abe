"""How much an order holds in reserve, what a trade costs in fees, and how prices and
quantities map to the engine's integer ticks and lots. Pure and exact.

A buy reserves quote for its whole open quantity at its reserve price (its limit, or the
protection price of a market order) plus the highest fee it could pay; a sell reserves its
open base quantity. After each fill the reservation is recomputed for what stays open, and
what the fill did not consume goes back to available."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_UP, Decimal

LEDGER_PLACES = Decimal("1e-18")


def to_units(amount: Decimal, step: Decimal) -> int:
    """Ticks or lots of an amount that lies on its step (order entry checked it does)."""
    units = amount / step
    if units != units.to_integral_value():
        raise ValueError(f"{amount} is not a multiple of {step}")
    return int(units)


def from_units(units: int, step: Decimal) -> Decimal:
    return units * step


def fee_for(notional: Decimal, rate: Decimal) -> Decimal:
    """The fee on a notional, rounded away from zero to the ledger's 18 places (a rebate,
    from a negative rate, rounds to the larger rebate as well)."""
    return (notional * rate).quantize(LEDGER_PLACES, rounding=ROUND_UP)


def reservation_for(*, side: str, remaining: Decimal, reserve_price: Decimal | None,
                    maker_rate: Decimal, taker_rate: Decimal) -> Decimal:
    """What an order with `remaining` open quantity must hold back."""
    if side == "sell":
        return remaining
    if reserve_price is None:
        return Decimal(0)
    notional = remaining * reserve_price
    return notional + fee_for(notional, max(maker_rate, taker_rate, Decimal(0)))


def protection_price(*, side: str, reference: Decimal, slippage: Decimal,
                     tick: Decimal) -> Decimal:
    """The worst price a market order may trade at: `slippage` beyond the reference, on
    the tick and never below one tick."""
    if side == "buy":
        bound = (reference * (1 + slippage) / tick).to_integral_value(ROUND_CEILING) * tick
    else:
        bound = (reference * (1 - slippage) / tick).to_integral_value(ROUND_FLOOR) * tick
    return max(bound, tick)
