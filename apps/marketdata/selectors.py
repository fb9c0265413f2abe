"""Public reads of the marketdata context, as plain frozen data: the live internal book and
prices (from Redis, written by the marketdata role), recent trades and candles (from
PostgreSQL), and a day's change and volume. Risk reads `reference_price` from here."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
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
    "MarketDay",
    "TradePrint",
    "candles",
    "day_summary",
    "last_trade",
    "market_days",
    "order_book",
    "order_book_levels",
    "price_tick",
    "recent_trades",
    "reference_price",
    "reference_prices",
    "reference_prices_read",
]


# What the marketdata role adds to its cached price copy, so `prices` needs nothing else.
DAY_FIELDS = ("last_trade_price", "change_24h", "change_percent_24h", "volume_24h",
              "high_24h", "low_24h")


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


def order_book_levels(*, symbol: str, depth: int) -> dict[str, Any] | None:
    """The cached book in its wire shape (`symbol`, `sequence`, `bids` and `asks` as
    `[["price", "qty"], ...]`, the API's own), cut to `depth` levels a side: one Redis
    read and no amount parsed, for the REST API. None if it is not cached."""
    raw = redis_client().get(book_key(symbol))
    if raw is None:
        return None
    wire: dict[str, Any] = json.loads(raw)
    wire["bids"], wire["asks"] = wire["bids"][:depth], wire["asks"][:depth]
    return wire


def price_tick(*, symbol: str) -> dict[str, Any] | None:
    """The last `price.tick` payload of the symbol (amounts as strings), if cached; the
    marketdata role's copy adds the day's figures (`DAY_FIELDS`, see `market_days`)."""
    raw = redis_client().get(price_key(symbol))
    return json.loads(raw) if raw is not None else None


def reference_price(*, symbol: str) -> Decimal | None:
    tick = price_tick(symbol=symbol)
    value = tick.get("reference_price") if tick else None
    return Decimal(value) if value is not None else None


def reference_prices(*, symbols: Collection[str]) -> dict[str, Decimal]:
    """The feeds' reference prices of these symbols in one Redis round trip; a symbol
    without a cached tick is left out."""
    keys, parse = reference_prices_read(symbols=symbols)
    return parse(redis_client().mget(keys)) if keys else {}


def reference_prices_read(*, symbols: Collection[str]
                          ) -> tuple[list[str], Callable[[list[Any]], dict[str, Decimal]]]:
    """The keys to `MGET` for these symbols' reference prices, and how the answer becomes
    them: for a caller that sends the `MGET` with its own commands, in one round trip."""
    wanted = sorted(symbols)

    def parse(raw: list[Any]) -> dict[str, Decimal]:
        prices: dict[str, Decimal] = {}
        for symbol, tick in zip(wanted, raw, strict=True):
            value = json.loads(tick).get("reference_price") if tick is not None else None
            if value is not None:
                prices[symbol] = Decimal(value)
        return prices

    return [price_key(symbol) for symbol in wanted], parse


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
    return _day(first.open if first is not None else None, totals["volume"] or Decimal(0),
                last_price, high=totals["high"], low=totals["low"])


def _day(open_price: Decimal | None, volume: Decimal, last_price: Decimal | None, *,
         high: Decimal | None, low: Decimal | None) -> DaySummary:
    if open_price is None or last_price is None:
        return DaySummary(open_price=None, change=None, change_percent=None, volume=volume,
                          high=high, low=low)
    change = last_price - open_price
    return DaySummary(open_price=open_price, change=change,
                      change_percent=(change * 100 / open_price).quantize(Decimal("0.01")),
                      volume=volume, high=high, low=low)


@dataclass(frozen=True, slots=True)
class MarketDay:
    """A symbol's last trade price and its last 24 hours, as `prices` shows them."""

    last_trade_price: Decimal | None
    day: DaySummary


def market_days(*, symbols: Collection[str], now: datetime,
                last_prices: Mapping[str, Decimal]) -> dict[str, MarketDay]:
    """`MarketDay` of each symbol in two queries (the last trades, the day's hourly
    candles), whatever their number: for the marketdata role, which caches them with the
    prices so the REST API reads them from Redis. A price in `last_prices` (the role's own,
    newer than what it has written) wins over the database's."""
    wanted = sorted(symbols)
    if not wanted:
        return {}
    recorded = dict(MarketTrade.objects.filter(symbol__in=wanted)
                    .order_by("symbol", "-traded_at", "-trade_id").distinct("symbol")
                    .values_list("symbol", "price"))
    opens: dict[str, tuple[datetime, Decimal]] = {}
    volumes: dict[str, Decimal] = {}
    highs: dict[str, Decimal] = {}
    lows: dict[str, Decimal] = {}
    for symbol, start, open_price, high, low, volume in CandleRow.objects.filter(
            symbol__in=wanted, interval=Interval.ONE_HOUR.value,
            start__gt=now - timedelta(hours=24)).values_list("symbol", "start", "open",
                                                             "high", "low", "volume"):
        if symbol not in opens or start < opens[symbol][0]:
            opens[symbol] = (start, open_price)
        volumes[symbol] = volumes.get(symbol, Decimal(0)) + volume
        highs[symbol] = max(high, highs.get(symbol, high))
        lows[symbol] = min(low, lows.get(symbol, low))
    days = {}
    for symbol in wanted:
        last = last_prices.get(symbol, recorded.get(symbol))
        first = opens.get(symbol)
        days[symbol] = MarketDay(last_trade_price=last, day=_day(
            first[1] if first else None, volumes.get(symbol, Decimal(0)), last,
            high=highs.get(symbol), low=lows.get(symbol)))
    return days
