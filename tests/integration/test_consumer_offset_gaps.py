"""A record the broker hands out of turn is not skipped (D11). Tansu, the local broker,
can make a later record visible before an earlier one when two producers write one
partition at once: a consumer that took the later one would move past the earlier one for
good (`make bench-e2e` lost an accepted order that way in three of about sixteen runs of
15,000 orders). The batch consumer expects each partition's offsets to follow each other,
seeks back over a gap and waits for its records; only a gap that lasts
`GAP_PATIENCE_SECONDS` is taken as real.

The broker's race cannot be called up on demand, so the skip here is made by moving the
underlying librdkafka consumer past two records behind the batch consumer's back."""

from __future__ import annotations

import logging
import time

import pytest
from confluent_kafka import TopicPartition

from apps.orders.events import ORDER_SUBMITTED
from oms.events import Event, new_event
from oms.kafka import consumer as consumer_module
from oms.kafka.consumer import BatchConsumer, ConsumedEvent
from oms.kafka.producer import EventProducer
from oms.observability.metrics import OFFSET_GAPS
from tests.integration.test_kafka_kernel import make_consumer, submitted_payload


def publish_six(topic: str, producer: EventProducer) -> list[Event]:
    events = [new_event(ORDER_SUBMITTED, submitted_payload()) for _ in range(6)]
    for event in events:
        producer.publish(topic, key="BTC-USDT", event=event)  # one key: one partition
    return events


def consume(consumer: BatchConsumer, wanted: int, *, seconds: float = 20) -> list[ConsumedEvent]:
    seen: list[ConsumedEvent] = []
    deadline = time.monotonic() + seconds
    while len(seen) < wanted and time.monotonic() < deadline:
        seen += consumer.poll_batch(max_messages=wanted - len(seen), timeout=0.5).events
    return seen


def skip_two(consumer: BatchConsumer, first: list[ConsumedEvent]) -> None:
    """Move librdkafka's position two records ahead, as a broker that hands a later
    record first would."""
    last = first[-1]
    consumer._consumer.seek(TopicPartition(last.topic, last.partition, last.offset + 3))


def gaps(topic: str, group: str, outcome: str) -> float:
    return OFFSET_GAPS.labels(topic, group, outcome)._value.get()


def test_a_skipped_record_is_read_again_in_order(fresh_topic: str,
                                                 producer: EventProducer) -> None:
    events = publish_six(fresh_topic, producer)
    consumer = make_consumer(fresh_topic, producer)
    try:
        first = consume(consumer, 2)
        skip_two(consumer, first)
        rest = consume(consumer, 4)
    finally:
        consumer.close()
    assert [c.event for c in first + rest] == events
    assert [c.offset for c in first + rest] == list(range(first[0].offset,
                                                          first[0].offset + 6))
    assert gaps(fresh_topic, consumer.group_id, "reread") >= 1
    assert gaps(fresh_topic, consumer.group_id, "accepted") == 0


def test_a_gap_that_lasts_is_taken_as_real_and_said(
    fresh_topic: str, producer: EventProducer, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(consumer_module, "GAP_PATIENCE_SECONDS", 0.0)
    events = publish_six(fresh_topic, producer)
    consumer = make_consumer(fresh_topic, producer)
    try:
        first = consume(consumer, 2)
        skip_two(consumer, first)
        with caplog.at_level(logging.ERROR, logger="oms.kafka.consumer"):
            rest = consume(consumer, 2)
    finally:
        consumer.close()
    assert [c.event for c in first + rest] == events[:2] + events[4:]
    assert gaps(fresh_topic, consumer.group_id, "accepted") == 1
    assert any("never came" in record.getMessage() for record in caplog.records)
