"""The Kafka kernel against the real broker: an event round-trips through the idempotent
producer and the batch consumer with schema validation, and a poison message goes to the
dead-letter topic without blocking its partition."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings

from apps.orders.events import ORDER_SUBMITTED
from oms.events import Event, InvalidEvent, new_event
from oms.kafka.consumer import Batch, BatchConsumer
from oms.kafka.producer import EventProducer
from oms.observability.context import correlation_scope
from tests.integration.conftest import dead_letters


def submitted_payload(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "order_id": str(uuid.uuid4()), "user_id": 1, "client_order_id": "c-1",
        "symbol": "BTC-USDT", "side": "buy", "type": "limit", "time_in_force": "GTC",
        "quantity": "0.5", "price": "50000.01", "stop_price": None, "post_only": False,
        "expires_at": None, "submitted_at": datetime.now(UTC).isoformat(),
    }
    payload.update(overrides)
    return payload


def consume_until(consumer: BatchConsumer, wanted: int, *, seconds: float = 30) -> list[Batch]:
    batches, seen = [], 0
    deadline = time.monotonic() + seconds
    while seen < wanted and time.monotonic() < deadline:
        batch = consumer.poll_batch(max_messages=100, timeout=0.5)
        if batch:
            batches.append(batch)
            seen += len(batch.events) + batch.dead_lettered
    return batches


def make_consumer(topic: str, producer: EventProducer, group: str | None = None) -> BatchConsumer:
    return BatchConsumer(topics=[topic], group_id=group or f"g-{uuid.uuid4().hex[:8]}",
                         bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
                         dead_letters=producer)


def test_event_round_trips_with_its_envelope_and_correlation_id(
    fresh_topic: str, producer: EventProducer
) -> None:
    with correlation_scope("req-123"):
        event = new_event(ORDER_SUBMITTED, submitted_payload())
    delivery = producer.publish(fresh_topic, key="BTC-USDT", event=event)
    assert delivery.topic == fresh_topic

    consumer = make_consumer(fresh_topic, producer)
    try:
        batches = consume_until(consumer, 1)
    finally:
        consumer.close()
    [received] = [item for batch in batches for item in batch.events]
    assert received.event == event
    assert received.event.correlation_id == "req-123"
    assert received.key == "BTC-USDT"
    assert received.event.payload["price"] == "50000.01"


def test_producer_refuses_an_event_that_breaks_its_schema(
    fresh_topic: str, producer: EventProducer
) -> None:
    bad = new_event(ORDER_SUBMITTED, submitted_payload(quantity=0.5))  # a float, not a string
    with pytest.raises(InvalidEvent, match="quantity"):
        producer.publish(fresh_topic, key="BTC-USDT", event=bad)
    consumer = make_consumer(fresh_topic, producer)
    try:
        assert consume_until(consumer, 1, seconds=5) == []
    finally:
        consumer.close()


def test_poison_message_goes_to_the_dead_letter_topic_and_the_partition_moves_on(
    fresh_topic: str, producer: EventProducer
) -> None:
    good_before = new_event(ORDER_SUBMITTED, submitted_payload())
    good_after = new_event(ORDER_SUBMITTED, submitted_payload())
    producer.publish(fresh_topic, key="BTC-USDT", event=good_before)
    delivered: list[object] = []
    producer.produce_raw(fresh_topic, key=b"BTC-USDT", value=b"{not json",
                         headers=[], on_delivery=lambda error, _m: delivered.append(error))
    assert producer.flush(10) == 0
    assert delivered == [None]
    producer.publish(fresh_topic, key="BTC-USDT", event=good_after)

    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = make_consumer(fresh_topic, producer, group)
    try:
        batches = consume_until(consumer, 3)
        for batch in batches:
            consumer.commit(batch)
    finally:
        consumer.close()
    events = [item.event for batch in batches for item in batch.events]
    assert events == [good_before, good_after]
    assert sum(batch.dead_lettered for batch in batches) == 1

    [message] = dead_letters(fresh_topic)
    assert message.value() == b"{not json"
    headers = dict(message.headers() or [])
    assert headers["dlq_reason"].startswith(b"not JSON")
    assert headers["dlq_original"].startswith(f"{fresh_topic}/".encode())

    # The committed offsets are past the poison message: a restarted consumer sees nothing.
    again = make_consumer(fresh_topic, producer, group)
    try:
        assert consume_until(again, 1, seconds=8) == []
    finally:
        again.close()


def test_envelope_rejects_naive_times_and_garbage() -> None:
    with pytest.raises(InvalidEvent):
        Event.from_json(b"[]")
    with pytest.raises(InvalidEvent, match="time zone"):
        Event.from_json(b'{"event_id":"1","type":"a.b","schema_version":1,'
                        b'"occurred_at":"2026-01-01T00:00:00","correlation_id":null,"payload":{}}')
