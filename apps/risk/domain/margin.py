"""The margin model, pure and exact.

A spot account (leverage 1) is fully funded: every order reserves what it could spend in
the ledger, and an order that needs more than is available is rejected. An account with
leverage L > 1 may borrow the shortfall from the venue, as long as its gross exposure over
every symbol stays within its buying power:

    equity        = value of every balance at mark prices, minus what it owes
    buying power  = equity x L
    gross after   = sum over symbols of (|position| at the mark + working orders at their
                    prices) + this order, each symbol weighted by max(1, L x its initial
                    margin), so an instrument whose initial margin allows less than L
                    uses more of the buying power (0.5 allows 2x there)

and it is flagged (`risk.breach`, check `maintenance_margin`) once its equity falls below

    maintenance   = sum over positions of |quantity| x mark x maintenance margin rate.

The comparison is made without division (weighted gross <= equity x L), so it is exact at
the limit.
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
    initial_margins: Mapping[str, Decimal]  # by symbol; a symbol without one: L alone
    equity: Decimal  # in the valuation asset, at marks


def buying_power(terms: MarginTerms) -> Decimal:
    return max(terms.equity, ZERO) * terms.leverage


def weighted_gross(notionals: Mapping[str, Decimal], terms: MarginTerms) -> Decimal:
    """Gross exposure (by symbol) with each symbol weighted by how far its initial margin
    caps the account's leverage: max(1, L x initial margin)."""
    return sum((notional * max(ONE, terms.leverage * terms.initial_margins.get(symbol, ZERO))
                for symbol, notional in notionals.items()), ZERO)


def maintenance_requirement(positions: Mapping[str, Decimal], marks: Mapping[str, Decimal],
                            rates: Mapping[str, MarginRate]) -> Decimal:
    """Equity an account must keep for its positions; symbols without a mark count zero
    (they cannot be valued; the reference price arrives with the first trade)."""
    return sum((abs(quantity) * marks[symbol] * rates[symbol].maintenance
                for symbol, quantity in positions.items()
                if quantity and symbol in marks and symbol in rates), ZERO)
