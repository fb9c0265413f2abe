"""`/ws/market-data`, the public live stream (a `oms.streams.connection.StreamConsumer`).

A client sends `{"action": "subscribe" | "unsubscribe", "symbol": "BTC-USDT", "channel":
"ticker" | "trades" | "book"}`, optionally with `"since": <seq>` to resume. The protocol
is in the README ("Live streams") and `docs/asyncapi.yaml`.

A book starts with a `snapshot`; a `snapshot` replaces the book, and one may come instead
of deltas a slow reader could not take (latest state wins, `domain/conflation.py`)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from apps.marketdata.domain.book import wire_levels
from apps.marketdata.domain.conflation import (
    BOOK,
    DELTA,
    DROPPED,
    RESNAPSHOT,
    SNAPSHOT,
    TICKER,
    TRADES,
    OutboundQueue,
    StreamItem,
)
from apps.marketdata.streams import books_of, market_stream
from apps.orders.selectors import current_instrument_rules
from oms.streams.connection import (
    SLOW_READER,
    StreamConsumer,
    Subscription,
    as_json,
    since_of,
)
from oms.streams.hub import StreamMessage

CHANNELS = (TICKER, TRADES, BOOK)


@database_sync_to_async
def _symbol_exists(symbol: str) -> bool:
    return current_instrument_rules(symbol=symbol) is not None


class MarketDataConsumer(StreamConsumer):
    def make_queue(self) -> OutboundQueue:
        return OutboundQueue(settings.MARKETDATA_WS_QUEUE_SIZE)

    def supersedes(self, message: StreamMessage) -> bool:
        """A ticker is a whole state; a book message that does not follow what was sent
        becomes the latest snapshot when it is written (`_render_book`)."""
        return message.channel in (TICKER, BOOK)

    async def connect(self) -> None:
        await self.accept()
        await self.start_streaming()
        self.sent_books: dict[str, int] = {}  # the book sequence last sent, per symbol

    async def on_request(self, content: dict[str, Any]) -> None:
        action, symbol, channel = (content.get("action"), content.get("symbol"),
                                   content.get("channel"))
        since = since_of(content.get("since"))
        if action not in ("subscribe", "unsubscribe") or channel not in CHANNELS \
                or not isinstance(symbol, str) or not await _symbol_exists(symbol) \
                or (content.get("since") is not None and since is None):
            await self.send_json({"type": "error", "code": "invalid_subscription",
                                  "request": content})
            return
        stream = market_stream(symbol, channel)
        if action == "unsubscribe":
            self.unsubscribe(stream)
            self.queue.discard(channel, symbol)
            self.sent_books.pop(symbol, None)
            await self.send_json({"type": "unsubscribed", "symbol": symbol,
                                  "channel": channel})
            return
        subscription = Subscription(stream, channel, symbol)
        latest = await self.subscribe(subscription, since)
        await self.send_json({"type": "subscribed", "symbol": symbol, "channel": channel,
                              "seq": latest})
        if channel == BOOK and since is None:
            self.sent_books.pop(symbol, None)
            self.enqueue(StreamItem(BOOK, symbol, RESNAPSHOT))
        elif channel == BOOK:
            self.sent_books[symbol] = since or 0
        await self.catch_up(subscription, until=latest)

    def on_gap(self, subscription: Subscription, latest: int) -> None:
        """A book past the window: the gap, then a fresh snapshot (the latest state)."""
        if subscription.channel != BOOK:
            super().on_gap(subscription, latest)
            return
        gap = {"from": subscription.last + 1, "to": latest}
        subscription.last = latest
        self.enqueue(StreamItem(BOOK, subscription.symbol, RESNAPSHOT, {"gap": gap}))

    async def render(self, item: StreamItem) -> list[str]:
        if market_stream(item.symbol, item.channel) not in self.subscriptions:
            return []  # unsubscribed meanwhile
        if item.kind == DROPPED:
            return [as_json({"type": "gap", "channel": item.channel, "symbol": item.symbol,
                           "from": item.body["from"], "to": item.body["to"],
                           "reason": SLOW_READER})]
        if item.channel != BOOK:
            return await super().render(item)
        return await self._render_book(item)

    async def _render_book(self, item: StreamItem) -> list[str]:
        sent = self.sent_books.get(item.symbol)
        if item.kind == SNAPSHOT and (sent is None or item.seq > sent):
            self.sent_books[item.symbol] = item.seq
            return [item.text]
        if item.kind in (SNAPSHOT, DELTA) and sent is not None:
            if item.seq <= sent:
                return []  # already in the snapshot sent
            if item.seq == sent + 1 or item.kind == SNAPSHOT:
                self.sent_books[item.symbol] = item.seq
                return [item.text]
        if item.kind == DELTA and sent is None:
            return []  # the snapshot this subscription waits for is queued
        texts = []
        if "gap" in item.body:
            texts.append(as_json({"type": "gap", "channel": BOOK, "symbol": item.symbol,
                                **item.body["gap"]}))
        book = await books_of(self.hub).book(item.symbol)
        if book is None or book.sequence is None:
            return [*texts, as_json({"type": "unavailable", "channel": BOOK,
                                   "symbol": item.symbol})]
        view = book.view()
        self.sent_books[item.symbol] = book.sequence
        return [*texts, as_json({
            "type": SNAPSHOT, "channel": BOOK, "symbol": item.symbol,
            "sequence": book.sequence, "bids": wire_levels(view.bids),
            "asks": wire_levels(view.asks), "seq": book.sequence})]
