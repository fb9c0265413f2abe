"""Public reads of the marketdata context, as plain frozen data: the live internal book and
prices (from Redis, written by the marketdata role), recent trades and candles (from
PostgreSQL), and a day's change and volume. Risk reads `reference_price` from here."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max, Min, Sum

from apps.marketdata.cache import book_key, price_key
from apps.marketdata.domain.book import BookView
from apps.marketdata.domain.candles import Candle, Interval, TradePrint
from apps.marketdata.models import Candle as CandleRow
from apps.marketdata.models import MarketTrade
from oms.redis import redis_client

__all__ = [
    "BookView",
    "Candle",
    "DaySummary",
    "Interval",
    "TradePrint",
    "candles",
    "day_summary",
    "last_trade",
    "order_book",
    "price_tick",
    "recent_trades",
    "reference_price",
    "reference_prices",
]


@dataclass(frozen=True, slots=True)
class DaySummary:
    """The last 24 hours, from hourly candles: the first open, the change since, the
    highest and lowest trade, volume."""

    open_price: Decimal | None
    change: Decimal | None
    change_percent: Decimal | None
    volume: Decimal
    high: Decimal | None = None
    low: Decimal | None = None


def order_book(*, symbol: str, depth: int | None = None) -> BookView | None:
    """The internal book as the marketdata role last cached it, or None if it is not
    cached (the role is not running, or has not seen a snapshot yet)."""
    raw = redis_client().get(book_key(symbol))
    if raw is None:
        return None
    view = BookView.from_wire(json.loads(raw))
    if depth is None:
        return view
    return BookView(symbol=view.symbol, sequence=view.sequence, bids=view.bids[:depth],
                    asks=view.asks[:depth])


def price_tick(*, symbol: str) -> dict[str, Any] | None:
    """The last `price.tick` payload of the symbol (amounts as strings), if cached."""
    raw = redis_client().get(price_key(symbol))
    return json.loads(raw) if raw is not None else None


def reference_price(*, symbol: str) -> Decimal | None:
    tick = price_tick(symbol=symbol)
    value = tick.get("reference_price") if tick else None
    return Decimal(value) if value is not None else None


def reference_prices(*, symbols: Collection[str]) -> dict[str, Decimal]:
    """The feeds' reference prices of these symbols in one Redis round trip; a symbol
    without a cached tick is left out."""
    wanted = sorted(symbols)
    if not wanted:
        return {}
    raw = redis_client().mget([price_key(symbol) for symbol in wanted])
    prices: dict[str, Decimal] = {}
    for symbol, tick in zip(wanted, raw, strict=True):
        value = json.loads(tick).get("reference_price") if tick is not None else None
        if value is not None:
            prices[symbol] = Decimal(value)
    return prices


def _trade(row: MarketTrade) -> TradePrint:
    return TradePrint(trade_id=str(row.trade_id), symbol=row.symbol, price=row.price,
                      quantity=row.quantity, taker_side=row.taker_side, traded_at=row.traded_at)


def recent_trades(*, symbol: str, limit: int = 100) -> list[TradePrint]:
    rows = MarketTrade.objects.filter(symbol=symbol).order_by("-traded_at", "-trade_id")
    return [_trade(row) for row in rows[:limit]]


def last_trade(*, symbol: str) -> TradePrint | None:
    trades = recent_trades(symbol=symbol, limit=1)
    return trades[0] if trades else None


def candles(*, symbol: str, interval: Interval, limit: int = 500,
            since: datetime | None = None) -> list[Candle]:
    """Candles oldest first: the latest `limit`, or those starting at `since` or later."""
    rows = CandleRow.objects.filter(symbol=symbol, interval=interval.value)
    if since is not None:
        rows = rows.filter(start__gte=since)
    latest = list(rows.order_by("-start")[:limit])
    return [Candle(symbol=row.symbol, interval=interval, start=row.start, open=row.open,
                   high=row.high, low=row.low, close=row.close, volume=row.volume,
                   trade_count=row.trade_count) for row in reversed(latest)]


def day_summary(*, symbol: str, now: datetime, last_price: Decimal | None) -> DaySummary:
    hourly = CandleRow.objects.filter(symbol=symbol, interval=Interval.ONE_HOUR.value,
                                      start__gt=now - timedelta(hours=24))
    first = hourly.order_by("start").first()
    totals = hourly.aggregate(volume=Sum("volume"), high=Max("high"), low=Min("low"))
    volume = totals["volume"] or Decimal(0)
    if first is None or last_price is None:
        return DaySummary(open_price=None, change=None, change_percent=None, volume=volume,
                          high=totals["high"], low=totals["low"])
    change = last_price - first.open
    return DaySummary(open_price=first.open, change=change,
                      change_percent=(change * 100 / first.open).quantize(Decimal("0.01")),
                      volume=volume, high=totals["high"], low=totals["low"])
