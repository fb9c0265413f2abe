"""An aggregated L2 book (price level -> total quantity) kept in sequence.

One shape serves the internal venue's book (rebuilt from `book.snapshot` / `book.delta` on
`prices`) and every external feed's book: a snapshot replaces the levels, a delta sets the
levels it names (quantity 0 removes one) and must carry the next sequence number, else
`SequenceGap` is raised and the book stays as it was until the next snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from oms.money import format_amount, parse_amount

Level = tuple[Decimal, Decimal]
WireLevels = Sequence[Sequence[str]]


class SequenceGap(Exception):
    """A delta does not follow the book's last sequence: the book needs a new snapshot."""

    def __init__(self, *, expected: int, received: int) -> None:
        super().__init__(f"expected sequence {expected}, received {received}")
        self.expected = expected
        self.received = received


def parse_levels(levels: WireLevels) -> list[Level]:
    """`[["price", "qty"], ...]` (strings on the wire) as exact decimals."""
    return [(parse_amount(level[0]), parse_amount(level[1])) for level in levels]


def wire_levels(levels: Iterable[Level]) -> list[list[str]]:
    return [[format_amount(price), format_amount(quantity)] for price, quantity in levels]


@dataclass(frozen=True, slots=True)
class BookView:
    """A copy of a book's top levels, best first, at one sequence number."""

    symbol: str
    sequence: int | None
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    def to_wire(self) -> dict[str, object]:
        return {"symbol": self.symbol, "sequence": self.sequence,
                "bids": wire_levels(self.bids), "asks": wire_levels(self.asks)}

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> BookView:
        sequence = data.get("sequence")
        return cls(symbol=str(data["symbol"]),
                   sequence=int(sequence) if isinstance(sequence, (int, str)) else None,
                   bids=tuple(parse_levels(data["bids"])),  # type: ignore[arg-type]
                   asks=tuple(parse_levels(data["asks"])))  # type: ignore[arg-type]


class L2Book:
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.sequence: int | None = None  # None until the first snapshot
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}

    @property
    def synced(self) -> bool:
        return self.sequence is not None

    def apply_snapshot(self, *, sequence: int, bids: Iterable[Level],
                       asks: Iterable[Level]) -> None:
        self._bids = {price: qty for price, qty in bids if qty > 0}
        self._asks = {price: qty for price, qty in asks if qty > 0}
        self.sequence = sequence

    def apply_delta(self, *, sequence: int, bids: Iterable[Level], asks: Iterable[Level],
                    first_sequence: int | None = None) -> None:
        """Apply a delta that covers sequence numbers `first_sequence`..`sequence` (one
        number unless given). It must start right after the book's sequence."""
        if self.sequence is None:
            raise SequenceGap(expected=0, received=first_sequence or sequence)
        first = sequence if first_sequence is None else first_sequence
        if first != self.sequence + 1:
            raise SequenceGap(expected=self.sequence + 1, received=first)
        self.set_levels(bids=bids, asks=asks)
        self.sequence = sequence

    def set_levels(self, *, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Set levels without a sequence check (for feeds whose ordering is checked
        elsewhere). Quantity 0 removes a level."""
        for side, levels in ((self._bids, bids), (self._asks, asks)):
            for price, quantity in levels:
                if quantity > 0:
                    side[price] = quantity
                else:
                    side.pop(price, None)

    def invalidate(self) -> None:
        """Forget the levels: the book is unusable until the next snapshot."""
        self.sequence = None
        self._bids.clear()
        self._asks.clear()

    def view(self, depth: int | None = None) -> BookView:
        bids = sorted(self._bids.items(), key=lambda level: level[0], reverse=True)
        asks = sorted(self._asks.items(), key=lambda level: level[0])
        return BookView(symbol=self.symbol, sequence=self.sequence,
                        bids=tuple(bids[:depth]), asks=tuple(asks[:depth]))
