"""Coinbase Advanced Trade public market data: the `level2`, `market_trades`, `ticker` and
`heartbeats` channels on one connection.

Every message on the connection carries `sequence_num`, one more than the previous
message whatever its channel. A missing number means a message was lost: the book can no
longer be trusted, so the feed asks to reconnect, and the new `level2` subscription
starts with a full `snapshot` event. `l2_data` updates give the new quantity of a level
(`new_quantity`, "0" removes it); sides are `bid` and `offer`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from apps.marketdata.domain.book import Level
from apps.marketdata.feeds.base import Command, Reconnect, Send, StreamFeed
from oms.money import parse_amount

CHANNELS = ("level2", "market_trades", "ticker", "heartbeats")


class CoinbaseFeed(StreamFeed):
    source = "coinbase"
    url = "wss://advanced-trade-ws.coinbase.com"

    def __init__(self, symbol: str, *, venue_symbol: str) -> None:
        super().__init__(symbol)
        self.product_id = venue_symbol.upper()
        self._last_sequence: int | None = None
        self._book_sequence = 0
        self.reconnects = 0

    def on_connect(self) -> list[Command]:
        self._last_sequence = None  # sequence numbers are per connection
        self.book.invalidate()
        return [Send({"type": "subscribe", "product_ids": [self.product_id], "channel": name})
                for name in CHANNELS]

    def on_message(self, message: Mapping[str, Any]) -> list[Command]:
        sequence = message.get("sequence_num")
        if isinstance(sequence, int):
            if self._last_sequence is not None and sequence != self._last_sequence + 1:
                self.book.invalidate()
                self.reconnects += 1
                return [Reconnect(f"sequence_num {sequence} after {self._last_sequence}")]
            self._last_sequence = sequence
        channel = message.get("channel")
        for event in message.get("events", []):
            if channel == "l2_data":
                self._on_level2(event)
            elif channel == "market_trades":
                for trade in event.get("trades", []):
                    if trade.get("product_id") == self.product_id:
                        self.last_trade_price = parse_amount(trade["price"])
            elif channel == "ticker":
                for ticker in event.get("tickers", []):
                    if ticker.get("product_id") == self.product_id:
                        self.ticker_price = parse_amount(ticker["price"])
        return []

    def _on_level2(self, event: Mapping[str, Any]) -> None:
        if event.get("product_id") != self.product_id:
            return
        bids: list[Level] = []
        asks: list[Level] = []
        for update in event.get("updates", []):
            level: tuple[Decimal, Decimal] = (parse_amount(update["price_level"]),
                                              parse_amount(update["new_quantity"]))
            (bids if update["side"] == "bid" else asks).append(level)
        self._book_sequence += 1
        if event.get("type") == "snapshot":
            self.book.apply_snapshot(sequence=self._book_sequence, bids=bids, asks=asks)
        elif self.book.synced:
            self.book.apply_delta(sequence=self._book_sequence, bids=bids, asks=asks)
