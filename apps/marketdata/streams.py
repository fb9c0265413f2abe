"""The public streams of the marketdata context, served by the kernel's hub
(`oms.streams.hub`): `md.{symbol}.{channel}` for `ticker` (from `prices`), `trades` and
`book` (from `executions`) of a symbol.

`BOOKS` also keeps each subscribed symbol's book per hub (the marketdata cache's snapshot,
brought up to date from the window and then by every book message), so a subscriber
that is behind gets the latest state in one snapshot."""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

from apps.marketdata import selectors
from apps.marketdata.domain.book import L2Book, parse_levels
from apps.marketdata.domain.conflation import BOOK, DELTA, SNAPSHOT, TICKER, TRADES
from apps.marketdata.events import PRICE_TICK
from apps.processing import events as executions
from oms.events import Event
from oms.kafka.topics import EXECUTIONS, PRICES
from oms.streams.hub import Route, StreamHub, StreamMessage, StreamSource
from oms.streams.window import Offer

PREFIX = "md."
_MARKET = {PRICE_TICK: (TICKER, TICKER), executions.TRADE: (TRADES, TRADES),
           executions.BOOK_SNAPSHOT: (BOOK, SNAPSHOT), executions.BOOK_DELTA: (BOOK, DELTA)}


def market_stream(symbol: str, channel: str) -> str:
    return f"{PREFIX}{symbol}.{channel}"


def route(event: Event) -> Route | None:
    """The stream of a market event and its message body; None for other events."""
    if event.type not in _MARKET:
        return None
    payload = dict(event.payload)
    channel, kind = _MARKET[event.type]
    symbol = str(payload["symbol"])
    if channel == BOOK:
        body: dict[str, Any] = {"type": kind, "channel": BOOK, **payload}
        seq: int | None = int(payload["sequence"])
    else:
        body, seq = {"type": "trade" if channel == TRADES else TICKER, **payload}, None
    return Route(Offer(market_stream(symbol, channel), event.event_id,
                       json.dumps(body, separators=(",", ":")), seq),
                 channel, symbol, kind, payload)


def decode(stream: str, seq: int, text: str) -> StreamMessage:
    """A market message read back from the window."""
    body = json.loads(text)
    _, symbol, channel = stream.rsplit(".", 2)
    kind = body["type"] if channel == BOOK else channel
    return StreamMessage(stream, channel, symbol, kind, seq, text, body)


SOURCE = StreamSource(name="marketdata", prefix=PREFIX, topics=(PRICES, EXECUTIONS),
                      route=route, decode=decode)


class Books:
    """The books of one hub's subscribed symbols, kept up to date as a listener of each
    symbol's book stream."""

    def __init__(self, hub: StreamHub) -> None:
        self.hub = hub
        self.books: dict[str, L2Book] = {}

    def on_message(self, message: StreamMessage) -> None:
        book = self.books.get(message.symbol)
        if book is None:
            return  # nobody asked for this book yet
        payload = message.payload
        bids, asks = parse_levels(payload["bids"]), parse_levels(payload["asks"])
        if message.kind == SNAPSHOT and (book.sequence or 0) < message.seq:
            book.apply_snapshot(sequence=message.seq, bids=bids, asks=asks)
        elif book.synced and message.seq == (book.sequence or 0) + 1:
            book.apply_delta(sequence=message.seq, bids=bids, asks=asks)
        # Otherwise the book is behind: `book()` brings it up from the window when asked.

    async def book(self, symbol: str) -> L2Book | None:
        """The symbol's book as of the last book message handed out, or None when the
        marketdata role has no snapshot of it that the window can bring up to date."""
        stream = market_stream(symbol, BOOK)
        if symbol not in self.books:
            self.hub.listen(stream, self)
        book = self.books.setdefault(symbol, L2Book(symbol))
        for _attempt in range(2):  # a cache older than the window is read once more
            if not book.synced:
                view = await asyncio.to_thread(selectors.order_book, symbol=symbol)
                if view is None or view.sequence is None:
                    return None
                if (book.sequence or 0) < view.sequence:
                    book.apply_snapshot(sequence=view.sequence, bids=view.bids,
                                        asks=view.asks)
            while (book.sequence or 0) < self.hub.latest.get(stream, 0):
                missed = await self.hub.since(stream, book.sequence or 0)
                if missed is None:
                    book.invalidate()
                    break
                for message in missed:
                    self.on_message(message)
            else:
                return book
        return None


_books: weakref.WeakKeyDictionary[StreamHub, Books] = weakref.WeakKeyDictionary()


def books_of(hub: StreamHub) -> Books:
    """The books kept for `hub`."""
    if hub not in _books:
        _books[hub] = Books(hub)
    return _books[hub]
