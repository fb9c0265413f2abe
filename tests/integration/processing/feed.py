"""Order events fed straight to a `BatchProcessor`, without the broker.

The processor's guarantees are about what one `process(batch)` call does to the database;
the consumer in front of it only decides which events form a batch. Feeding batches
directly lets a test choose the batch (500 orders, 20,000 fills, one poison event among
good ones) and keeps it fast. Everything behind `process` is real: PostgreSQL, Redis,
the outbox. Tests start without global risk limits (tests/conftest.py), so thousands of
orders a second are not refused by the velocity limits. Nothing is relayed to
`executions` here, so reconciliation runs every check but the one that compares the
outbox with that topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection

from apps.orders import services as orders
from apps.orders.events import ORDER_SUBMITTED
from apps.processing.models import OutboxEvent
from apps.processing.processor import BatchProcessor
from apps.processing.reconciliation import CHECKS, reconcile
from oms.events import Event, new_event
from oms.kafka.consumer import Batch, ConsumedEvent
from oms.kafka.topics import ORDERS
from oms.money import format_amount

# Everything but the comparison of the outbox with the `executions` topic (no relay runs).
LOCAL_CHECKS = [name for name in CHECKS if name != "executions"]


class DirectFeed:
    """One processor that owns one partition of `orders` in a group of its own; each
    `process` call is one consumed batch with the next offsets of that partition."""

    def __init__(self, *, partition: int = 0, pipelined: bool = False) -> None:
        self.group = f"direct-{uuid.uuid4().hex[:8]}"
        self.partition = partition
        self.processor = BatchProcessor(group=self.group, pipelined=pipelined)
        self.processor.claim([partition])
        self.offset = 0
        self.set_aside: list[tuple[ConsumedEvent, str]] = []

    def batch(self, events: list[Event]) -> Batch:
        consumed = [ConsumedEvent(topic=ORDERS, partition=self.partition,
                                  offset=self.offset + n, key=str(event.payload["symbol"]),
                                  event=event)
                    for n, event in enumerate(events)]
        self.offset += len(events)
        return Batch(events=consumed, first_offsets={(ORDERS, self.partition): consumed[0].offset},
                     next_offsets={(ORDERS, self.partition): self.offset})

    def apply(self, batch: Batch) -> None:
        self.processor.process(batch, set_aside=self._set_aside)

    def process(self, events: list[Event]) -> Batch:
        batch = self.batch(events)
        self.apply(batch)
        return batch

    def _set_aside(self, consumed: ConsumedEvent, reason: str) -> None:
        self.set_aside.append((consumed, reason))


def submission(user_id: int, side: str, quantity: Decimal | str, price: Decimal | str | None,
               *, symbol: str, order_type: str = "limit", time_in_force: str = "GTC",
               stop_price: Decimal | str | None = None, post_only: bool = False,
               order_id: uuid.UUID | None = None,
               expires_at: datetime | None = None) -> Event:
    """An `order.submitted` as order entry publishes it."""
    order_id = order_id or uuid.uuid4()
    return new_event(ORDER_SUBMITTED, {
        "order_id": str(order_id), "user_id": user_id, "client_order_id": str(order_id),
        "symbol": symbol, "side": side, "type": order_type, "time_in_force": time_in_force,
        "quantity": format_amount(Decimal(quantity)),
        "price": None if price is None else format_amount(Decimal(price)),
        "stop_price": None if stop_price is None else format_amount(Decimal(stop_price)),
        "post_only": post_only,
        "expires_at": None if expires_at is None else expires_at.isoformat(),
        "submitted_at": datetime.now(UTC).isoformat(),
    })


def instrument(symbol: str, *, tick: str, lot: str, maker_fee: str, taker_fee: str,
               min_notional: str = "0.00000001", max_quantity: str = "1000000000") -> None:
    base, quote = symbol.split("-")
    orders.upsert_instrument(
        symbol=symbol, base_asset=base, quote_asset=quote, tick_size=Decimal(tick),
        lot_size=Decimal(lot), min_quantity=Decimal(lot), max_quantity=Decimal(max_quantity),
        min_notional=Decimal(min_notional), maker_fee_rate=Decimal(maker_fee),
        taker_fee_rate=Decimal(taker_fee))


def assert_reconciled() -> None:
    findings = {name: [f.detail for f in found]
                for name, found in reconcile(LOCAL_CHECKS).items() if found}
    assert not findings, findings


def outbox_of(event_type: str) -> list[Event]:
    """The outbox events of one type, oldest first."""
    return [event for event in (Event.from_json(bytes(row.body))
                                for row in OutboxEvent.objects.order_by("id"))
            if event.type == event_type]


def outbox_count(event_type: str) -> int:
    """How many outbox events of one type there are (counted in the database)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM processing_outboxevent"
                       " WHERE convert_from(body, 'UTF8')::jsonb ->> 'type' = %s", [event_type])
        return int(cursor.fetchone()[0])
