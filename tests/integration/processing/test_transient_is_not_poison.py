"""A dependency that fails while a batch is processed is not the fault of any event in it
(#14 item 3, D11): `process` raises, nothing is written or set aside, and the same batch
applies in full once the dependency answers. Only an event bad in itself is set aside,
and its client still learns its fate: `order.rejected` (reason `unprocessable`) is in the
outbox, while the rest of its batch applies."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
import redis

from apps.orders.events import ORDER_AMEND_REQUESTED, ORDER_CANCEL_REQUESTED
from apps.orders.models import Order
from apps.processing import events as executions
from apps.processing.execution import OrderFlow
from apps.processing.models import OutboxEvent, PartitionOwnership
from apps.processing.processor import TRANSIENT_ERRORS
from oms.events import Event, new_event
from oms.kafka.topics import ORDERS
from oms.launcher.process import free_port
from tests.integration.conftest import trader
from tests.integration.processing.feed import (
    DirectFeed,
    assert_reconciled,
    outbox_of,
    submission,
)

pytestmark = pytest.mark.django_db(transaction=True)
SYMBOL = "BTC-USDT"


def stored_offset(feed: DirectFeed) -> int:
    return PartitionOwnership.objects.get(group=feed.group, topic=ORDERS,
                                          partition=feed.partition).next_offset


def test_a_batch_processed_while_redis_is_unreachable_raises_and_writes_nothing(
    btc: None, settings: Any,
) -> None:
    feed = DirectFeed()
    buyer, seller = trader("buyer", USDT="100000"), trader("seller", BTC="1")
    batch = feed.batch([submission(buyer, "buy", "0.1", "50000", symbol=SYMBOL),
                        submission(seller, "sell", "0.1", "50000", symbol=SYMBOL)])
    real_redis = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
    with pytest.raises(TRANSIENT_ERRORS) as raised:
        feed.apply(batch)
    assert isinstance(raised.value, redis.RedisError)
    # Nothing happened: no order, no event, no offset, nothing set aside.
    assert feed.set_aside == []
    assert not Order.objects.exists()
    assert not OutboxEvent.objects.filter(topic="executions").exists()
    assert stored_offset(feed) == 0
    # Redis answers again: the very same batch applies, in full, once.
    settings.REDIS_URL = real_redis
    feed.apply(batch)
    assert feed.set_aside == []
    assert Order.objects.filter(status="SETTLED").count() == 2
    assert len(outbox_of(executions.ORDER_ACCEPTED)) == 2
    assert outbox_of(executions.ORDER_REJECTED) == []
    assert stored_offset(feed) == 2
    assert_reconciled()


def test_a_poison_event_is_set_aside_with_its_rejection_and_its_batch_applies(
    btc: None,
) -> None:
    feed = DirectFeed()
    buyer, seller = trader("buyer", USDT="100000"), trader("seller", BTC="1")
    ghost_id = uuid.uuid4()
    ghost = submission(987654321, "buy", "0.01", "40000", symbol=SYMBOL, order_id=ghost_id)
    feed.process([submission(buyer, "buy", "0.1", "50000", symbol=SYMBOL), ghost,
                  submission(seller, "sell", "0.1", "50000", symbol=SYMBOL)])
    # The culprit alone is set aside ...
    assert [consumed.event.event_id for consumed, _ in feed.set_aside] == [ghost.event_id]
    # ... and its client learns its fate on `executions`.
    [rejected] = outbox_of(executions.ORDER_REJECTED)
    assert rejected.payload["order_id"] == str(ghost_id)
    assert rejected.payload["reason"] == "unprocessable"
    assert rejected.payload["request"] == "submit"
    assert OutboxEvent.objects.get(event_id=rejected.event_id).topic == "executions"
    # The other events of the batch applied: the two orders traded and settled.
    assert Order.objects.filter(user_id__in=[buyer, seller], status="SETTLED").count() == 2
    assert Order.objects.filter(quantity=Decimal("0.1")).count() == 2
    assert stored_offset(feed) == 3
    assert_reconciled()


def set_aside_amend(feed: DirectFeed, monkeypatch: pytest.MonkeyPatch, *, order_id: uuid.UUID,
                    user_id: int) -> Event:
    """Send an amend of the order with a fault injected into the flow for it; check it is
    set aside and return its `order.rejected`."""
    def faulty_amend(self: OrderFlow, payload: dict[str, Any]) -> None:
        raise ValueError("a fault of this amend's own")

    monkeypatch.setattr(OrderFlow, "amend", faulty_amend)
    amend = new_event(ORDER_AMEND_REQUESTED, {
        "order_id": str(order_id), "user_id": user_id, "symbol": SYMBOL,
        "requested_by": user_id, "price": "41000", "quantity": None})
    feed.process([amend])
    assert [consumed.event.event_id for consumed, _ in feed.set_aside] == [amend.event_id]
    [rejected] = outbox_of(executions.ORDER_REJECTED)
    return rejected


def test_an_amend_set_aside_is_noted_in_its_orders_record(
    btc: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An amend the processor cannot apply (here a fault injected into the flow for it) is
    set aside; its client learns it on `executions` and in the order's `last_refusal`,
    and the order is otherwise as it was."""
    feed = DirectFeed()
    buyer = trader("buyer", USDT="100000")
    bid_id = uuid.uuid4()
    feed.process([submission(buyer, "buy", "0.1", "40000", symbol=SYMBOL, order_id=bid_id)])
    before = Order.objects.get(id=bid_id)
    assert (before.status, before.refused_request) == ("ACCEPTED", "")

    rejected = set_aside_amend(feed, monkeypatch, order_id=bid_id, user_id=buyer)
    assert (rejected.payload["request"], rejected.payload["reason"]) == ("amend", "unprocessable")
    after = Order.objects.get(id=bid_id)
    assert (after.refused_request, after.refused_reason) == ("amend", "unprocessable")
    assert after.refused_at == rejected.occurred_at
    assert (after.status, after.price, after.quantity) == (before.status, before.price,
                                                           before.quantity)
    assert stored_offset(feed) == 2
    assert_reconciled()


def test_an_amend_set_aside_leaves_a_final_orders_record_as_it_is(
    btc: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A set-aside amend of an order that is already final is refused on `executions`,
    but the order's record is left as the flow leaves a final one: its status says it."""
    feed = DirectFeed()
    buyer = trader("buyer", USDT="100000")
    bid_id = uuid.uuid4()
    feed.process([submission(buyer, "buy", "0.1", "40000", symbol=SYMBOL, order_id=bid_id)])
    feed.process([new_event(ORDER_CANCEL_REQUESTED, {
        "order_id": str(bid_id), "user_id": buyer, "symbol": SYMBOL, "requested_by": buyer,
        "reason": "user"})])
    cancelled = Order.objects.get(id=bid_id)
    assert cancelled.status == "CANCELLED"

    rejected = set_aside_amend(feed, monkeypatch, order_id=bid_id, user_id=buyer)
    assert (rejected.payload["request"], rejected.payload["status"]) == ("amend", "CANCELLED")
    after = Order.objects.get(id=bid_id)
    assert (after.status, after.refused_request, after.updated_at) == (
        "CANCELLED", "", cancelled.updated_at)
    assert_reconciled()
