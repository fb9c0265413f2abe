"""The one consumer loop: beat the heartbeat, resume after a database outage, poll a batch
of the spec's size, apply it through the outage guard, commit its offsets; on stop, close
the handler, leave the group at once and flush the producers. A consumer with a loop of
its own (`ConsumerSpec.run`) is handed the same stop event and heartbeat instead."""

from __future__ import annotations

import logging
import threading

from confluent_kafka import KafkaError, KafkaException
from django.conf import settings

from oms.consumers.spec import ConsumerSpec
from oms.kafka.consumer import AssignmentCallback, Batch, BatchConsumer
from oms.kafka.shared import close_producers, event_producer
from oms.observability.probe_server import Heartbeat
from oms.resilience.consumers import DatabaseOutageGuard

logger = logging.getLogger(__name__)

# A commit refused with these means this member was frozen past its session and the group
# went on without it.
GROUP_MOVED_ON = frozenset({KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION,
                            KafkaError.REBALANCE_IN_PROGRESS})


def run_consumer(spec: ConsumerSpec, *, stop: threading.Event, heartbeat: Heartbeat) -> None:
    """Run `spec` until `stop` is set: its own loop, or the shared one over its handler."""
    run = spec.run or run_batches
    run(spec, stop=stop, heartbeat=heartbeat)


def open_consumer(spec: ConsumerSpec, *, on_assign: AssignmentCallback | None = None,
                  on_revoke: AssignmentCallback | None = None) -> BatchConsumer:
    """The spec's consumer, joined to its group, dead-lettering through the process's
    producer."""
    return BatchConsumer(
        topics=spec.topics, group_id=spec.group,
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, dead_letters=event_producer(),
        extra={**settings.KAFKA_CLIENT_CONFIG, **spec.kafka_config},
        on_assign=on_assign, on_revoke=on_revoke)


def run_batches(spec: ConsumerSpec, *, stop: threading.Event, heartbeat: Heartbeat) -> None:
    """The shared loop. A batch that fails on the database is rewound and its partitions
    paused until PostgreSQL answers (`DatabaseOutageGuard`); any other dependency failure
    ends the loop for `oms.roles.RoleCommand` to run it again after a backoff."""
    if spec.handler is None:
        raise TypeError(f"consumer {spec.name!r} has a loop of its own")
    handler = spec.handler()
    consumer = open_consumer(spec, on_assign=handler.on_assign, on_revoke=handler.on_revoke)
    outage = DatabaseOutageGuard(consumer)
    try:
        while not stop.is_set():
            heartbeat.beat()
            outage.resume_when_recovered()
            # While paused this returns nothing but serves the group (and rebalances).
            batch = consumer.poll_batch(max_messages=spec.batch_size,
                                        timeout=spec.poll_timeout)
            if batch and outage.apply(batch, handler.apply):
                commit(consumer, batch)
            handler.between_polls()
    finally:
        handler.close()
        consumer.close()  # leaves the group at once: the partitions move without delay
        close_producers()


def commit(consumer: BatchConsumer, batch: Batch) -> None:
    """Commit the batch's offsets. A commit refused because the group moved on changes
    nothing: the partitions' new owner consumes those events again, and applying them is
    idempotent."""
    try:
        consumer.commit(batch)
    except KafkaException as exc:
        if exc.args[0].code() not in GROUP_MOVED_ON:
            raise
        logger.warning("offsets of %s not committed, the group moved on: %s",
                       ", ".join(consumer.topics), exc)
