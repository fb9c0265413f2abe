"""Public reads of the processing context: balances, working orders and the exposure of
accounts as risk needs it, the venue's last trades, and equity from the ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db.models import Max, Min, Q

from apps.processing.models import LedgerAccount, WorkingOrder
from apps.risk.selectors import asset_prices
from apps.risk.services import AccountExposure, WorkingOrders
from oms.db import Read, Rows
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


def working_orders_read(*, user_ids: Collection[int], excluding: Collection[str] = ()
                        ) -> Read[dict[int, dict[str, WorkingOrders]]]:
    """Each account's working orders per symbol (count, open quantity and notional at
    their prices, per side), in one query; the processor leaves out the symbols whose
    books it holds in memory (`excluding`).

    Its cost is the symbols the users work in, not their orders in the excluded ones: a
    market maker's thousands of orders in the books a processor holds were read only to
    be dropped, on every batch it took part in. So the `(user_id, symbol)` index is
    walked from one distinct symbol to the next (one probe each), and only the kept
    symbols' orders are summed, each pair's by its own range of the index (a lateral
    subquery, run once per pair rather than as one pass over the table)."""
    return Read.one(_WORKING_ORDERS, [sorted(set(user_ids)), list(excluding)],
                    _working_orders)


# `pairs`: the distinct (user, symbol) pairs of the users' working orders, by a skip scan
# of the index (each step asks it for the next symbol after the one before); then each
# kept pair's orders summed per side.
_WORKING_ORDERS = """
    WITH RECURSIVE pairs (user_id, symbol) AS (
        SELECT u.user_id, (SELECT min(w.symbol) FROM processing_workingorder AS w
                           WHERE w.user_id = u.user_id)
        FROM unnest(%s::bigint[]) AS u (user_id)
      UNION ALL
        SELECT p.user_id, (SELECT min(w.symbol) FROM processing_workingorder AS w
                           WHERE w.user_id = p.user_id AND w.symbol > p.symbol)
        FROM pairs AS p WHERE p.symbol IS NOT NULL
    )
    SELECT p.user_id, p.symbol, s.side, s.orders, s.open_quantity, s.notional
    FROM pairs AS p CROSS JOIN LATERAL (
        SELECT w.side, count(*) AS orders,
               sum(w.quantity - w.filled_quantity) AS open_quantity,
               sum((w.quantity - w.filled_quantity) * w.price) AS notional
        FROM processing_workingorder AS w
        WHERE w.user_id = p.user_id AND w.symbol = p.symbol GROUP BY w.side) AS s
    WHERE p.symbol IS NOT NULL AND NOT (p.symbol = ANY(%s))"""


def _working_orders(rows: Rows) -> dict[int, dict[str, WorkingOrders]]:
    working: dict[int, dict[str, WorkingOrders]] = defaultdict(dict)
    for user_id, symbol, side, orders, open_quantity, notional in rows:
        current = working[user_id].get(symbol, WorkingOrders())
        # The sums are NULL where no order has a price (stop orders).
        open_quantity, notional = open_quantity or Decimal(0), notional or Decimal(0)
        if side == Side.BUY:  # a row's text: equal to the member
            current = replace(current, buy_quantity=open_quantity, buy_notional=notional)
        else:
            current = replace(current, sell_quantity=open_quantity, sell_notional=notional)
        working[user_id][symbol] = replace(current, orders=current.orders + orders)
    return working


def working_orders_of(*, user_ids: Collection[int], excluding: Collection[str] = ()
                      ) -> dict[int, dict[str, WorkingOrders]]:
    return working_orders_read(user_ids=user_ids, excluding=excluding).run()


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


def marks_read() -> Read[dict[str, Decimal]]:
    """Reference prices: each symbol's last trade as its processor last stored it."""
    return Read.one("SELECT symbol, last_trade_price FROM processing_symbolstate "
                    "WHERE last_trade_price IS NOT NULL", [], dict)


def marks() -> dict[str, Decimal]:
    return marks_read().run()


def self_trade_prevention_read(*, user_ids: Collection[int]) -> Read[dict[int, str]]:
    """The accounts' self-trade prevention modes (accounts that never set one are absent)."""
    return Read.one("SELECT user_id, self_trade_prevention FROM processing_accountsettings "
                    "WHERE user_id = ANY(%s)", [sorted(set(user_ids))], dict)


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
