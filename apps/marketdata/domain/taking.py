"""The demo taker's rules, pure so they are tested without the stack.

The demo taker (`apps/marketdata/demo_taker.py`) is the other half of the demo venue: the
market maker only quotes, so without someone crossing the spread nothing trades, the chart
has no candles and the tape does not move. Each step it takes a little liquidity from the
book: an immediate-or-cancel limit order at the best opposite price (it never walks the
book, so a thin or stale book costs it nothing), of a random size between `min_notional`
and `max_notional` in the quote asset, rounded to the lot and raised to the instrument's
minimums. Randomness comes in as draws in [0, 1), so a step replays exactly."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from apps.marketdata.domain.quoting import InstrumentTerms
from oms.terms import Side

PREFIX = "taker"


@dataclass(frozen=True, slots=True)
class TakingParams:
    min_notional: Decimal  # quote asset per order, at least
    max_notional: Decimal  # quote asset per order, at most
    buy_share: Decimal  # the chance that an order buys, 0..1


@dataclass(frozen=True, slots=True)
class Take:
    """One IOC limit order that crosses the spread at the best opposite price."""

    side: Side
    price: Decimal
    quantity: Decimal


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding) * step


def take(*, best_bid: Decimal | None, best_ask: Decimal | None, side_draw: float,
         size_draw: float, terms: InstrumentTerms, params: TakingParams) -> Take | None:
    """The order of one step, or None when the side it drew has nothing to take."""
    side = Side.BUY if Decimal(str(side_draw)) < params.buy_share else Side.SELL
    price = best_ask if side == Side.BUY else best_bid
    if price is None or price <= 0:
        return None
    notional = params.min_notional + (params.max_notional - params.min_notional) \
        * Decimal(str(size_draw))
    quantity = max(_to_step(notional / price, terms.lot_size, ROUND_FLOOR),
                   _to_step(terms.min_quantity, terms.lot_size, ROUND_CEILING))
    if quantity * price < terms.min_notional:
        quantity = _to_step(terms.min_notional / price, terms.lot_size, ROUND_CEILING)
    return Take(side=side, price=price, quantity=quantity)


def client_order_id(symbol: str, sequence: int, generation: str) -> str:
    return f"{PREFIX}:{symbol}:{generation}:{sequence}"
