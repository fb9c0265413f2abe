"""Whether the offsets the processor stored still point into the log they came from (D11).

The processor resumes each partition of `orders` from the `next_offset` it stored in
PostgreSQL (D5). That is only right while the broker's log is the one those offsets were
read from. The local broker keeps its records in memory, so after a restart each topic is
created again and starts at offset 0, while the database still holds the old offsets:
seeking to them would skip every new message in silence. So before a partition is
consumed, its stored position is checked against the broker:

* the topic's id (the broker gives each creation of a topic a new random id) must be the
  one stored beside the offsets (`PartitionOwnership.log_id`), else the log was recreated;
* the stored offset must not lie beyond the log's end.

A partition that fails is refused: not consumed, one log line, and `/ready` answers 503
naming it, until an operator runs `manage.py resolve_order_log`, which re-bases the stored
offsets to the start of the current log and re-publishes the orders that were accepted but
never processed (`apps.orders.services.republish_unrecorded_orders`). The processor checks
refused partitions again every few seconds and takes them up once they match."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient
from django.conf import settings

from apps.processing.models import PartitionOwnership
from oms.observability.health import declare_not_ready, declare_ready, declared_not_ready

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 5.0
# The local broker's high watermark can trail its last record by up to one batch, so an
# offset above it is confirmed by reading the last batch before the partition is refused.
LAST_BATCH_READ_SECONDS = 3.0
RESOLVE_COMMAND = "manage.py resolve_order_log"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A stored position that does not belong to the broker's current log."""

    topic: str
    partition: int
    detail: str

    @property
    def name(self) -> str:
        return f"{self.topic}[{self.partition}]"


def _broker_config() -> dict[str, Any]:
    return {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "log_level": 0,
            **settings.KAFKA_CLIENT_CONFIG}


def _reader_config(group: str) -> dict[str, Any]:
    """A reader that joins no group and commits nothing: it only looks at the log."""
    return {**_broker_config(), "group.id": f"{group}-log-check", "enable.auto.commit": False,
            "isolation.level": "read_uncommitted"}


def topic_id(topic: str) -> str:
    """The broker's id of the topic's current incarnation."""
    admin = AdminClient(_broker_config())
    futures = admin.describe_topics(TopicCollection([topic]),
                                    request_timeout=BROKER_TIMEOUT_SECONDS)
    return str(futures[topic].result().topic_id)


def _true_end(consumer: Consumer, topic: str, partition: int, start: int, high: int) -> int:
    """One past the last record: the high watermark, or further if the last batch holds
    records above it."""
    if high <= start:
        return high
    consumer.assign([TopicPartition(topic, partition, high - 1)])
    end = high
    deadline = time.monotonic() + LAST_BATCH_READ_SECONDS
    seen = False
    while time.monotonic() < deadline:
        messages = consumer.consume(500, 0.5)
        records = [m for m in messages if m.error() is None and m.offset() is not None]
        if not records and seen:
            break
        for message in records:
            seen = True
            end = max(end, int(message.offset() or 0) + 1)
    return end


def find_mismatches(*, group: str, topic: str,
                    stored: Mapping[int, tuple[int, str]]) -> tuple[str, list[Mismatch]]:
    """The broker's current topic id, and each partition whose stored (offset, log id)
    does not belong to the current log. Raises `KafkaException` if the broker does not
    answer."""
    current_id = topic_id(topic)
    mismatches: list[Mismatch] = []
    consumer = Consumer(_reader_config(group))
    try:
        for partition, (offset, log_id) in sorted(stored.items()):
            if log_id and log_id != current_id:
                mismatches.append(Mismatch(
                    topic, partition,
                    f"the log was recreated (topic id {current_id}, offsets stored for "
                    f"{log_id})"))
                continue
            start, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=BROKER_TIMEOUT_SECONDS, cached=False)
            if offset <= high:
                continue
            end = _true_end(consumer, topic, partition, start, high)
            if offset > end:
                mismatches.append(Mismatch(
                    topic, partition,
                    f"the stored offset {offset} is beyond the log's end {end}"))
    finally:
        consumer.close()
    return current_id, mismatches


def _stored(group: str, topic: str, partitions: Iterable[int]) -> dict[int, tuple[int, str]]:
    rows = PartitionOwnership.objects.filter(group=group, topic=topic,
                                             partition__in=list(partitions))
    return {row.partition: (row.next_offset, row.log_id) for row in rows}


def _refuse(name: str, detail: str, *, until: str) -> None:
    if name not in declared_not_ready():
        logger.error("refusing %s: %s; nothing is consumed from it until %s",
                     name, detail, until)
    declare_not_ready(name, f"{detail}; {until}")


def verified_offsets(*, group: str, topic: str, offsets: Mapping[int, int]) -> dict[int, int]:
    """The claimed partitions whose stored offsets belong to the broker's current log,
    with their offsets; each other one is refused (logged once, named by `/ready`). The
    current topic id is stored beside the offsets of the partitions taken."""
    try:
        current_id, mismatches = find_mismatches(
            group=group, topic=topic, stored=_stored(group, topic, offsets))
    except KafkaException as exc:
        for partition in offsets:
            _refuse(f"{topic}[{partition}]", f"its log could not be checked ({exc})",
                    until="the broker answers")
        return {}
    refused = {mismatch.partition for mismatch in mismatches}
    for mismatch in mismatches:
        _refuse(mismatch.name, mismatch.detail, until=f"`{RESOLVE_COMMAND}` resolves it")
    taken = {partition: offset for partition, offset in offsets.items()
             if partition not in refused}
    PartitionOwnership.objects.filter(group=group, topic=topic, partition__in=list(taken)
                                      ).exclude(log_id=current_id).update(log_id=current_id)
    for partition in taken:
        declare_ready(f"{topic}[{partition}]")
    return taken


def now_matching(*, group: str, topic: str, partitions: Iterable[int]) -> set[int]:
    """Of these refused partitions, the ones whose stored offsets belong to the broker's
    current log now (an operator re-based them): to be claimed again."""
    wanted = set(partitions)
    try:
        _, mismatches = find_mismatches(group=group, topic=topic,
                                        stored=_stored(group, topic, wanted))
    except KafkaException:
        return set()
    return wanted - {mismatch.partition for mismatch in mismatches}


def forget(*, topic: str, partitions: Iterable[int]) -> None:
    """Partitions this process no longer owns are no longer its reason to be unready."""
    for partition in partitions:
        declare_ready(f"{topic}[{partition}]")


def rebase(*, group: str, topic: str) -> list[Mismatch]:
    """Point each mismatched partition's stored offset at the start of the current log and
    store its topic id; return what was re-based. Every request in the current log is then
    consumed: the processor refuses one it already applied (the same order id or client
    order id)."""
    stored = _stored(group, topic, PartitionOwnership.objects.filter(
        group=group, topic=topic).values_list("partition", flat=True))
    current_id, mismatches = find_mismatches(group=group, topic=topic, stored=stored)
    consumer = Consumer(_reader_config(group))
    try:
        for mismatch in mismatches:
            start, _ = consumer.get_watermark_offsets(
                TopicPartition(topic, mismatch.partition), timeout=BROKER_TIMEOUT_SECONDS,
                cached=False)
            PartitionOwnership.objects.filter(
                group=group, topic=topic, partition=mismatch.partition
            ).update(next_offset=start, log_id=current_id)
    finally:
        consumer.close()
    return mismatches
