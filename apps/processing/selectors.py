"""Public reads of the processing context: balances, working orders and the exposure of
accounts as risk needs it, the venue's last trades, and equity from the ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Min, Q, Sum

from apps.processing.models import LedgerAccount, SymbolState, WorkingOrder
from apps.risk.selectors import asset_prices
from apps.risk.services import AccountExposure, WorkingOrders
from oms.terms import OrderType, Side


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


_OPEN = F("quantity") - F("filled_quantity")


def working_orders_of(*, user_ids: Collection[int], excluding: Collection[str] = ()
                      ) -> dict[int, dict[str, WorkingOrders]]:
    """Each account's working orders per symbol (count, open quantity and notional at
    their prices, per side), in one query; the processor leaves out the symbols whose
    books it holds in memory (`excluding`)."""
    working: dict[int, dict[str, WorkingOrders]] = defaultdict(dict)
    for row in WorkingOrder.objects.filter(user_id__in=set(user_ids)).exclude(
            symbol__in=list(excluding)).order_by().values("user_id", "symbol", "side").annotate(
            orders=Count("order_id"), open=Sum(_OPEN),
            notional=Sum(ExpressionWrapper(_OPEN * F("price"), output_field=DecimalField()))):
        open_quantity, notional = row["open"] or Decimal(0), row["notional"] or Decimal(0)
        current = working[row["user_id"]].get(row["symbol"], WorkingOrders())
        if row["side"] == Side.BUY:  # a row's text: equal to the member
            current = replace(current, buy_quantity=open_quantity, buy_notional=notional)
        else:
            current = replace(current, sell_quantity=open_quantity, sell_notional=notional)
        working[row["user_id"]][row["symbol"]] = replace(
            current, orders=current.orders + row["orders"])
    return working


def account_exposures(*, user_ids: Collection[int]) -> dict[int, AccountExposure]:
    """What each of these accounts has at stake, for risk's buying power: its working
    orders of every symbol, its balances (available plus reserved) and its loans. Two
    queries, however many accounts. Every account asked about is in the answer."""
    ids = set(user_ids)
    working = working_orders_of(user_ids=ids)
    holdings: dict[int, dict[str, Decimal]] = defaultdict(dict)
    loans: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for user_id, kind, asset, available, reserved in LedgerAccount.objects.filter(
            user_id__in=ids, kind__in=[LedgerAccount.Kind.USER, LedgerAccount.Kind.LOAN]
    ).values_list("user_id", "kind", "asset", "available", "reserved"):
        amount = available + reserved
        if not amount:
            continue
        if kind == LedgerAccount.Kind.LOAN:
            loans[user_id][asset] = -amount  # a loan account is never positive
        else:
            holdings[user_id][asset] = amount
    return {user_id: AccountExposure(user_id=user_id, working=working.get(user_id, {}),
                                     holdings=holdings[user_id], loans=loans[user_id])
            for user_id in ids}


def marks() -> dict[str, Decimal]:
    """Reference prices: each symbol's last trade as its processor last stored it."""
    return {state.symbol: state.last_trade_price
            for state in SymbolState.objects.exclude(last_trade_price=None)
            if state.last_trade_price is not None}


def best_prices(*, symbol: str) -> tuple[Decimal | None, Decimal | None]:
    """Best bid and ask of the stored book (resting limit orders)."""
    row = WorkingOrder.objects.filter(symbol=symbol, engine_type=OrderType.LIMIT).aggregate(
        bid=Max("price", filter=Q(side=Side.BUY)), ask=Min("price", filter=Q(side=Side.SELL)))
    return row["bid"], row["ask"]


def account_equities(*, user_ids: Collection[int],
                     marks: dict[str, Decimal]) -> dict[int, Decimal]:
    """What each account is worth in the valuation asset at `marks` (see
    `AccountExposure.equity`): every balance at its price, less its loans."""
    prices = asset_prices(marks)
    return {user_id: exposure.equity(prices)
            for user_id, exposure in account_exposures(user_ids=user_ids).items()}
