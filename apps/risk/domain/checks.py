"""Pre-trade checks as pure functions over an explicit context, so the decision is fast,
deterministic and testable without the stack. Each check returns None (pass) or a
rejection with a stable code and a human message; the first failing check decides, in the
order of `CHECKS`. Every limit is optional: None means no limit at that scope.

Codes: `kill_switch`, `symbol_halted`, `order_size`, `price_band`, `position_limit`,
`concentration`, `daily_loss`, `velocity`, `insufficient_funds`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from apps.risk.domain.exposure import AccountExposure
from apps.risk.domain.margin import MarginTerms, buying_power, weighted_gross
from oms.terms import Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Limits:
    max_position: Decimal | None = None
    max_position_notional: Decimal | None = None
    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_open_orders: int | None = None
    price_band: Decimal | None = None
    daily_loss: Decimal | None = None
    concentration: Decimal | None = None
    max_orders_per_second: int | None = None
    max_orders_per_minute: int | None = None
    max_notional_per_minute: Decimal | None = None

    @property
    def limit_velocity(self) -> bool:
        """Whether any velocity limit is set (the account's windows are read only then)."""
        return (self.max_orders_per_second is not None
                or self.max_orders_per_minute is not None
                or self.max_notional_per_minute is not None)


@dataclass(frozen=True, slots=True)
class Velocity:
    """The account's orders before this one, in the current second and minute."""

    orders_this_second: int = 0
    orders_this_minute: int = 0
    notional_this_minute: Decimal = ZERO


NO_LIMITS = Limits()
NO_VELOCITY = Velocity()


@dataclass(frozen=True, slots=True)
class PreTradeContext:
    user_id: int
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal | None  # the limit, or a market order's protection price
    is_limit: bool
    trading: bool
    required_asset: str
    required_amount: Decimal
    available_amount: Decimal
    reference_price: Decimal | None = None
    kill_switch: bool = False
    limits: Limits = NO_LIMITS  # shared: frozen, and made per context it cost a microsecond
    position: Decimal = ZERO  # signed: long > 0
    open_buy_quantity: Decimal = ZERO  # working orders of this symbol
    open_sell_quantity: Decimal = ZERO
    open_orders: int = 0  # working orders of the account, every symbol
    marks: Mapping[str, Decimal] = field(default_factory=dict)  # reference price by symbol
    daily_pnl: Decimal = ZERO  # realized today plus unrealized at reference prices
    exposures: Mapping[str, Decimal] = field(default_factory=dict)  # |positions| at marks
    velocity: Velocity = NO_VELOCITY
    margin: MarginTerms | None = None  # leveraged accounts only; None: fully funded
    account: AccountExposure | None = None  # working orders of every symbol, balances
    filled_quantity: Decimal = ZERO  # an amend: what the order filled before its new terms

    @property
    def notional(self) -> Decimal | None:
        price = self.price if self.price is not None else self.reference_price
        return None if price is None else price * self.quantity

    @property
    def shortfall(self) -> Decimal:
        """What the order needs beyond the available balance (what a leveraged account
        borrows)."""
        return max(self.required_amount - self.available_amount, ZERO)


@dataclass(frozen=True, slots=True)
class Decision:
    accepted: bool
    code: str = ""
    message: str = ""
    borrow: Decimal = ZERO  # of the required asset, lent to a leveraged account
    timings_ns: Mapping[str, int] = field(default_factory=dict, compare=False)


ACCEPT = Decision(accepted=True)


def _reject(code: str, message: str) -> Decision:
    return Decision(False, code, message)


def kill_switch(c: PreTradeContext) -> Decision | None:
    return _reject("kill_switch", "trading is stopped by a kill switch") if c.kill_switch \
        else None


def symbol_halted(c: PreTradeContext) -> Decision | None:
    return None if c.trading else _reject("symbol_halted", f"{c.symbol} is halted")


def order_size(c: PreTradeContext) -> Decision | None:
    """The order's size: what is left to trade plus what it filled before (an amend)."""
    limits = c.limits
    size = c.quantity + c.filled_quantity
    if limits.max_order_quantity is not None and size > limits.max_order_quantity:
        return _reject("order_size", f"quantity {size} is above the "
                       f"{limits.max_order_quantity} limit")
    price = c.price if c.price is not None else c.reference_price
    notional = None if price is None else price * size
    if limits.max_order_notional is not None and notional is not None \
            and notional > limits.max_order_notional:
        return _reject("order_size", f"notional {notional} is above the "
                       f"{limits.max_order_notional} limit")
    if limits.max_open_orders is not None and c.open_orders >= limits.max_open_orders:
        return _reject("order_size", f"{c.open_orders} working orders: the limit is "
                       f"{limits.max_open_orders}")
    return None


def price_band(c: PreTradeContext) -> Decision | None:
    band, reference = c.limits.price_band, c.reference_price
    if band is None or reference is None or c.price is None or not c.is_limit:
        return None
    if abs(c.price - reference) > reference * band:
        return _reject("price_band", f"price {c.price} is more than {band:%} from the "
                       f"reference {reference}")
    return None


def _worst_position(c: PreTradeContext) -> Decimal:
    """The position if this order and every working order on its side filled."""
    if c.side == Side.BUY:
        return c.position + c.open_buy_quantity + c.quantity
    return c.position - c.open_sell_quantity - c.quantity


def position_limit(c: PreTradeContext) -> Decision | None:
    worst = abs(_worst_position(c))
    limits = c.limits
    if limits.max_position is not None and worst > limits.max_position:
        return _reject("position_limit", f"the position could reach {worst}, above the "
                       f"{limits.max_position} limit")
    price = c.reference_price or c.price
    if limits.max_position_notional is not None and price is not None \
            and worst * price > limits.max_position_notional:
        return _reject("position_limit", f"the position could reach {worst * price} "
                       f"notional, above the {limits.max_position_notional} limit")
    return None


def concentration(c: PreTradeContext) -> Decision | None:
    share_limit = c.limits.concentration
    price = c.reference_price or c.price
    if share_limit is None or price is None:
        return None
    exposures = dict(c.exposures)
    exposures[c.symbol] = abs(_worst_position(c)) * price
    gross = sum(exposures.values(), ZERO)
    if gross > 0 and exposures[c.symbol] / gross > share_limit:
        return _reject("concentration", f"{c.symbol} would be "
                       f"{exposures[c.symbol] / gross:.2%} of the gross exposure, above "
                       f"{share_limit:%}")
    return None


def daily_loss(c: PreTradeContext) -> Decision | None:
    limit = c.limits.daily_loss
    if limit is not None and -c.daily_pnl >= limit:
        return _reject("daily_loss", f"today's loss {-c.daily_pnl} reached the {limit} limit")
    return None


def velocity(c: PreTradeContext) -> Decision | None:
    limits, seen = c.limits, c.velocity
    if limits.max_orders_per_second is not None \
            and seen.orders_this_second >= limits.max_orders_per_second:
        return _reject("velocity", f"more than {limits.max_orders_per_second} orders a second")
    if limits.max_orders_per_minute is not None \
            and seen.orders_this_minute >= limits.max_orders_per_minute:
        return _reject("velocity", f"more than {limits.max_orders_per_minute} orders a minute")
    notional = c.notional
    if limits.max_notional_per_minute is not None and notional is not None \
            and seen.notional_this_minute + notional > limits.max_notional_per_minute:
        return _reject("velocity", f"more than {limits.max_notional_per_minute} notional a "
                       "minute")
    return None


def _working_notionals(c: PreTradeContext, price: Decimal) -> dict[str, Decimal]:
    """Working orders by symbol at their own prices: of every symbol with the account's
    exposure, of this symbol alone (valued at this order's price) without it."""
    if c.account is not None:
        return {symbol: orders.notional for symbol, orders in c.account.working.items()}
    return {c.symbol: (c.open_buy_quantity + c.open_sell_quantity) * price}


def insufficient_funds(c: PreTradeContext) -> Decision | None:
    """Fully funded, or (leveraged accounts) within buying power: the gross exposure of
    every symbol (positions at marks, working orders) with this order, each symbol
    weighted by its initial margin, at most equity x leverage."""
    if not c.shortfall:
        return None
    if c.margin is None:
        return _reject("insufficient_funds", f"needs {c.required_amount} {c.required_asset}, "
                       f"{c.available_amount} available")
    price = c.price if c.price is not None else c.reference_price
    if price is None:
        return _reject("insufficient_funds", "no price to value a leveraged order with")
    notionals = dict(c.exposures)
    for symbol, working in _working_notionals(c, price).items():
        notionals[symbol] = notionals.get(symbol, ZERO) + working
    notionals[c.symbol] = notionals.get(c.symbol, ZERO) + c.quantity * price
    gross = weighted_gross(notionals, c.margin)
    power = buying_power(c.margin)
    if gross > power:
        return _reject("insufficient_funds", f"gross exposure would be {gross.normalize():f}, "
                       f"above the buying power {power.normalize():f} (equity "
                       f"{c.margin.equity.normalize():f} x leverage {c.margin.leverage})")
    return None


CHECKS: tuple[Callable[[PreTradeContext], Decision | None], ...] = (
    kill_switch,
    symbol_halted,
    order_size,
    price_band,
    position_limit,
    concentration,
    daily_loss,
    velocity,
    insufficient_funds,
)


def decide(context: PreTradeContext, *, clock_ns: Callable[[], int] | None = None) -> Decision:
    """Run the checks in order; the first rejection decides. With a clock (nanoseconds,
    passed in: the domain reads none), each check is timed."""
    timings: dict[str, int] = {}
    for check in CHECKS:
        started = clock_ns() if clock_ns else 0
        decision = check(context)
        if clock_ns:
            timings[check.__name__] = clock_ns() - started
        if decision is not None:
            return Decision(False, decision.code, decision.message, timings_ns=timings)
    borrow = context.shortfall if context.margin is not None else ZERO
    return Decision(True, borrow=borrow, timings_ns=timings)
