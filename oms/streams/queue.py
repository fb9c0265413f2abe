"""What a connection queues for its client (`StreamItem`) and the queue it needs.

A connection's queue is bounded: a slow client never holds up the fan-out to the others.
The default here is lossless (`LosslessQueue`): when it is full, `offer` refuses and the
connection closes with a reason, so the client resumes with `since` (a private stream may
lose nothing). A stream that may degrade instead (market data: latest state wins, gaps
counted) brings its own queue (`apps.marketdata.domain.conflation`)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

PRIVATE = "*"  # the `symbol` of the messages of a private stream


@dataclass(slots=True)
class StreamItem:
    channel: str
    symbol: str  # PRIVATE on a private stream
    kind: str  # snapshot / delta / resnapshot for the book; the channel name otherwise
    body: dict[str, Any] = field(default_factory=dict)
    seq: int = 0  # the stream's sequence of the message (none on markers)
    text: str = ""  # the message as sent (empty on markers, which are rendered)
    alive: bool = True


class OutboundQueue(Protocol):
    @property
    def full(self) -> bool: ...

    def offer(self, item: StreamItem) -> bool:
        """Queue `item`; False when it cannot be queued without a loss (close the
        connection)."""

    def pop(self) -> StreamItem | None: ...

    def discard(self, channel: str, symbol: str) -> None: ...


class LosslessQueue:
    """At most `capacity` items, none ever dropped."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[StreamItem] = deque()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def full(self) -> bool:
        return len(self._items) >= self.capacity

    def offer(self, item: StreamItem) -> bool:
        if self.full:
            return False
        self._items.append(item)
        return True

    def pop(self) -> StreamItem | None:
        return self._items.popleft() if self._items else None

    def discard(self, channel: str, symbol: str) -> None:
        self._items = deque(item for item in self._items
                            if (item.channel, item.symbol) != (channel, symbol))
