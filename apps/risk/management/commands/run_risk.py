"""`manage.py run_risk`: the `risk` role, in group `risk-engine-group`. Reads `prices`
(trades and price ticks) to keep mark prices, and reports accounts whose daily loss
crossed their limit after the fact (prices moved), as `risk.breach`. Positions and P&L
themselves move in the processor's transaction with each fill."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.risk import services
from oms.kafka.consumer import BatchConsumer
from oms.kafka.shared import close_producers, event_producer
from oms.kafka.topics import PRICES
from oms.observability.probe_server import Heartbeat
from oms.roles import RoleCommand

RISK_GROUP = "risk-engine-group"


def mark_of(payload: dict[str, Any]) -> Decimal | None:
    """A trade's price, or a tick's reference price."""
    value = payload.get("price") or payload.get("reference_price")
    return None if value is None else Decimal(str(value))


class Command(RoleCommand):
    help = "Run the risk role."
    role = "risk"

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        consumer = BatchConsumer(topics=[PRICES], group_id=RISK_GROUP,
                                 bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
                                 dead_letters=event_producer(),
                                 extra=settings.KAFKA_CLIENT_CONFIG)
        marks: dict[str, Decimal] = {}
        try:
            while not stop.is_set():
                heartbeat.beat()
                batch = consumer.poll_batch(max_messages=1000, timeout=0.5)
                moved = {}
                for consumed in batch.events:
                    mark = mark_of(dict(consumed.event.payload))
                    if mark is not None:
                        moved[str(consumed.event.payload["symbol"])] = mark
                if moved:
                    marks.update(moved)
                    services.report_breaches(marks=marks, now=datetime.now(UTC))
                if batch:
                    consumer.commit(batch)
        finally:
            consumer.close()
            close_producers()
