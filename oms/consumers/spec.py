"""What a registered consumer is: its name, topics, group, batch size and either a handler
of batches (run by the shared loop) or a loop of its own, for the one consumer whose
offsets live in PostgreSQL rather than Kafka (the processor, D5)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from confluent_kafka import Consumer, TopicPartition

from oms.kafka.consumer import Batch
from oms.kafka.topics import TOPICS, dead_letter_topic
from oms.observability.probe_server import Heartbeat


class BatchHandler:
    """What a consumer does with the batches the shared loop hands it; the loop owns the
    rest (heartbeat, outage guard, poll, commit, close). One handler lives as long as one
    run of the loop: a dependency failure that restarts the loop builds a new one, so no
    state survives a half-applied batch."""

    def apply(self, batch: Batch) -> None:
        """Apply the batch's events. Its effects must be idempotent: the offsets are
        committed to Kafka after it returns, so a crash in between applies it again."""
        raise NotImplementedError

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The group gave this member `partitions` (the client assigns them on return)."""

    def on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """`partitions` were taken away or lost (the client unassigns them on return)."""

    def between_polls(self) -> None:
        """Work on the consumer's own clock, called after every poll, so at least once per
        poll timeout whether events come or not."""

    def close(self) -> None:
        """Stop what the handler started, before the consumer leaves its group."""


class ConsumerLoop(Protocol):
    """A loop of its own, for a consumer the shared loop cannot run; it returns once `stop`
    is set (after finishing its current batch) and beats `heartbeat` each turn."""

    def __call__(self, spec: ConsumerSpec, *, stop: threading.Event,
                 heartbeat: Heartbeat) -> None: ...


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """One registered consumer. Exactly one of `handler` (a factory of the `BatchHandler`
    the shared loop feeds) and `run` (a loop of its own) is given."""

    name: str
    topics: tuple[str, ...]
    group: str
    summary: str
    handler: Callable[[], BatchHandler] | None = None
    run: ConsumerLoop | None = None
    batch_size: int = 500
    poll_timeout: float = 0.5
    # Consumer settings beyond the project's own (`oms.kafka.config`), such as an
    # assignment strategy.
    kafka_config: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.run is None):
            raise ValueError(f"consumer {self.name!r}: give either a handler or a run loop")
        unknown = sorted(set(self.topics) - set(TOPICS))
        if not self.topics or unknown:
            raise ValueError(f"consumer {self.name!r}: unknown topics {unknown or '(none)'}")
        if self.batch_size < 1:
            raise ValueError(f"consumer {self.name!r}: batch size must be positive")

    @property
    def dead_letter_topics(self) -> tuple[str, ...]:
        """Where events of its topics that are not valid, or that its handler sets aside,
        go (`oms.kafka.consumer.dead_letter`)."""
        return tuple(dead_letter_topic(topic) for topic in self.topics)
