"""Headroom: how much more an account may buy and sell now, rule by rule, and which rule
binds first. Pure, exact, and derived from the same context and the same checks as the
pre-trade decision (`checks.decide`), so that an order of the answered size passes and one
lot more is refused by the rule named as binding.

Each rule gives, per side, the interval of order quantities (base) it lets through at the
asked price: at most `most` (None: the rule sets no bound on size) and at least `least`
(above zero only where a rule refuses small orders, e.g. an account short beyond its
position limit may only buy enough to come back within it). Rules that refuse any order
while they hold (kill switch, halt, open-order count, daily loss, order rate) give 0.
Quantities are rounded to the instrument's lot: `most` down, `least` up. The quote
amounts are `most` x the asked price.

The context is the one `RiskBatch.decide` completes (limits, kill switch, position,
working orders, exposures, daily P&L, velocity, the account's exposure), with `price` the
asked price; its side and quantity are ignored. Funds are given per side: what is
available, and (for buys) the reservation a quantity needs, the processor's own function,
so the funds rule is exact to the last fee digit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from apps.risk.domain.checks import (
    CHECKS,
    Decision,
    PreTradeContext,
    _working_notionals,
    decide,
)
from apps.risk.domain.margin import MarginTerms, buying_power, weighted_gross
from oms.money import MONEY_CONTEXT
from oms.terms import Side

ZERO = Decimal(0)
RULES: tuple[str, ...] = tuple(check.__name__ for check in CHECKS)


@dataclass(frozen=True, slots=True)
class Room:
    """The order sizes (base) one rule lets through on one side: at most `most` (None:
    unbounded), at least `least`."""

    most: Decimal | None
    least: Decimal = ZERO


UNBOUNDED = Room(None)
NOTHING = Room(ZERO)


@dataclass(frozen=True, slots=True)
class RuleRoom:
    rule: str
    buy: Room
    sell: Room


@dataclass(frozen=True, slots=True)
class Funds:
    """What one side of an order draws on: the available balance of the asset it
    reserves, and what a quantity of it must reserve (a sell: the quantity itself)."""

    available: Decimal
    required: Callable[[Decimal], Decimal]


@dataclass(frozen=True, slots=True)
class Headroom:
    price: Decimal
    lot: Decimal
    rules: tuple[RuleRoom, ...]

    def side(self, side: Side) -> Room:
        """Every rule at once: the intersection of their intervals."""
        rooms = [getattr(rule, side) for rule in self.rules]
        bounds = [room.most for room in rooms if room.most is not None]
        most = min(bounds) if bounds else None
        least = max(room.least for room in rooms)
        if most is not None and least > most:
            return Room(ZERO)
        return Room(most, least)

    def binding(self, side: Side) -> str | None:
        """The rule that binds first on `side`: the first rule, in the decision's order,
        that refuses an order one lot larger than the headroom (so the one whose code the
        decision would give it). None when no rule bounds the size."""
        most = self.side(side).most
        if most is None:
            return None
        beyond = most + self.lot
        for rule in self.rules:
            room = getattr(rule, side)
            if (room.most is not None and beyond > room.most) or beyond < room.least:
                return str(rule.rule)
        return None


def _floor(amount: Decimal, lot: Decimal) -> Decimal:
    if amount <= 0:
        return ZERO
    units = MONEY_CONTEXT.divide(amount, lot).to_integral_value(ROUND_FLOOR)
    return MONEY_CONTEXT.multiply(units, lot)


def _ceil(amount: Decimal, lot: Decimal) -> Decimal:
    if amount <= 0:
        return ZERO
    units = MONEY_CONTEXT.divide(amount, lot).to_integral_value(ROUND_CEILING)
    return MONEY_CONTEXT.multiply(units, lot)


def _divide(a: Decimal, b: Decimal) -> Decimal:
    return MONEY_CONTEXT.divide(a, b)


def _tightest(*rooms: Room) -> Room:
    bounds = [room.most for room in rooms if room.most is not None]
    return Room(min(bounds) if bounds else None, max((room.least for room in rooms),
                                                     default=ZERO))


def _all_or_nothing(refuses: bool) -> RuleRoom:
    return RuleRoom("", NOTHING, NOTHING) if refuses else RuleRoom("", UNBOUNDED, UNBOUNDED)


def _worst_position_room(c: PreTradeContext, bound: Decimal, lot: Decimal) -> RuleRoom:
    """The sizes that keep |the position if every working order of the side and this one
    filled| within `bound` (base)."""
    after_buys = c.position + c.open_buy_quantity
    after_sells = c.position - c.open_sell_quantity
    # buy q: -bound <= after_buys + q <= bound; sell q: -bound <= after_sells - q <= bound
    buy = Room(_floor(bound - after_buys, lot), _ceil(-bound - after_buys, lot))
    sell = Room(_floor(after_sells + bound, lot), _ceil(after_sells - bound, lot))
    if bound - after_buys < 0:
        buy = NOTHING
    if after_sells + bound < 0:
        sell = NOTHING
    return RuleRoom("", buy, sell)


def _kill_switch(c: PreTradeContext, lot: Decimal) -> RuleRoom:
    return _all_or_nothing(c.kill_switch)


def _symbol_halted(c: PreTradeContext, lot: Decimal) -> RuleRoom:
    return _all_or_nothing(not c.trading)


def _order_size(c: PreTradeContext, lot: Decimal) -> RuleRoom:
    limits = c.limits
    if limits.max_open_orders is not None and c.open_orders >= limits.max_open_orders:
        return _all_or_nothing(True)
    rooms = []
    if limits.max_order_quantity is not None:
        rooms.append(Room(_floor(limits.max_order_quantity, lot)))
    price = c.price if c.price is not None else c.reference_price
    if limits.max_order_notional is not None and price:
        rooms.append(Room(_floor(_divide(limits.max_order_notional, price), lot)))
    room = _tightest(*rooms)
    return RuleRoom("", room, room)


def _price_band(c: PreTradeContext, lot: Decimal) -> RuleRoom:
    band, reference = c.limits.price_band, c.reference_price
    if band is None or reference is None or c.price is None:
        return _all_or_nothing(False)
    return _all_or_nothing(abs(c.price - reference) > reference * band)


def _position_limit(c: PreTradeContext, lot: Decimal) -> RuleRoom:
    limits = c.limits
    parts = []
    if limits.max_position is not None:
        parts.append(_worst_position_room(c, limits.max_position, lot))
    price = c.reference_price or c.price
    if limits.max_position_notional is not None and price:
        parts.append(_worst_position_room(c, _divide(limits.max_position_notional, price),
                                          lot))
    return RuleRoom("", _tightest(*(p.buy for p in parts)), _tightest(*(p.sell for p in parts)))


def _concentration(c: PreTradeContext, lot: Decimal) -> RuleRoom:
    share, price = c.limits.concentration, c.reference_price or c.price
    if share is None or not price or share >= 1:
        return _all_or_nothing(False)
    others = sum((v for s, v in c.exposures.items() if s != c.symbol), ZERO)
    # exposure / (others + exposure) <= share  <=>  exposure <= share x others / (1 - share)
    bound = _divide(_divide(MONEY_CONTEXT.multiply(share, others), 1 - share), price)
    return _worst_position_room(c, bound, lot)


def _daily_loss(c: PreTradeContext, lot: Decimal) -> RuleRoom:
    limit = c.limits.daily_loss
    return _all_or_nothing(limit is not None and -c.daily_pnl >= limit)


def _velocity(c: PreTradeContext, lot: Decimal) -> RuleRoom:
    limits, seen = c.limits, c.velocity
    if (limits.max_orders_per_second is not None
            and seen.orders_this_second >= limits.max_orders_per_second) or (
            limits.max_orders_per_minute is not None
            and seen.orders_this_minute >= limits.max_orders_per_minute):
        return _all_or_nothing(True)
    price = c.price if c.price is not None else c.reference_price
    if limits.max_notional_per_minute is None or not price:
        return _all_or_nothing(False)
    left = limits.max_notional_per_minute - seen.notional_this_minute
    room = Room(_floor(_divide(left, price), lot)) if left >= 0 else NOTHING
    return RuleRoom("", room, room)


def _funded(funds: Funds, lot: Decimal) -> Decimal:
    """The largest quantity on the lot whose reservation fits the available balance:
    estimated from one lot's reservation, then corrected with the exact function."""
    if funds.available <= 0:
        return ZERO
    per_lot = funds.required(lot)
    if per_lot <= 0:
        return ZERO
    most = _floor(MONEY_CONTEXT.multiply(_divide(funds.available, per_lot), lot), lot)
    while most > 0 and funds.required(most) > funds.available:
        most = MONEY_CONTEXT.subtract(most, lot)
    while funds.required(MONEY_CONTEXT.add(most, lot)) <= funds.available:
        most = MONEY_CONTEXT.add(most, lot)
    return most


def _margined(c: PreTradeContext, margin: MarginTerms, lot: Decimal) -> Decimal:
    """The largest quantity that keeps the weighted gross exposure within buying power."""
    price = c.price if c.price is not None else c.reference_price
    if not price:
        return ZERO
    notionals = dict(c.exposures)
    for symbol, working in _working_notionals(c, price).items():
        notionals[symbol] = notionals.get(symbol, ZERO) + working
    room = buying_power(margin) - weighted_gross(notionals, margin)
    weight = weighted_gross({c.symbol: price}, margin)
    return _floor(_divide(room, weight), lot)


def headroom(context: PreTradeContext, *, lot: Decimal, buy: Funds, sell: Funds,
             margin: MarginTerms | None) -> Headroom:
    """Per rule (in the decision's order), the sizes it lets through on each side at
    `context.price`, for an account whose funds are `buy` (quote) and `sell` (base), and
    whose buying-power terms are `margin` (None: a spot account)."""
    if context.price is None or context.price <= 0:
        raise ValueError("headroom is asked at a positive price")
    rules = []
    for name, rule in (("kill_switch", _kill_switch), ("symbol_halted", _symbol_halted),
                       ("order_size", _order_size), ("price_band", _price_band),
                       ("position_limit", _position_limit), ("concentration", _concentration),
                       ("daily_loss", _daily_loss), ("velocity", _velocity)):
        rules.append(replace(rule(context, lot), rule=name))
    funded = {side: _funded(funds, lot) for side, funds in ((Side.BUY, buy), (Side.SELL, sell))}
    if margin is not None and margin.leverage > 1:
        for side in funded:
            funded[side] = max(funded[side], _margined(replace(context, side=side), margin,
                                                       lot))
    rules.append(RuleRoom("insufficient_funds", Room(funded[Side.BUY]),
                          Room(funded[Side.SELL])))
    if tuple(r.rule for r in rules) != RULES:
        raise RuntimeError("headroom must follow the decision's checks, in their order")
    return Headroom(price=context.price, lot=lot, rules=tuple(rules))


def order_context(context: PreTradeContext, *, side: Side, quantity: Decimal, funds: Funds,
                  required_asset: str, margin: MarginTerms | None) -> PreTradeContext:
    """The context `decide` sees for an order of `quantity` on `side` at the asked price:
    what the headroom promises can be checked against the decision itself."""
    required = funds.required(quantity)
    shortfall = required > funds.available
    return replace(context, side=side, quantity=quantity, is_limit=True,
                   required_asset=required_asset, required_amount=required,
                   available_amount=funds.available,
                   margin=margin if shortfall and margin is not None and margin.leverage > 1
                   else None)


def decide_order(context: PreTradeContext, *, side: Side, quantity: Decimal, funds: Funds,
                 required_asset: str, margin: MarginTerms | None) -> Decision:
    return decide(order_context(context, side=side, quantity=quantity, funds=funds,
                                required_asset=required_asset, margin=margin))
