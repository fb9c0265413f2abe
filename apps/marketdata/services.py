"""Public writes of the marketdata context: record the venue's trades (once per
`trade_id`) with their candles, and refresh the Redis copies of books and prices (fenced:
only the replica that owns a symbol writes them, see `ownership`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.marketdata.cache import book_key, epoch_key, price_key
from apps.marketdata.domain.book import BookView
from apps.marketdata.domain.candles import Candle, Interval, TradePrint, fold_trades
from apps.marketdata.models import Candle as CandleRow
from apps.marketdata.models import MarketTrade
from apps.marketdata.ownership import Claim
from oms.redis import lua_script, redis_client


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


# Writes a symbol's book (when given) and price only while the epoch it is written under is
# still the symbol's current fencing token, so a replica that lost the symbol cannot.
_FENCED_WRITE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4]) end
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
return 1
"""


def cache_market(*, books: Iterable[BookView], prices: Iterable[Mapping[str, Any]],
                 claims: Mapping[str, Claim]) -> set[str]:
    """Write the current books and prices of the claimed symbols to Redis
    (`orderbook:{symbol}`, `price:{symbol}`, with the short TTL of `MARKETDATA_CACHE_TTL_MS`),
    each symbol only if its claim's epoch is still current (one round trip). The price
    copy names its `writer` (replica and epoch). Returns the symbols refused: another
    replica owns them now."""
    ttl = settings.MARKETDATA_CACHE_TTL_MS
    by_symbol = {book.symbol: book for book in books}
    pipe = redis_client().pipeline(transaction=False)
    written: list[str] = []
    for price in prices:
        claim = claims.get(str(price["symbol"]))
        if claim is None:
            continue
        book = by_symbol.get(claim.symbol)
        cached = {**price, "writer": {"replica": claim.replica, "epoch": claim.epoch}}
        lua_script(_FENCED_WRITE)(
            keys=[epoch_key(claim.symbol), book_key(claim.symbol), price_key(claim.symbol)],
            args=[claim.epoch, json.dumps(book.to_wire()) if book is not None else "",
                  json.dumps(cached), ttl],
            client=pipe)
        written.append(claim.symbol)
    if not written:
        return set()
    return {symbol for symbol, done in zip(written, pipe.execute(), strict=True) if not done}
