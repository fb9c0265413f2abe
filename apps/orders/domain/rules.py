"""The trading rules an order must meet before it is published: the instrument trades, the
quantity is on the lot and within bounds, prices are on the tick and below the maximum, the
notional lies between the minimum and the maximum, and the type, time in force, stop price,
expiry and post-only fit together. The bounds come first, so the step checks only ever
divide numbers of a known size, in the money context (`oms.money.MONEY_CONTEXT`).

Pure functions over explicit inputs (the instrument's rules, the order, `now`), so every
rule is tested alone and the API only translates the violations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

from apps.orders.domain.instruments import InstrumentRules
from oms.money import MONEY_CONTEXT
from oms.terms import LIMIT_TYPES, MARKET_TYPES, STOP_TYPES, OrderType, Side, TimeInForce

# A market order never rests, so only immediate times in force make sense for it.
MARKET_TIMES_IN_FORCE = frozenset({TimeInForce.IOC, TimeInForce.FOK})


@dataclass(frozen=True, slots=True)
class OrderTerms:
    """What the client asked for, already parsed into exact types (the terms into
    `oms.terms` members)."""

    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    post_only: bool
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Violation:
    field: str | None
    code: str
    message: str


def default_time_in_force(order_type: OrderType) -> TimeInForce:
    return TimeInForce.IOC if order_type in MARKET_TYPES else TimeInForce.GTC


def check_quantity(
    rules: InstrumentRules, quantity: Decimal, field: str = "quantity"
) -> list[Violation]:
    if quantity <= 0:
        return [Violation(field, "not_positive", "quantity must be greater than zero")]
    if quantity > rules.max_quantity:
        return [Violation(field, "above_max_quantity",
                          f"quantity must be at most {rules.max_quantity}")]
    if MONEY_CONTEXT.remainder(quantity, rules.lot_size) != 0:
        return [Violation(field, "lot_size",
                          f"quantity must be a multiple of the lot size {rules.lot_size}")]
    if quantity < rules.min_quantity:
        return [Violation(field, "below_min_quantity",
                          f"quantity must be at least {rules.min_quantity}")]
    return []


def check_price(rules: InstrumentRules, price: Decimal, field: str) -> list[Violation]:
    if price <= 0:
        return [Violation(field, "not_positive", f"{field} must be greater than zero")]
    if price > rules.max_price:
        return [Violation(field, "above_max_price",
                          f"{field} must be at most {rules.max_price}")]
    if MONEY_CONTEXT.remainder(price, rules.tick_size) != 0:
        return [Violation(field, "tick_size",
                          f"{field} must be a multiple of the tick size {rules.tick_size}")]
    return []


def check_notional(rules: InstrumentRules, quantity: Decimal, price: Decimal) -> list[Violation]:
    """Price times quantity within the instrument's bounds (field null: neither alone is
    at fault)."""
    with localcontext(MONEY_CONTEXT):
        notional = quantity * price
    if notional < rules.min_notional:
        return [Violation(None, "min_notional",
                          f"price times quantity must be at least {rules.min_notional} "
                          f"{rules.quote_asset}")]
    if notional > rules.max_notional:
        return [Violation(None, "above_max_notional",
                          f"price times quantity must be at most {rules.max_notional} "
                          f"{rules.quote_asset}")]
    return []


def check_order(rules: InstrumentRules, terms: OrderTerms, *, now: datetime) -> list[Violation]:
    """Every rule the order breaks (empty when it may be published)."""
    if not rules.trading:
        return [Violation("symbol", "symbol_halted", f"{rules.symbol} is halted")]
    violations = check_quantity(rules, terms.quantity)
    violations += _check_prices(rules, terms)
    violations += _check_time_in_force(terms, now)
    if terms.post_only and not (terms.type == OrderType.LIMIT
                                and terms.time_in_force == TimeInForce.GTC):
        violations.append(Violation("post_only", "post_only_not_allowed",
                                    "post_only is only for limit GTC orders"))
    if not violations and terms.price is not None:
        violations += check_notional(rules, terms.quantity, terms.price)
    return violations


def _check_prices(rules: InstrumentRules, terms: OrderTerms) -> list[Violation]:
    violations: list[Violation] = []
    if terms.type in LIMIT_TYPES:
        if terms.price is None:
            violations.append(Violation("price", "required",
                                        f"price is required for {terms.type} orders"))
        else:
            violations += check_price(rules, terms.price, "price")
    elif terms.price is not None:
        violations.append(Violation("price", "not_allowed",
                                    f"{terms.type} orders take no price"))
    if terms.type in STOP_TYPES:
        if terms.stop_price is None:
            violations.append(Violation("stop_price", "required",
                                        f"stop_price is required for {terms.type} orders"))
        else:
            violations += check_price(rules, terms.stop_price, "stop_price")
    elif terms.stop_price is not None:
        violations.append(Violation("stop_price", "not_allowed",
                                    f"{terms.type} orders take no stop_price"))
    return violations


def _check_time_in_force(terms: OrderTerms, now: datetime) -> list[Violation]:
    violations: list[Violation] = []
    if terms.type in MARKET_TYPES and terms.time_in_force not in MARKET_TIMES_IN_FORCE:
        violations.append(Violation("time_in_force", "not_allowed",
                                    f"{terms.type} orders are IOC or FOK"))
    if terms.time_in_force == TimeInForce.GTD:
        if terms.expires_at is None:
            violations.append(Violation("expires_at", "required",
                                        "expires_at is required for GTD orders"))
        elif terms.expires_at <= now:
            violations.append(Violation("expires_at", "not_in_future",
                                        "expires_at must be in the future"))
    elif terms.expires_at is not None:
        violations.append(Violation("expires_at", "not_allowed",
                                    "expires_at is only for GTD orders"))
    return violations
