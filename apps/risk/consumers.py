"""The risk context's consumer, `risk` (group `risk-engine-group`). Reads `executions` to
keep `position:{userId}:{symbol}` in Redis current with every fill, and `prices` (trades
and price ticks) to keep mark prices, reporting accounts whose daily loss crossed their
limit after the fact (prices moved) as `risk.breach`. Positions and P&L themselves move in
the processor's transaction with each fill; this consumer copies and watches them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.processing.events import ORDER_FILL
from apps.risk import services
from oms.consumers.registry import register
from oms.consumers.spec import BatchHandler, ConsumerSpec
from oms.kafka.consumer import Batch
from oms.kafka.topics import EXECUTIONS, PRICES

RISK_GROUP = "risk-engine-group"


def mark_of(payload: dict[str, Any]) -> Decimal | None:
    """A trade's price, or a tick's reference price."""
    value = payload.get("price") or payload.get("reference_price")
    return None if value is None else Decimal(str(value))


def filled_positions(batch: Batch) -> set[tuple[int, str]]:
    """The (user, symbol) pairs whose position a fill of the batch moved."""
    return {(int(c.event.payload["user_id"]), str(c.event.payload["symbol"]))
            for c in batch.events if c.topic == EXECUTIONS and c.event.type == ORDER_FILL}


def moved_marks(batch: Batch) -> dict[str, Decimal]:
    moved = {}
    for consumed in batch.events:
        if consumed.topic != PRICES:
            continue
        mark = mark_of(dict(consumed.event.payload))
        if mark is not None:
            moved[str(consumed.event.payload["symbol"])] = mark
    return moved


class PositionWatch(BatchHandler):
    """Copies the positions fills moved, and checks daily losses whenever a mark moves
    (against every mark seen since the consumer started)."""

    def __init__(self) -> None:
        self.marks: dict[str, Decimal] = {}

    def apply(self, batch: Batch) -> None:
        services.cache_positions(filled_positions(batch))
        moved = moved_marks(batch)
        if moved:
            self.marks.update(moved)
            services.report_breaches(marks=self.marks, now=datetime.now(UTC))


register(ConsumerSpec(
    name="risk", topics=(EXECUTIONS, PRICES), group=RISK_GROUP, handler=PositionWatch,
    batch_size=1000, poll_timeout=0.5,
    summary="positions in Redis from fills, mark prices, daily-loss breaches "
            "(`risk.breach`)"))
