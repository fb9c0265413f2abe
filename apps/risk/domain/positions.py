"""Position arithmetic: average entry price and realized P&L from fills (average cost).

Buying adds to a long at a new weighted average; selling from a long realizes
(price - average) per unit; a trade through zero closes the old position and opens the
new one at the trade price. Shorts mirror longs. Fees (in the quote asset) reduce realized
P&L. Exact Decimals throughout; the average is kept to 18 places."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from oms.terms import Side

PLACES = Decimal("1e-18")


@dataclass(frozen=True, slots=True)
class PositionChange:
    quantity: Decimal  # signed: long > 0, short < 0
    average_entry_price: Decimal
    realized_pnl: Decimal


def apply_fill(position: PositionChange, *, side: Side, quantity: Decimal, price: Decimal,
               fee_in_quote: Decimal) -> PositionChange:
    signed = quantity if side == Side.BUY else -quantity
    held, average = position.quantity, position.average_entry_price
    realized = position.realized_pnl - fee_in_quote
    if held == 0 or (held > 0) == (signed > 0):
        total = held + signed
        average = ((abs(held) * average + quantity * price) / abs(total)).quantize(
            PLACES, ROUND_HALF_EVEN)
        return PositionChange(total, average, realized)
    closing = min(abs(signed), abs(held))
    direction = Decimal(1) if held > 0 else Decimal(-1)
    # Kept to the 18 places the database stores, so a position moved by many fills in
    # memory equals one stored and read back after each fill.
    realized = (realized + (price - average) * closing * direction).quantize(
        PLACES, ROUND_HALF_EVEN)
    total = held + signed
    if total == 0:
        return PositionChange(Decimal(0), Decimal(0), realized)
    if (total > 0) == (held > 0):
        return PositionChange(total, average, realized)
    return PositionChange(total, price, realized)
