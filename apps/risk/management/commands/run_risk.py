"""`manage.py run_risk`: the `risk` role, in group `risk-engine-group`. Reads `executions`
to keep `position:{userId}:{symbol}` in Redis current with every fill, and `prices` (trades
and price ticks) to keep mark prices, reporting accounts whose daily loss crossed their
limit after the fact (prices moved) as `risk.breach`. Positions and P&L themselves move in
the processor's transaction with each fill; this role copies and watches them. A database
outage pauses its partitions until PostgreSQL answers (`oms.resilience.consumers`)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.processing.events import ORDER_FILL
from apps.risk import services
from oms.kafka.consumer import Batch, BatchConsumer
from oms.kafka.shared import close_producers, event_producer
from oms.kafka.topics import EXECUTIONS, PRICES
from oms.observability.probe_server import Heartbeat
from oms.resilience.consumers import DatabaseOutageGuard
from oms.roles import RoleCommand

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


class Command(RoleCommand):
    help = "Run the risk role."
    role = "risk"

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        consumer = BatchConsumer(topics=[EXECUTIONS, PRICES], group_id=RISK_GROUP,
                                 bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
                                 dead_letters=event_producer(),
                                 extra=settings.KAFKA_CLIENT_CONFIG)
        marks: dict[str, Decimal] = {}
        outage = DatabaseOutageGuard(consumer)

        def apply(batch: Batch) -> None:
            services.cache_positions(filled_positions(batch))
            moved = moved_marks(batch)
            if moved:
                marks.update(moved)
                services.report_breaches(marks=marks, now=datetime.now(UTC))

        try:
            while not stop.is_set():
                heartbeat.beat()
                outage.resume_when_recovered()
                batch = consumer.poll_batch(max_messages=1000, timeout=0.5)
                if batch and outage.apply(batch, apply):
                    consumer.commit(batch)
        finally:
            consumer.close()
            close_producers()
