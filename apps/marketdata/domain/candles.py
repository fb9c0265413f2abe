"""OHLCV candles built from trades. A candle covers [start, start + interval); trades fold
into the candle of their bucket, and a partial candle built from a batch merges into the
stored one (open kept, high/low widened, close and volume advanced)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal


class Interval(enum.StrEnum):
    ONE_MINUTE = "1m"
    FIVE_MINUTES = "5m"
    ONE_HOUR = "1h"

    @property
    def length(self) -> timedelta:
        return {"1m": timedelta(minutes=1), "5m": timedelta(minutes=5),
                "1h": timedelta(hours=1)}[self.value]


def bucket_start(moment: datetime, interval: Interval) -> datetime:
    """The start of the candle that `moment` falls in (UTC, aligned to the epoch)."""
    seconds = int(interval.length.total_seconds())
    epoch = int(moment.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


@dataclass(frozen=True, slots=True)
class TradePrint:
    """One trade as candles and recent-trade lists see it."""

    trade_id: str
    symbol: str
    price: Decimal
    quantity: Decimal
    taker_side: str
    traded_at: datetime


@dataclass(frozen=True, slots=True)
class Candle:
    symbol: str
    interval: Interval
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trade_count: int

    def merge(self, later: Candle) -> Candle:
        """This candle followed by `later`, a partial candle of the same bucket."""
        return replace(self, high=max(self.high, later.high), low=min(self.low, later.low),
                       close=later.close, volume=self.volume + later.volume,
                       trade_count=self.trade_count + later.trade_count)


def fold_trades(trades: Iterable[TradePrint],
                intervals: Iterable[Interval] = tuple(Interval)) -> list[Candle]:
    """Partial candles of `trades` (in the order given) for every interval and bucket."""
    candles: dict[tuple[str, Interval, datetime], Candle] = {}
    wanted = list(intervals)
    for trade in trades:
        for interval in wanted:
            start = bucket_start(trade.traded_at, interval)
            key = (trade.symbol, interval, start)
            single = Candle(symbol=trade.symbol, interval=interval, start=start,
                            open=trade.price, high=trade.price, low=trade.price,
                            close=trade.price, volume=trade.quantity, trade_count=1)
            current = candles.get(key)
            candles[key] = single if current is None else current.merge(single)
    return list(candles.values())
