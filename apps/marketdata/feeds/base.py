"""The interface every feed implements, and the commands a streaming feed hands back to the
network client.

A feed keeps, per symbol, an external L2 book and the latest prices it has seen, and
answers `quote()`: the reference price (the book's mid, else the venue's ticker, else its
last trade) with the best bid and ask. A `StreamFeed` is driven by messages: the client
passes each decoded message to `on_message` and carries out the commands returned (send a
subscription, fetch a REST snapshot, reconnect to resynchronise); the feed itself never
does I/O, so it is tested on recorded messages."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from apps.marketdata.domain.book import L2Book


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    source: str
    reference_price: Decimal | None
    best_bid: Decimal | None
    best_ask: Decimal | None


@dataclass(frozen=True, slots=True)
class Send:
    """Send this JSON message on the connection."""

    message: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FetchSnapshot:
    """GET this URL and pass the decoded JSON body to `on_snapshot`."""

    url: str


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Drop the connection and connect again (a fresh subscription resynchronises)."""

    reason: str


Command = Send | FetchSnapshot | Reconnect


class Feed(ABC):
    source: ClassVar[str]

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.book = L2Book(symbol)
        self.ticker_price: Decimal | None = None
        self.last_trade_price: Decimal | None = None
        # The network client mutates a streaming feed on its own thread; `quote` may be
        # read from another, so both hold this lock.
        self.lock = threading.RLock()

    def quote(self) -> Quote:
        with self.lock:
            view = self.book.view(depth=1) if self.book.synced else None
            best_bid = view.best_bid if view else None
            best_ask = view.best_ask if view else None
            if best_bid is not None and best_ask is not None:
                reference: Decimal | None = (best_bid + best_ask) / 2
            else:
                reference = self.ticker_price or self.last_trade_price
            return Quote(symbol=self.symbol, source=self.source, reference_price=reference,
                         best_bid=best_bid, best_ask=best_ask)


class StreamFeed(Feed):
    """A feed read from a venue's public WebSocket."""

    url: ClassVar[str]

    @abstractmethod
    def on_connect(self) -> list[Command]:
        """The connection is open (first or again): forget the book, subscribe."""

    @abstractmethod
    def on_message(self, message: Mapping[str, Any]) -> list[Command]:
        """Apply one decoded message."""

    def on_snapshot(self, body: Mapping[str, Any]) -> list[Command]:
        """Apply a REST snapshot fetched on this feed's request."""
        raise NotImplementedError(f"{self.source} feeds do not fetch snapshots")
