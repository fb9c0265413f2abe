"""Public writes of the marketdata context: record the venue's trades (once per
`trade_id`) with their candles, and refresh the Redis copies of books and prices."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.marketdata.cache import book_key, price_key
from apps.marketdata.domain.book import BookView
from apps.marketdata.domain.candles import Candle, Interval, TradePrint, fold_trades
from apps.marketdata.models import Candle as CandleRow
from apps.marketdata.models import MarketTrade
from oms.redis import redis_client


def record_trades(*, trades: Sequence[TradePrint]) -> list[TradePrint]:
    """Store the trades not seen before and fold them into their 1m, 5m and 1h candles, in
    one transaction; return the new ones. A trade seen before changes nothing."""
    if not trades:
        return []
    with transaction.atomic():
        known = {str(trade_id) for trade_id in MarketTrade.objects.filter(
            trade_id__in=[trade.trade_id for trade in trades]).values_list("trade_id", flat=True)}
        new: list[TradePrint] = []
        for trade in trades:
            if trade.trade_id not in known:
                known.add(trade.trade_id)
                new.append(trade)
        MarketTrade.objects.bulk_create([
            MarketTrade(trade_id=trade.trade_id, symbol=trade.symbol, price=trade.price,
                        quantity=trade.quantity, taker_side=trade.taker_side,
                        traded_at=trade.traded_at)
            for trade in new])
        for partial in fold_trades(new):
            _merge_candle(partial)
    return new


def _merge_candle(partial: Candle) -> None:
    row = (CandleRow.objects.select_for_update()
           .filter(symbol=partial.symbol, interval=partial.interval.value, start=partial.start)
           .first())
    if row is None:
        CandleRow.objects.create(
            symbol=partial.symbol, interval=partial.interval.value, start=partial.start,
            open=partial.open, high=partial.high, low=partial.low, close=partial.close,
            volume=partial.volume, trade_count=partial.trade_count)
        return
    merged = Candle(symbol=row.symbol, interval=Interval(row.interval), start=row.start,
                    open=row.open, high=row.high, low=row.low, close=row.close,
                    volume=row.volume, trade_count=row.trade_count).merge(partial)
    row.high, row.low, row.close = merged.high, merged.low, merged.close
    row.volume, row.trade_count = merged.volume, merged.trade_count
    row.save(update_fields=["high", "low", "close", "volume", "trade_count"])


def cache_market(*, books: Iterable[BookView], prices: Iterable[Mapping[str, Any]]) -> None:
    """Write the current books and prices to Redis (`orderbook:{symbol}`, `price:{symbol}`)
    with the short TTL of `MARKETDATA_CACHE_TTL_MS`."""
    ttl = settings.MARKETDATA_CACHE_TTL_MS
    pipe = redis_client().pipeline(transaction=False)
    for book in books:
        pipe.set(book_key(book.symbol), json.dumps(book.to_wire()), px=ttl)
    for price in prices:
        pipe.set(price_key(str(price["symbol"])), json.dumps(dict(price)), px=ttl)
    pipe.execute()
