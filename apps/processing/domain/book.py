"""One side of a price-time priority order book: mutable order nodes, price levels, and the
sorted index of levels.

Kept separate from the matching rules so the data structure (and its complexity guarantees)
can be read on its own:

* each price level is an intrusive doubly-linked FIFO of orders, so appending, removing any
  order (cancel by id) and consuming the head are O(1);
* levels are found by price in a dict, and their prices are kept in a sorted list of keys
  arranged so that the best level is always the *last* element (bids store ``price``, asks
  ``-price``): consuming the best level is ``list.pop()``, adding or removing another level is
  a ``bisect`` plus a small ``memmove``.

Nodes are deliberately plain ``__slots__`` classes rather than frozen dataclasses: they are
mutated on every fill and must be cheap to create.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

from apps.processing.domain.orders import OrderType, SelfTradePrevention, Side, TimeInForce


class OrderNode:
    """A live order inside the engine (on a level, pending as a stop, or being matched)."""

    __slots__ = (
        "account",
        "expires_at",
        "is_buy",
        "level",
        "next",
        "order_id",
        "order_type",
        "post_only",
        "prev",
        "price",
        "remaining",
        "seq",
        "side",
        "stop_price",
        "stp",
        "tif",
        "timestamp",
    )

    def __init__(
        self,
        order_id: str,
        account: str,
        side: Side,
        order_type: OrderType,
        tif: TimeInForce,
        price: int | None,
        stop_price: int | None,
        remaining: int,
        post_only: bool,
        stp: SelfTradePrevention,
        expires_at: int | None,
        seq: int,
        timestamp: int,
    ) -> None:
        self.order_id = order_id
        self.account = account
        self.side = side
        self.is_buy = side is Side.BUY
        self.order_type = order_type
        self.tif = tif
        self.price = price
        self.stop_price = stop_price
        self.remaining = remaining
        self.post_only = post_only
        self.stp = stp
        self.expires_at = expires_at
        self.seq = seq
        self.timestamp = timestamp
        self.level: PriceLevel | None = None
        self.prev: OrderNode | None = None
        self.next: OrderNode | None = None


class PriceLevel:
    """FIFO of the orders resting at one price, with aggregate lots and order count."""

    __slots__ = ("count", "head", "price", "tail", "total")

    def __init__(self, price: int) -> None:
        self.price = price
        self.head: OrderNode | None = None
        self.tail: OrderNode | None = None
        self.total = 0
        self.count = 0

    def drop_head(self, head: OrderNode, nxt: OrderNode | None) -> None:
        """Unlink ``head`` (whose successor is ``nxt``); the caller adjusts ``total``."""
        self.head = nxt
        if nxt is None:
            self.tail = None
        else:
            nxt.prev = None
        self.count -= 1
        head.level = head.next = None

    def __iter__(self) -> Iterator[OrderNode]:
        node = self.head
        while node is not None:
            yield node
            node = node.next


class BookSide:
    """All price levels of one side; ``keys`` is sorted ascending with the best level last."""

    __slots__ = ("is_bid", "keys", "levels")

    def __init__(self, *, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[int, PriceLevel] = {}
        self.keys: list[int] = []

    def best_price(self) -> int | None:
        keys = self.keys
        if not keys:
            return None
        return keys[-1] if self.is_bid else -keys[-1]

    def append(self, node: OrderNode, price: int) -> None:
        """Put ``node`` at the back of the queue at ``price`` (creating the level if needed)."""
        level = self.levels.get(price)
        if level is None:
            level = PriceLevel(price)
            self.levels[price] = level
            insort(self.keys, price if self.is_bid else -price)
        tail = level.tail
        node.prev = tail
        node.next = None
        if tail is None:
            level.head = node
        else:
            tail.next = node
        level.tail = node
        level.total += node.remaining
        level.count += 1
        node.level = level

    def remove(self, node: OrderNode) -> None:
        """Unlink ``node`` from its level, dropping the level when it becomes empty."""
        level = node.level
        if level is None:
            raise ValueError(f"order {node.order_id} is not on the book")
        prev, nxt = node.prev, node.next
        if prev is None:
            level.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            level.tail = prev
        else:
            nxt.prev = prev
        level.total -= node.remaining
        level.count -= 1
        node.level = node.prev = node.next = None
        if level.count == 0:
            self.drop_level(level.price)

    def drop_level(self, price: int) -> None:
        del self.levels[price]
        keys = self.keys
        key = price if self.is_bid else -price
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    def levels_best_first(self) -> Iterator[PriceLevel]:
        levels = self.levels
        sign = 1 if self.is_bid else -1
        for key in reversed(self.keys):
            yield levels[key * sign]

    def depth(self, n_levels: int) -> list[tuple[int, int, int]]:
        """The best ``n_levels`` levels as ``(price, total lots, order count)``."""
        out: list[tuple[int, int, int]] = []
        for level in self.levels_best_first():
            if len(out) == n_levels:
                break
            out.append((level.price, level.total, level.count))
        return out
