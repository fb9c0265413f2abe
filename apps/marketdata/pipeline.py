"""The work of the marketdata role, without its loop: apply what `prices` carries (the
internal book's snapshots and deltas, the venue's trades) and what the feeds know (the
reference price), then say which `price.tick` events are due and refresh the Redis copies.

Duplicates are dropped: book events by event id and sequence, trades by `trade_id` in
the database (so a batch consumed again after a database error records each once). A
delta that skips a sequence number leaves the book unusable until the next snapshot,
which the processor sends at least every 100 deltas.

With several replicas each writes only the symbols it claims (`ownership`): the command
passes the claims to `due_ticks` and `refresh_cache`, and `forget`s a symbol it lost."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.marketdata import selectors, services
from apps.marketdata.domain.book import L2Book, SequenceGap, parse_levels
from apps.marketdata.domain.candles import TradePrint
from apps.marketdata.domain.recent_ids import RecentIds
from apps.marketdata.events import PRICE_TICK
from apps.marketdata.feeds.base import Feed
from apps.marketdata.ownership import Claim
from apps.processing.events import BOOK_DELTA, BOOK_SNAPSHOT, TRADE
from oms.events import Event, new_event
from oms.money import format_amount

logger = logging.getLogger(__name__)

# The day's figures of a symbol without trades are read again this often (seconds).
DAY_SECONDS = 60.0


def _amount(value: Decimal | None) -> str | None:
    return format_amount(value) if value is not None else None


class MarketDataPipeline:
    def __init__(self, *, feeds: Mapping[str, Feed]) -> None:
        self.feeds = dict(feeds)
        self.books: dict[str, L2Book] = {}
        self.last_trade_prices: dict[str, Decimal] = {}
        self._seen = RecentIds()
        self._published: dict[str, dict[str, Any]] = {}
        # The day's figures each symbol's price copy carries (`selectors.DAY_FIELDS`), when
        # they were read, and the symbols with trades since.
        self._days: dict[str, dict[str, str | None]] = {}
        self._days_read_at: dict[str, float] = {}
        self._days_stale: set[str] = set()

    @property
    def symbols(self) -> list[str]:
        return sorted({*self.feeds, *self.books, *self.last_trade_prices})

    def apply(self, events: Iterable[Event]) -> list[TradePrint]:
        """Apply a batch of `prices` events; return the trades recorded for the first time."""
        trades: list[TradePrint] = []
        for event in events:
            payload = event.payload
            if event.type in (BOOK_SNAPSHOT, BOOK_DELTA):
                if self._seen.first_time(event.event_id):
                    self._apply_book(event.type, payload)
            elif event.type == TRADE:
                trades.append(TradePrint(
                    trade_id=str(payload["trade_id"]), symbol=str(payload["symbol"]),
                    price=Decimal(payload["price"]), quantity=Decimal(payload["quantity"]),
                    taker_side=str(payload["taker_side"]), traded_at=event.occurred_at))
        recorded = services.record_trades(trades=trades)
        for trade in recorded:
            self.last_trade_prices[trade.symbol] = trade.price
            self._days_stale.add(trade.symbol)
        return recorded

    def _apply_book(self, event_type: str, payload: Mapping[str, Any]) -> None:
        symbol = str(payload["symbol"])
        book = self.books.setdefault(symbol, L2Book(symbol))
        sequence = int(payload["sequence"])
        if book.sequence is not None and sequence <= book.sequence and event_type == BOOK_DELTA:
            return  # already applied (a batch consumed again)
        bids, asks = parse_levels(payload["bids"]), parse_levels(payload["asks"])
        if event_type == BOOK_SNAPSHOT:
            if book.sequence is None or sequence >= book.sequence:
                book.apply_snapshot(sequence=sequence, bids=bids, asks=asks)
            return
        try:
            book.apply_delta(sequence=sequence, bids=bids, asks=asks)
        except SequenceGap as gap:
            if book.synced:
                logger.warning("%s book: %s; waiting for the next snapshot", symbol, gap)
            book.invalidate()

    def tick_payload(self, symbol: str) -> dict[str, Any]:
        feed = self.feeds.get(symbol)
        quote = feed.quote() if feed is not None else None
        book = self.books.get(symbol)
        view = book.view(depth=1) if book is not None and book.synced else None
        return {
            "symbol": symbol,
            "reference_price": _amount(quote.reference_price if quote else None),
            "best_bid": _amount(view.best_bid if view else None),
            "best_ask": _amount(view.best_ask if view else None),
            "last_trade_price": _amount(self.last_trade_prices.get(symbol)),
            "source": feed.source if feed is not None else "simulator",
        }

    def forget(self, symbol: str) -> None:
        """This replica no longer owns the symbol: drop its feed, book and last tick, so a
        later claim starts from the next snapshot instead of a stale book."""
        self.feeds.pop(symbol, None)
        self.books.pop(symbol, None)
        self.last_trade_prices.pop(symbol, None)
        self._published.pop(symbol, None)
        self._days.pop(symbol, None)
        self._days_read_at.pop(symbol, None)

    def due_ticks(self, symbols: Collection[str] | None = None) -> list[Event]:
        """A `price.tick` for each symbol (of `symbols`, else of all it knows) whose prices
        changed since its last tick."""
        ticks = []
        for symbol in self.symbols:
            if symbols is not None and symbol not in symbols:
                continue
            payload = self.tick_payload(symbol)
            if payload != self._published.get(symbol):
                self._published[symbol] = payload
                ticks.append(new_event(PRICE_TICK, payload))
        return ticks

    def refresh_cache(self, claims: Mapping[str, Claim], *, now: datetime | None = None
                      ) -> set[str]:
        """Copy the synced books and the prices of the claimed symbols to Redis (the last
        tick with the day's figures, so the REST API reads `prices` in one round trip);
        return the symbols refused because another replica owns them now."""
        self._read_days([symbol for symbol in self.symbols if symbol in claims],
                        now=now or datetime.now(UTC))
        return services.cache_market(
            books=[book.view() for symbol, book in self.books.items()
                   if book.synced and symbol in claims],
            prices=[{**(self._published.get(symbol) or self.tick_payload(symbol)),
                     **self._days.get(symbol, {})}
                    for symbol in self.symbols if symbol in claims],
            claims=claims)

    def _read_days(self, symbols: list[str], *, now: datetime) -> None:
        """Read the day's figures of the symbols with trades since their last reading, or
        read longer ago than `DAY_SECONDS` (the 24 hours slide), in one go. A symbol without
        a trade seen yet takes the database's last trade price."""
        clock = time.monotonic()
        due = [symbol for symbol in symbols if symbol in self._days_stale
               or clock - self._days_read_at.get(symbol, -math.inf) > DAY_SECONDS]
        if not due:
            return
        for symbol, market in selectors.market_days(
                symbols=due, now=now, last_prices=self.last_trade_prices).items():
            if market.last_trade_price is not None:
                self.last_trade_prices.setdefault(symbol, market.last_trade_price)
            day = market.day
            self._days[symbol] = {
                "last_trade_price": _amount(market.last_trade_price),
                "change_24h": _amount(day.change),
                "change_percent_24h": (None if day.change_percent is None
                                       else str(day.change_percent)),
                "volume_24h": format_amount(day.volume),
                "high_24h": _amount(day.high),
                "low_24h": _amount(day.low),
            }
            self._days_read_at[symbol] = clock
            self._days_stale.discard(symbol)
