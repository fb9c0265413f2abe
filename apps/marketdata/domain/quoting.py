"""The demo market maker's quoting rules, pure so they are tested without the stack.

A ladder is a few post-only limit orders on each side of the symbol's reference price:
the best bid and ask `spread_bps` apart around it, each further level `step_bps` beyond
the last, every level worth about `level_notional` in the quote asset (rounded down to the
lot, raised to the instrument's minimums). Prices are rounded away from the reference (bids
down, asks up) so a ladder never crosses itself.

Each quote carries a `client_order_id` that names the symbol, the ladder's generation and
the level (`mm:BTC-USDT:<generation>:b0`), so the bot recognises its own working orders,
including those a previous run left behind. `plan` decides one step for one symbol: cancel
what is not in the current ladder, and replace the whole ladder when the reference moved
by `requote_bps` or more, or when a level has been gone (filled, cancelled, refused) for
`refresh_seconds`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from oms.terms import Side

PREFIX = "mm"
_SIDE_CODES = {Side.BUY: "b", Side.SELL: "s"}
_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class InstrumentTerms:
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: Decimal
    min_notional: Decimal


@dataclass(frozen=True, slots=True)
class QuotingParams:
    levels: int
    spread_bps: Decimal  # best ask over best bid, around the reference
    step_bps: Decimal  # between two levels of a side
    level_notional: Decimal  # quote asset per level
    requote_bps: Decimal  # a move of the reference that replaces the ladder
    refresh_seconds: float  # how long a gone level waits before the ladder is replaced


@dataclass(frozen=True, slots=True)
class Quote:
    side: Side
    level: int
    price: Decimal
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """One of the account's working orders, as `GET /api/orders` lists it."""

    order_id: str
    client_order_id: str


@dataclass(frozen=True, slots=True)
class Ladder:
    """The quotes last placed for a symbol: around which reference, when, under which ids."""

    reference: Decimal
    placed_at: float
    client_order_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class Plan:
    cancel: tuple[str, ...]  # order ids
    place: tuple[tuple[str, Quote], ...]  # (client_order_id, quote)
    ladder: Ladder


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding) * step


def _quantity(price: Decimal, terms: InstrumentTerms, params: QuotingParams) -> Decimal:
    quantity = max(_to_step(params.level_notional / price, terms.lot_size, ROUND_FLOOR),
                   _to_step(terms.min_quantity, terms.lot_size, ROUND_CEILING))
    if quantity * price < terms.min_notional:
        quantity = _to_step(terms.min_notional / price, terms.lot_size, ROUND_CEILING)
    return quantity


def quotes(reference: Decimal, terms: InstrumentTerms, params: QuotingParams) -> list[Quote]:
    """The ladder around `reference`: bids best first, then asks best first. Levels are at
    least one tick apart; bids that would not be positive are left out."""
    tick = terms.tick_size
    half = params.spread_bps / 2
    bids: list[Quote] = []
    asks: list[Quote] = []
    for level in range(params.levels):
        distance = (half + level * params.step_bps) / _BPS
        bid = _to_step(reference * (1 - distance), tick, ROUND_FLOOR)
        ask = _to_step(reference * (1 + distance), tick, ROUND_CEILING)
        if bids:
            bid = min(bid, bids[-1].price - tick)
        if asks:
            ask = max(ask, asks[-1].price + tick)
        elif bid >= ask:  # a spread narrower than a tick on a price on the tick
            ask = bid + tick
        if bid > 0:
            bids.append(Quote(Side.BUY, level, bid, _quantity(bid, terms, params)))
        asks.append(Quote(Side.SELL, level, ask, _quantity(ask, terms, params)))
    return [*bids, *asks]


def client_order_id(symbol: str, generation: str, quote: Quote) -> str:
    return f"{PREFIX}:{symbol}:{generation}:{_SIDE_CODES[quote.side]}{quote.level}"


def is_quote_of(symbol: str, client_order_id: str) -> bool:
    """Whether a client order id is one of this bot's quotes of `symbol`."""
    return client_order_id.startswith(f"{PREFIX}:{symbol}:")


def moved(quoted: Decimal, reference: Decimal, threshold_bps: Decimal) -> bool:
    return abs(reference - quoted) * _BPS >= threshold_bps * quoted


def plan(*, symbol: str, reference: Decimal, now: float, generation: str,
         working: Sequence[WorkingOrder], ladder: Ladder | None, terms: InstrumentTerms,
         params: QuotingParams) -> Plan:
    """One quoting step of `symbol`: what to cancel, what to place, and the ladder after."""
    ours = [order for order in working if is_quote_of(symbol, order.client_order_id)]
    if ladder is not None and not _ladder_due(ladder, reference, now, ours, params):
        return Plan(cancel=tuple(order.order_id for order in ours
                                 if order.client_order_id not in ladder.client_order_ids),
                    place=(), ladder=ladder)
    placements = tuple((client_order_id(symbol, generation, quote), quote)
                       for quote in quotes(reference, terms, params))
    return Plan(cancel=tuple(order.order_id for order in ours), place=placements,
                ladder=Ladder(reference=reference, placed_at=now,
                              client_order_ids=frozenset(cid for cid, _ in placements)))


def _ladder_due(ladder: Ladder, reference: Decimal, now: float, ours: Sequence[WorkingOrder],
                params: QuotingParams) -> bool:
    """Whether the ladder is to be replaced: the reference moved, or a level is gone."""
    if moved(ladder.reference, reference, params.requote_bps):
        return True
    working = {order.client_order_id for order in ours}
    return now - ladder.placed_at >= params.refresh_seconds \
        and not ladder.client_order_ids <= working
