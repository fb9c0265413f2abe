"""The margin model, pure and exact.

A spot account (leverage 1) is fully funded: every order reserves what it could spend in
the ledger, and an order that needs more than is available is rejected. An account with
leverage L > 1 may borrow the shortfall from the venue, as long as its gross exposure
stays within its buying power:

    equity        = value of every balance at mark prices, minus what it owes
    buying power  = equity x min(L, 1 / initial margin of the instrument)
    gross after   = |positions| at marks + the symbol's working orders + this order

and it is flagged (`risk.breach`, check `maintenance_margin`) once its equity falls below

    maintenance   = sum over positions of |quantity| x mark x maintenance margin rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class MarginRate:
    """An instrument's margin rates, as fractions of notional (0.1 = 10 %)."""

    initial: Decimal
    maintenance: Decimal


@dataclass(frozen=True, slots=True)
class MarginTerms:
    """What the buying-power check of a leveraged account needs."""

    leverage: Decimal
    initial_margin: Decimal  # of the order's instrument
    equity: Decimal  # in the valuation asset, at marks


def effective_leverage(leverage: Decimal, initial_margin: Decimal) -> Decimal:
    """The account's leverage, capped by what the instrument's initial margin allows."""
    if initial_margin <= 0:
        return leverage
    return min(leverage, ONE / initial_margin)


def buying_power(terms: MarginTerms) -> Decimal:
    return max(terms.equity, ZERO) * effective_leverage(terms.leverage, terms.initial_margin)


def maintenance_requirement(positions: Mapping[str, Decimal], marks: Mapping[str, Decimal],
                            rates: Mapping[str, MarginRate]) -> Decimal:
    """Equity an account must keep for its positions; symbols without a mark count zero
    (they cannot be valued; the reference price arrives with the first trade)."""
    return sum((abs(quantity) * marks[symbol] * rates[symbol].maintenance
                for symbol, quantity in positions.items()
                if quantity and symbol in marks and symbol in rates), ZERO)
