"""The bounded outbound queue of one live-stream connection, so a slow client never holds
up the fan-out to the others and never makes the server buffer without limit.

When the queue is full, each channel degrades in its own way:
- `ticker`: latest wins; a pending ticker of the symbol is replaced in place, always;
- `book`: the pending book messages of the symbol are dropped and one `resnapshot` marker
  takes their place: the connection then sends a fresh snapshot instead of the deltas;
- `trades`: the trade is dropped and counted; the client is told which sequences it
  missed (an explicit gap it may fill by subscribing again with `since`);
- `orders` (private executions): nothing may be lost, so `offer` refuses and the caller
  closes the connection with a reason (the client resumes with `since`)."""

from __future__ import annotations

from collections import deque

from oms.streams.queue import StreamItem

__all__ = ["BOOK", "DELTA", "DROPPED", "ORDERS", "RESNAPSHOT", "SNAPSHOT", "TICKER",
           "TRADES", "OutboundQueue", "StreamItem"]

BOOK, TICKER, TRADES, ORDERS = "book", "ticker", "trades", "orders"
SNAPSHOT, DELTA, RESNAPSHOT, DROPPED = "snapshot", "delta", "resnapshot", "dropped"


class OutboundQueue:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[StreamItem] = deque()
        self._live = 0
        self._tickers: dict[str, StreamItem] = {}
        self._resnapshots: dict[str, StreamItem] = {}
        # Dropped trades per subscription: how many, the first and the last sequence.
        self._dropped: dict[tuple[str, str], tuple[int, int, int]] = {}

    def __len__(self) -> int:
        return self._live + len(self._dropped)

    @property
    def full(self) -> bool:
        return self._live >= self.capacity

    def offer(self, item: StreamItem) -> bool:
        """Queue `item` under the channel's policy; False only when an `orders` message
        does not fit (the connection must then be closed)."""
        if item.channel == TICKER:
            return self._offer_ticker(item)
        if item.channel == BOOK:
            self._offer_book(item)
            return True
        if self.full:
            if item.channel == ORDERS:
                return False
            key = (item.channel, item.symbol)
            count, first, _last = self._dropped.get(key, (0, item.seq, item.seq))
            self._dropped[key] = (count + 1, first, item.seq)
            return True
        self._append(item)
        return True

    def pop(self) -> StreamItem | None:
        """The next message to send: first any notice of dropped trades, then the queue."""
        if self._dropped:
            (channel, symbol), (count, first, last) = next(iter(self._dropped.items()))
            del self._dropped[(channel, symbol)]
            return StreamItem(channel, symbol, DROPPED, {"count": count, "from": first,
                                                        "to": last})
        while self._items:
            item = self._items.popleft()
            if not item.alive:
                continue
            self._live -= 1
            if item.channel == TICKER:
                self._tickers.pop(item.symbol, None)
            elif item.kind == RESNAPSHOT:
                self._resnapshots.pop(item.symbol, None)
            return item
        return None

    def discard(self, channel: str, symbol: str) -> None:
        """Forget what is pending for one subscription (the client unsubscribed)."""
        self._drop_pending(channel, symbol)
        self._dropped.pop((channel, symbol), None)
        if channel == TICKER:
            self._tickers.pop(symbol, None)
        elif channel == BOOK:
            self._resnapshots.pop(symbol, None)

    def _offer_ticker(self, item: StreamItem) -> bool:
        pending = self._tickers.get(item.symbol)
        if pending is not None:
            pending.body, pending.seq, pending.text = item.body, item.seq, item.text
        elif not self.full:
            self._tickers[item.symbol] = item
            self._append(item)
        return True  # a ticker that does not fit is superseded by the next one

    def _offer_book(self, item: StreamItem) -> None:
        pending = self._resnapshots.get(item.symbol)
        if pending is not None:  # a fresh snapshot is already on its way
            pending.body.update(item.body if item.kind == RESNAPSHOT else {})
            return
        if item.kind in (SNAPSHOT, RESNAPSHOT):
            self._drop_pending(BOOK, item.symbol)  # superseded
        if self.full:
            self._drop_pending(BOOK, item.symbol)
            marker = StreamItem(BOOK, item.symbol, RESNAPSHOT,
                                dict(item.body) if item.kind == RESNAPSHOT else {})
            self._resnapshots[item.symbol] = marker
            self._append(marker)
            return
        if item.kind == RESNAPSHOT:
            self._resnapshots[item.symbol] = item
        self._append(item)

    def _append(self, item: StreamItem) -> None:
        self._items.append(item)
        self._live += 1

    def _drop_pending(self, channel: str, symbol: str) -> None:
        for queued in self._items:
            if queued.alive and queued.channel == channel and queued.symbol == symbol:
                queued.alive = False
                self._live -= 1
