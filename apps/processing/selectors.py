"""Public reads of the processing context."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, Sum

from apps.orders.selectors import InstrumentRules, all_instrument_rules
from apps.processing.models import LedgerAccount, SymbolState, WorkingOrder


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    available: Decimal
    reserved: Decimal

    @property
    def total(self) -> Decimal:
        return self.available + self.reserved


def balances_of(*, user_id: int) -> list[Balance]:
    return [
        Balance(asset=account.asset, available=account.available, reserved=account.reserved)
        for account in LedgerAccount.objects.filter(
            kind=LedgerAccount.Kind.USER, user_id=user_id
        ).order_by("asset")
    ]


@dataclass(frozen=True, slots=True)
class OpenExposure:
    """An account's working orders: how many in all, and the open quantity per side in
    one symbol."""

    orders: int
    buy_quantity: Decimal
    sell_quantity: Decimal


def open_exposure(*, user_id: int, symbol: str) -> OpenExposure:
    rows = WorkingOrder.objects.filter(user_id=user_id).values("symbol", "side").annotate(
        orders=Count("order_id"), open=Sum(F("quantity") - F("filled_quantity")))
    per_side = {row["side"]: row["open"] for row in rows if row["symbol"] == symbol}
    return OpenExposure(orders=sum(row["orders"] for row in rows),
                        buy_quantity=per_side.get("buy") or Decimal(0),
                        sell_quantity=per_side.get("sell") or Decimal(0))


def marks() -> dict[str, Decimal]:
    """Reference prices: each symbol's last trade as its processor last stored it."""
    return {state.symbol: state.last_trade_price
            for state in SymbolState.objects.exclude(last_trade_price=None)
            if state.last_trade_price is not None}


def best_prices(*, symbol: str) -> tuple[Decimal | None, Decimal | None]:
    """Best bid and ask of the stored book (resting limit orders)."""
    row = WorkingOrder.objects.filter(symbol=symbol, engine_type="limit").aggregate(
        bid=Max("price", filter=Q(side="buy")), ask=Min("price", filter=Q(side="sell")))
    return row["bid"], row["ask"]


def asset_prices(marks: dict[str, Decimal],
                 instruments: Iterable[InstrumentRules] | None = None) -> dict[str, Decimal]:
    """Each asset's price in the valuation asset (`OMS_VALUATION_ASSET`): 1 for itself,
    the mark of its instrument against it for the others that have one."""
    valuation = settings.OMS_VALUATION_ASSET
    prices = {valuation: Decimal(1)}
    for rules in all_instrument_rules() if instruments is None else instruments:
        if rules.quote_asset == valuation and rules.symbol in marks:
            prices[rules.base_asset] = marks[rules.symbol]
    return prices


def equity_at(balances: Iterable[tuple[str, Decimal]], prices: dict[str, Decimal]) -> Decimal:
    """What (asset, amount) balances are worth at `prices`, loans being negative amounts. A
    balance that cannot be priced counts zero; a loan that cannot be priced leaves no equity
    at all (a debt of unknown size)."""
    equity = Decimal(0)
    for asset, amount in balances:
        price = prices.get(asset)
        if price is None:
            if amount < 0:
                return Decimal(0)
            continue
        equity += amount * price
    return equity


def account_equity(*, user_id: int, marks: dict[str, Decimal]) -> Decimal:
    """What the account is worth in the valuation asset: every balance at its price, less
    its loans."""
    return equity_at(
        [(account.asset, account.available + account.reserved)
         for account in LedgerAccount.objects.filter(
             user_id=user_id, kind__in=[LedgerAccount.Kind.USER, LedgerAccount.Kind.LOAN])],
        asset_prices(marks))
