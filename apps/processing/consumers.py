"""The processing context's consumer, `processor` (group `order-processor-group`): consumes
`orders`; each batch is one transaction (state, ledger, outbox, offsets), fenced by
partition epochs (D5), written on a writer thread while the next batch is computed (D10).
Several processes share the partitions; a rebalance hands a partition over through the
database, so nothing is lost or applied twice.

It brings its own loop rather than a handler of the shared one: its offsets are stored in
PostgreSQL with each batch and sought on assignment, never committed to Kafka, and a batch
in flight on the writer thread must be finished even when nothing new arrives.

A database outage pauses the partitions until PostgreSQL answers again, losing nothing and
applying nothing twice (`oms.resilience.consumers`). Any other dependency failure in a
batch (Redis, the broker, an open breaker) rolls the batch back; it is consumed again
after a backoff, never dead-lettered (D11). A partition whose stored offset does not
belong to the broker's current log is not consumed (`apps.processing.log_identity`); it
is checked again every few seconds and taken up once `manage.py resolve_order_log` has
re-based it."""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import Consumer, TopicPartition

from apps.processing import log_identity
from apps.processing.processor import (
    PROCESSOR_GROUP,
    TRANSIENT_ERRORS,
    BatchProcessor,
    Fenced,
    tune_for_pipelining,
)
from oms.consumers.loop import open_consumer
from oms.consumers.registry import register
from oms.consumers.spec import ConsumerSpec
from oms.kafka.shared import close_producers
from oms.kafka.topics import ORDERS
from oms.observability.probe_server import Heartbeat
from oms.resilience.consumers import DatabaseOutageGuard
from oms.resilience.retry import backoff_delay

logger = logging.getLogger(__name__)

REFUSED_RECHECK_SECONDS = 3.0


def process_orders(spec: ConsumerSpec, *, stop: threading.Event, heartbeat: Heartbeat) -> None:
    tune_for_pipelining()
    processor = BatchProcessor(group=spec.group, pipelined=True)
    refused: set[int] = set()

    def on_assign(consumer: Consumer, partitions: list[TopicPartition]) -> None:
        resume = processor.claim([tp.partition for tp in partitions])
        refused.clear()
        refused.update(tp.partition for tp in partitions if tp.partition not in resume)
        consumer.assign([TopicPartition(ORDERS, partition, offset)
                         for partition, offset in resume.items()])

    def on_revoke(_consumer: Consumer, partitions: list[TopicPartition]) -> None:
        processor.release([tp.partition for tp in partitions])
        log_identity.forget(topic=ORDERS, partitions=refused)
        refused.clear()

    def take_up_resolved() -> None:
        matching = log_identity.now_matching(group=spec.group, topic=ORDERS,
                                             partitions=refused)
        if not matching:
            return
        resume = processor.claim(sorted(matching))
        refused.difference_update(resume)
        if resume:
            consumer.add_to_assignment([TopicPartition(ORDERS, partition, offset)
                                        for partition, offset in resume.items()])

    consumer = open_consumer(spec, on_assign=on_assign, on_revoke=on_revoke)
    outage = DatabaseOutageGuard(consumer)
    failures = 0
    rechecked = time.monotonic()
    try:
        while not stop.is_set():
            heartbeat.beat()
            outage.resume_when_recovered()
            if refused and time.monotonic() - rechecked > REFUSED_RECHECK_SECONDS:
                rechecked = time.monotonic()
                take_up_resolved()
            # While paused this returns nothing but serves the group (and rebalances).
            batch = consumer.poll_batch(max_messages=spec.batch_size,
                                        timeout=spec.poll_timeout)
            if not batch and (not processor.pending or outage.paused):
                continue
            try:
                if batch:
                    outage.apply(batch, lambda applied: processor.process(
                        applied, set_aside=consumer.dead_letter_event))
                else:  # nothing new: finish writing the last batch
                    outage.apply(batch, lambda _: processor.catch_up())
                failures = 0
            except Fenced as exc:
                logger.warning("batch not applied: %s", exc)
            except TRANSIENT_ERRORS as exc:
                failures += 1
                delay = backoff_delay(failures)
                logger.warning("batch rolled back on a dependency failure (%s: %s); "
                               "consumed again in %.1f s", type(exc).__name__, exc, delay)
                consumer.rewind(batch)
                stop.wait(delay)
    finally:
        processor.close()  # the batch in flight is written before the group is left
        consumer.close()  # leaves the group at once: the partitions move without delay
        close_producers()


# The largest batch: a quiet partition's batch is what has arrived (milliseconds of
# orders); under a burst, larger batches spread the per-batch reads and statements over
# more orders (`make bench-processor`: 2,000 sustains about 10 % more than 500).
register(ConsumerSpec(
    name="processor", topics=(ORDERS,), group=PROCESSOR_GROUP, run=process_orders,
    batch_size=2000, poll_timeout=0.1,
    summary="the order processor: pre-trade decision, reservations, matching, "
            "settlement, positions; one transaction per batch with the outbox and the "
            "offsets (stored in PostgreSQL, not committed to Kafka)"))
