"""What an account has at stake across every symbol, as one plain value, so the buying
power of a leveraged account counts the working orders of all its symbols and its loans,
not those of the order's symbol alone.

`AccountExposure` is computed for a set of accounts at once (the processing context owns
working orders and the ledger: `apps.processing.selectors.account_exposures`), so a batch
of orders costs a fixed number of queries; the caller may keep it current between orders.
Positions stay with risk, which adds them to the decision's context itself. An amend is
decided as the same order on its new terms: `for_amend` releases what the order holds
now (its reservation and its working exposure) before the new terms are checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from oms.terms import Side

if TYPE_CHECKING:
    from apps.risk.domain.checks import PreTradeContext

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class WorkingOrders:
    """An account's working orders in one symbol: how many, and per side the open
    quantity and its notional at the orders' own prices."""

    orders: int = 0
    buy_quantity: Decimal = ZERO
    sell_quantity: Decimal = ZERO
    buy_notional: Decimal = ZERO
    sell_notional: Decimal = ZERO

    @property
    def notional(self) -> Decimal:
        return self.buy_notional + self.sell_notional

    def without(self, *, side: Side, quantity: Decimal, notional: Decimal) -> WorkingOrders:
        if side == Side.BUY:
            return replace(self, orders=self.orders - 1,
                           buy_quantity=self.buy_quantity - quantity,
                           buy_notional=self.buy_notional - notional)
        return replace(self, orders=self.orders - 1,
                       sell_quantity=self.sell_quantity - quantity,
                       sell_notional=self.sell_notional - notional)


NO_WORKING_ORDERS = WorkingOrders()


@dataclass(frozen=True, slots=True)
class AccountExposure:
    """An account's working orders in every symbol, its balances (available plus
    reserved, by asset) and what it owes (loans, by asset, positive)."""

    user_id: int
    working: Mapping[str, WorkingOrders] = field(default_factory=dict)
    holdings: Mapping[str, Decimal] = field(default_factory=dict)
    loans: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def open_orders(self) -> int:
        return sum(orders.orders for orders in self.working.values())

    def working_in(self, symbol: str) -> WorkingOrders:
        return self.working.get(symbol, NO_WORKING_ORDERS)

    def without_order(self, *, symbol: str, side: Side, quantity: Decimal,
                      notional: Decimal) -> AccountExposure:
        """The exposure once one working order of `symbol` (its open quantity and
        notional) is gone."""
        working = dict(self.working)
        working[symbol] = self.working_in(symbol).without(side=side, quantity=quantity,
                                                          notional=notional)
        return replace(self, working=working)

    def equity(self, prices: Mapping[str, Decimal]) -> Decimal:
        """Worth in the valuation asset, at `prices` (by asset): every balance at its
        price, less the loans. A balance that cannot be priced counts zero; a loan that
        cannot be priced leaves no equity (a debt of unknown size)."""
        if any(owed and asset not in prices for asset, owed in self.loans.items()):
            return ZERO
        held = sum((amount * prices[asset] for asset, amount in self.holdings.items()
                    if asset in prices), ZERO)
        owed = sum((amount * prices[asset] for asset, amount in self.loans.items()), ZERO)
        return held - owed


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """The order an amend changes, as it stands: its side, open quantity and notional
    (open quantity x its price), what it holds in reserve (in the asset its new terms
    need) and what of it has filled."""

    side: Side
    quantity: Decimal
    notional: Decimal
    reserved: Decimal
    filled_quantity: Decimal = ZERO


def for_amend(context: PreTradeContext, account: AccountExposure,
              order: RestingOrder) -> tuple[PreTradeContext, AccountExposure]:
    """The context and exposure an amend is decided on: the order's new terms in
    `context` (quantity = what is left to trade, required amount = its whole new
    reservation), with what the order holds now released: its reservation becomes
    available and its working exposure leaves the account."""
    released = account.without_order(symbol=context.symbol, side=order.side,
                                      quantity=order.quantity, notional=order.notional)
    return replace(context, available_amount=context.available_amount + order.reserved,
                   filled_quantity=order.filled_quantity), released
