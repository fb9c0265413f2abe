"""The batch consumer: manual offsets, batches, fast group joins, and the dead-letter path.

A message that is not a valid event (bad JSON, bad envelope, unknown type, payload not
matching its schema) is copied to `<topic>.dlq` with the reason in its headers and then
skipped, so one poison message never blocks a partition. Offsets advance only when the
caller says so: `commit()` for consumers whose effects are idempotent, or the caller
stores `Batch.next_offsets` in its own database transaction (D5) and seeks to them."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from oms.events.envelope import Event, InvalidEvent
from oms.events.registry import decoded_event
from oms.kafka.config import consumer_config
from oms.kafka.producer import EventProducer, PublishError
from oms.kafka.topics import dead_letter_topic
from oms.observability.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, OFFSET_GAPS

logger = logging.getLogger(__name__)

PartitionKey = tuple[str, int]
AssignmentCallback = Callable[[Consumer, list[TopicPartition]], None]
# How long a consumer waits for the records of skipped offsets before it takes the gap as
# a real one (a compacted or transactional topic has those); ours never do.
GAP_PATIENCE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ConsumedEvent:
    topic: str
    partition: int
    offset: int
    key: str | None
    event: Event
    timestamp_ms: int = 0  # the record's timestamp (its producer's clock), 0 if none


@dataclass(slots=True)
class Batch:
    """The valid events of one poll, and for each partition the offset to resume from
    (one past the last message seen, dead-lettered ones included)."""

    events: list[ConsumedEvent] = field(default_factory=list)
    first_offsets: dict[PartitionKey, int] = field(default_factory=dict)
    next_offsets: dict[PartitionKey, int] = field(default_factory=dict)
    dead_lettered: int = 0

    def __bool__(self) -> bool:
        return bool(self.next_offsets)


def _header_list(headers: Any) -> list[tuple[str, Any]]:
    """librdkafka hands headers back as a list of pairs (or None)."""
    return list(headers.items()) if isinstance(headers, dict) else list(headers or [])


def dead_letter(
    producer: EventProducer,
    *,
    topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, Any]],
    reason: str,
    group: str,
) -> None:
    """Copy a message to `<topic>.dlq` with the reason in its headers, and wait for the
    acknowledgement, so skipping it afterwards never loses it."""
    logger.error("dead-lettering %s[%s]@%s: %s", topic, partition, offset, reason)
    all_headers = [
        *headers,
        ("dlq_reason", reason[:1000].encode()),
        ("dlq_group", group.encode()),
        ("dlq_original", f"{topic}/{partition}/{offset}".encode()),
    ]
    outcome: list[KafkaError | None] = []
    producer.produce_raw(
        dead_letter_topic(topic), key=key, value=value,
        headers=[(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in all_headers],
        on_delivery=lambda error, _message: outcome.append(error),
    )
    if producer.flush(10) or not outcome or outcome[0] is not None:
        raise PublishError(f"could not dead-letter a message of {topic}")
    EVENTS_DEAD_LETTERED.labels(topic, group).inc()


class _Positions:
    """Where each partition's next record is expected, so that an offset skipped by the
    broker is noticed: our topics' producers are idempotent and not transactional, so
    their offsets follow each other without holes. A partition newly assigned or sought
    has no expectation until its first record."""

    def __init__(self) -> None:
        self._next: dict[PartitionKey, int] = {}
        self._gaps: dict[PartitionKey, tuple[int, float]] = {}  # expected offset, since

    def missing_before(self, key: PartitionKey, offset: int) -> int | None:
        """The first offset missing before `offset`, or None (and `offset` is taken)."""
        expected = self._next.get(key)
        if expected is not None and offset > expected:
            return expected
        self._next[key] = offset + 1
        self._gaps.pop(key, None)
        return None

    def gap_age(self, key: PartitionKey, expected: int) -> float:
        """Seconds since the records from `expected` on were first found missing."""
        first, since = self._gaps.get(key, (None, 0.0))
        if first != expected:
            self._gaps[key] = (expected, since := time.monotonic())
        return time.monotonic() - since

    def moved(self, key: PartitionKey, offset: int) -> None:
        self._next[key] = offset
        self._gaps.pop(key, None)

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            self._next.pop((tp.topic, tp.partition), None)
            self._gaps.pop((tp.topic, tp.partition), None)

    def forgetting(self, callback: AssignmentCallback | None) -> AssignmentCallback:
        """A group callback that first drops the expectations of the partitions it moves
        (the caller may then assign them at any offset)."""
        def forget_then_call(consumer: Consumer, partitions: list[TopicPartition]) -> None:
            self.forget(partitions)
            if callback is not None:
                callback(consumer, partitions)
        return forget_then_call


class BatchConsumer:
    def __init__(
        self,
        *,
        topics: Iterable[str],
        group_id: str,
        bootstrap_servers: str,
        dead_letters: EventProducer,
        extra: Mapping[str, Any] | None = None,
        on_assign: AssignmentCallback | None = None,
        on_revoke: AssignmentCallback | None = None,
        subscribe: bool = True,
    ) -> None:
        """`subscribe=False` joins no group: the caller assigns partitions itself (see
        `assign_from_end`), and `group_id` then only names the consumer in metrics."""
        self.group_id = group_id
        self.topics = list(topics)
        self._dead_letters = dead_letters
        self._consumer = Consumer(consumer_config(bootstrap_servers, group_id, extra))
        self._positions = _Positions()
        callbacks: dict[str, AssignmentCallback] = {
            "on_assign": self._positions.forgetting(on_assign),
            "on_revoke": self._positions.forgetting(on_revoke),
            "on_lost": self._positions.forgetting(on_revoke),
        }
        if subscribe:
            self._consumer.subscribe(self.topics, **callbacks)

    def assign_from_end(self, *, timeout: float = 10.0) -> None:
        """Read every partition of the topics from its current end, outside any group.

        For a process that tails topics for itself (each WebSocket process fans `prices`
        and `executions` out to its own connections): no group join to wait for, no
        rebalance between replicas, and once this returns every later record is read.
        Some earlier ones may come too (Tansu answers the start of its last batch as the
        end): callers that want none compare `ConsumedEvent.timestamp_ms`."""
        metadata = self._consumer.list_topics(timeout=timeout)
        partitions = []
        for topic in self.topics:
            for partition in sorted(metadata.topics[topic].partitions):
                _low, high = self._consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=timeout)
                partitions.append(TopicPartition(topic, partition, high))
        self._positions.forget(partitions)
        self._consumer.assign(partitions)

    def poll_batch(self, *, max_messages: int = 500, timeout: float = 0.5) -> Batch:
        batch = Batch()
        # Wait only for the first message, then take what has already arrived: asking
        # librdkafka for `max_messages` would hold a quiet partition's first message for
        # the whole timeout, while under load the queue fills a batch at once.
        messages = self._consumer.consume(1, timeout)
        if messages and max_messages > 1:
            messages.extend(self._consumer.consume(max_messages - 1, 0))
        sought_back: set[PartitionKey] = set()
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    logger.warning("kafka consumer error: %s", error)
                continue
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            if topic is None or partition is None or offset is None:
                continue  # only error messages lack a position, and those are handled above
            if (topic, partition) in sought_back:
                continue
            missing_from = self._positions.missing_before((topic, partition), offset)
            if missing_from is not None and self._seek_back_for((topic, partition),
                                                                missing_from, offset):
                sought_back.add((topic, partition))
                continue
            batch.first_offsets.setdefault((topic, partition), offset)
            batch.next_offsets[(topic, partition)] = offset + 1
            try:
                event = decoded_event(message.value() or b"")
            except InvalidEvent as exc:
                self._dead_letter(message, str(exc))
                batch.dead_lettered += 1
                continue
            raw_key = message.key()
            batch.events.append(ConsumedEvent(
                topic=topic, partition=partition, offset=offset,
                key=raw_key.decode(errors="replace") if raw_key is not None else None,
                event=event, timestamp_ms=max(message.timestamp()[1], 0),
            ))
        # Counted per batch and topic: a labelled `inc` per message is a measurable part of
        # a busy consumer's time.
        for topic, count in Counter(consumed.topic for consumed in batch.events).items():
            EVENTS_CONSUMED.labels(topic, self.group_id).inc(count)
        return batch

    def _seek_back_for(self, key: PartitionKey, expected: int, offset: int) -> bool:
        """The broker handed `offset` where `expected` was next. Tansu (the local broker)
        can make a later record visible before an earlier one of another producer's, so
        the records in between may yet come: seek back to them (True) until they have
        been missing for `GAP_PATIENCE_SECONDS`, then take the gap as real (False)."""
        topic, partition = key
        if self._positions.gap_age(key, expected) < GAP_PATIENCE_SECONDS:
            self._consumer.seek(TopicPartition(topic, partition, expected))
            OFFSET_GAPS.labels(topic, self.group_id, "reread").inc()
            return True
        logger.error("%s[%d]: offsets %d to %d never came; consuming on from %d", topic,
                     partition, expected, offset - 1, offset)
        OFFSET_GAPS.labels(topic, self.group_id, "accepted").inc()
        self._positions.moved(key, offset + 1)
        return False

    def _dead_letter(self, message: Message, reason: str) -> None:
        dead_letter(
            self._dead_letters, topic=message.topic() or "", partition=message.partition(),
            offset=message.offset(), key=message.key(), value=message.value(),
            headers=_header_list(message.headers()), reason=reason, group=self.group_id,
        )

    def dead_letter_event(self, consumed: ConsumedEvent, reason: str) -> None:
        """Set aside a valid event its handler cannot apply (a poison message)."""
        dead_letter(
            self._dead_letters, topic=consumed.topic, partition=consumed.partition,
            offset=consumed.offset, key=consumed.key.encode() if consumed.key else None,
            value=consumed.event.to_json(), headers=[], reason=reason, group=self.group_id,
        )

    def commit(self, batch: Batch, *, wait: bool = True) -> None:
        """Commit the batch's offsets to Kafka: synchronously, or (`wait=False`, for
        consumers that never replay, such as live streams) in the background, so a broker
        outage cannot hold the caller's loop for a request timeout."""
        if not batch.next_offsets:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in batch.next_offsets.items()]
        if wait:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        else:
            self._consumer.commit(offsets=offsets, asynchronous=True)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._positions.moved((topic, partition), offset)
        self._consumer.seek(TopicPartition(topic, partition, offset))

    def rewind(self, batch: Batch) -> None:
        """Consume the batch's messages again (its effects were rolled back)."""
        for (topic, partition), offset in batch.first_offsets.items():
            self.seek(topic, partition, offset)

    def pause(self, partitions: list[TopicPartition]) -> None:
        self._consumer.pause(partitions)

    def resume(self, partitions: list[TopicPartition]) -> None:
        self._consumer.resume(partitions)

    def add_to_assignment(self, partitions: list[TopicPartition]) -> None:
        """Start consuming more partitions (each from its given offset) beside the ones
        already assigned, whose positions are kept."""
        self._positions.forget(partitions)
        self._consumer.incremental_assign(partitions)

    def assignment(self) -> list[TopicPartition]:
        return list(self._consumer.assignment())

    def close(self) -> None:
        """Leave the group at once (no waiting for the session timeout on others)."""
        self._consumer.close()
