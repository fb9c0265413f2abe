"""`manage.py run_processor`: the `processor` role. Consumes `orders` in group
`order-processor-group`; each batch is one transaction (state, ledger, outbox, offsets),
fenced by partition epochs (D5). Several processes share the partitions; a rebalance hands
a partition over through the database, so nothing is lost or applied twice.

A database outage pauses the partitions until PostgreSQL answers again, losing nothing and
applying nothing twice (`oms.resilience.consumers`). Any other dependency failure in a
batch (Redis, the broker, an open breaker) rolls the batch back; it is consumed again
after a backoff, never dead-lettered (D11)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from django.conf import settings

from apps.processing.processor import (
    PROCESSOR_GROUP,
    TRANSIENT_ERRORS,
    BatchProcessor,
    Fenced,
)
from oms.kafka.consumer import BatchConsumer
from oms.kafka.shared import close_producers, event_producer
from oms.kafka.topics import ORDERS
from oms.observability.probe_server import Heartbeat
from oms.resilience.consumers import DatabaseOutageGuard
from oms.resilience.retry import backoff_delay
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)


class Command(RoleCommand):
    help = "Run the order processor role."
    role = "processor"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        processor = BatchProcessor()

        def on_assign(consumer: Consumer, partitions: list[TopicPartition]) -> None:
            resume = processor.claim([tp.partition for tp in partitions])
            for tp in partitions:
                tp.offset = resume[tp.partition]
            consumer.assign(partitions)

        def on_revoke(_consumer: Consumer, partitions: list[TopicPartition]) -> None:
            processor.release([tp.partition for tp in partitions])

        consumer = BatchConsumer(
            topics=[ORDERS], group_id=PROCESSOR_GROUP,
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, dead_letters=event_producer(),
            extra=settings.KAFKA_CLIENT_CONFIG, on_assign=on_assign, on_revoke=on_revoke,
        )
        outage = DatabaseOutageGuard(consumer)
        failures = 0
        try:
            while not stop.is_set():
                heartbeat.beat()
                outage.resume_when_recovered()
                # While paused this returns nothing but serves the group (and rebalances).
                batch = consumer.poll_batch(max_messages=options["batch_size"], timeout=0.1)
                if not batch:
                    continue
                try:
                    outage.apply(batch, lambda applied: processor.process(
                        applied, set_aside=consumer.dead_letter_event))
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
            consumer.close()  # leaves the group at once: the partitions move without delay
            close_producers()
