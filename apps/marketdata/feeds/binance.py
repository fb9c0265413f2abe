"""Binance public market data: the combined stream of `<symbol>@depth@100ms`,
`<symbol>@trade` and `<symbol>@ticker`, with the REST depth snapshot for the book.

Book upkeep follows Binance's documented procedure: buffer `depthUpdate` events, fetch
`/api/v3/depth`, drop the buffered events with `u` <= `lastUpdateId`, require the first
one applied to contain `lastUpdateId + 1` (`U` <= it <= `u`), then require each event
to follow the previous (`pu` == previous `u` where the stream sends `pu`, as the futures
streams do; otherwise `U` == previous `u` + 1). A gap forgets the book and starts again
from a new snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.marketdata.domain.book import parse_levels
from apps.marketdata.feeds.base import Command, FetchSnapshot, StreamFeed
from oms.money import parse_amount

SNAPSHOT_LIMIT = 1000
MAX_BUFFERED = 10_000  # depth events kept while a snapshot is on its way


class BinanceFeed(StreamFeed):
    source = "binance"
    stream_host = "wss://stream.binance.com:9443"
    rest_host = "https://api.binance.com"

    def __init__(self, symbol: str, *, venue_symbol: str) -> None:
        super().__init__(symbol)
        self.venue_symbol = venue_symbol.upper()
        self._buffer: list[Mapping[str, Any]] = []
        self._fresh_snapshot = False  # no event applied on the current snapshot yet
        self.resyncs = 0

    @property
    def url(self) -> str:  # type: ignore[override]
        name = self.venue_symbol.lower()
        return (f"{self.stream_host}/stream?streams="
                f"{name}@depth@100ms/{name}@trade/{name}@ticker")

    @property
    def snapshot_url(self) -> str:
        return f"{self.rest_host}/api/v3/depth?symbol={self.venue_symbol}&limit={SNAPSHOT_LIMIT}"

    def on_connect(self) -> list[Command]:
        # Subscriptions are in the URL; the book starts again from a snapshot.
        self._buffer = []
        return self._resync()

    def on_message(self, message: Mapping[str, Any]) -> list[Command]:
        data = message.get("data", message)  # combined streams wrap the event
        event = data.get("e")
        if event == "depthUpdate":
            return self._on_depth(data)
        if event == "trade":
            self.last_trade_price = parse_amount(data["p"])
        elif event == "24hrTicker":
            self.ticker_price = parse_amount(data["c"])
        return []

    def on_snapshot(self, body: Mapping[str, Any]) -> list[Command]:
        last_update_id = int(body["lastUpdateId"])
        pending = [event for event in self._buffer if int(event["u"]) > last_update_id]
        if pending and not self._bridges(pending[0], last_update_id):
            return self._resync()  # the snapshot is older than the buffered events
        self.book.apply_snapshot(sequence=last_update_id, bids=parse_levels(body["bids"]),
                                 asks=parse_levels(body["asks"]))
        self._buffer = []
        self._fresh_snapshot = True
        for event in pending:
            commands = self._on_depth(event)
            if commands:
                return commands
        return []

    @staticmethod
    def _bridges(event: Mapping[str, Any], last_update_id: int) -> bool:
        """The first event applied on a snapshot must contain `lastUpdateId + 1`."""
        return int(event["U"]) <= last_update_id + 1 <= int(event["u"])

    def _on_depth(self, event: Mapping[str, Any]) -> list[Command]:
        last = self.book.sequence
        if last is None:  # waiting for the snapshot
            self._buffer = [*self._buffer[-MAX_BUFFERED + 1:], event]
            return []
        if int(event["u"]) <= last:
            return []  # already in the snapshot
        if self._fresh_snapshot:
            follows = self._bridges(event, last)
        elif "pu" in event:
            follows = int(event["pu"]) == last
        else:
            follows = int(event["U"]) == last + 1
        if not follows:
            self._buffer = [event]
            return self._resync()
        self.book.set_levels(bids=parse_levels(event["b"]), asks=parse_levels(event["a"]))
        self.book.sequence = int(event["u"])
        self._fresh_snapshot = False
        return []

    def _resync(self) -> list[Command]:
        self.book.invalidate()
        self.resyncs += 1
        return [FetchSnapshot(self.snapshot_url)]
