"""The default feed: a seeded random walk per symbol giving a reference price, and around
it a synthetic external L2 book. Deterministic: the same seed and symbol produce the same
prices and books step after step, so tests and demos replay exactly."""

from __future__ import annotations

import random
import zlib
from decimal import ROUND_DOWN, Decimal

from apps.marketdata.feeds.base import Feed


class SimulatorFeed(Feed):
    source = "simulator"

    def __init__(self, symbol: str, *, seed: int, start_price: Decimal, tick_size: Decimal,
                 volatility: Decimal = Decimal("0.0005"), levels: int = 10,
                 spread_ticks: int = 2) -> None:
        super().__init__(symbol)
        # One stream per symbol: adding a symbol does not change the others' walks.
        self._random = random.Random(seed * 1_000_003 + zlib.crc32(symbol.encode()))  # noqa: S311 - simulation, not security
        self._tick = tick_size
        self._volatility = float(volatility)
        self._levels = levels
        self._spread_ticks = spread_ticks
        self._sequence = 0
        self.price = self._on_tick(start_price)
        self._rebuild_book()

    def advance(self) -> None:
        """One step of the walk: a new reference price and a new book around it."""
        with self.lock:
            change = Decimal(repr(round(self._random.gauss(0.0, self._volatility), 10)))
            self.price = self._on_tick(self.price * (1 + change))
            self._rebuild_book()

    def _on_tick(self, price: Decimal) -> Decimal:
        return max(self._tick, (price / self._tick).to_integral_value(ROUND_DOWN) * self._tick)

    def _rebuild_book(self) -> None:
        """Levels step away from the price by one to three ticks each; the best bid and
        ask sit the same distance away, so the book's mid is the walk's price."""
        self.ticker_price = self.price
        bids, asks = [], []
        bid_offset = ask_offset = self._spread_ticks * self._tick
        for _ in range(self._levels):
            if self.price - bid_offset > 0:
                bids.append((self.price - bid_offset, self._quantity()))
            asks.append((self.price + ask_offset, self._quantity()))
            bid_offset += self._tick * (1 + self._random.randrange(3))
            ask_offset += self._tick * (1 + self._random.randrange(3))
        self._sequence += 1
        self.book.apply_snapshot(sequence=self._sequence, bids=bids, asks=asks)

    def _quantity(self) -> Decimal:
        return Decimal(self._random.randrange(1, 500)) / 100
