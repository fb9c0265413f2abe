"""The topics of ARCHITECTURE.md and their dead-letter companions, and the one function
that creates them with the seed's configuration: 7 days' retention, the replication factor
and partition counts the caller takes from settings (1 replica locally, 3 in production),
and `min.insync.replicas` one below the replication factor, so that `acks=all` means "on
at least two brokers" in production while one broker may be down. (Compression is the
producers' `snappy`, `oms.kafka.config`; the topics keep what producers send.) The
launcher calls it for local brokers; `manage.py create_topics` calls it against a real
cluster."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

ORDERS = "orders"
EXECUTIONS = "executions"
PRICES = "prices"
RISK_EVENTS = "risk-events"
TOPICS: tuple[str, ...] = (ORDERS, EXECUTIONS, PRICES, RISK_EVENTS)

RETENTION_MS = 7 * 24 * 3600 * 1000  # the seed's 7 days


def dead_letter_topic(topic: str) -> str:
    """Where messages of `topic` that fail validation go, so they never block a partition."""
    return f"{topic}.dlq"


def partition_for_key(key: str, partitions: int) -> int:
    """The partition our producers put a message with `key` in: librdkafka's default
    partitioner (`consistent_random`) takes the CRC-32 of a non-empty key modulo the count."""
    return zlib.crc32(key.encode()) % partitions


def all_topics() -> list[str]:
    return [*TOPICS, *(dead_letter_topic(topic) for topic in TOPICS)]


def topic_config(replication_factor: int) -> dict[str, str]:
    """The configuration every topic is created with."""
    return {"retention.ms": str(RETENTION_MS),
            "min.insync.replicas": str(max(1, replication_factor - 1))}


def ensure_topics(
    bootstrap_servers: str,
    *,
    partitions: int,
    replication_factor: int,
    partitions_by_topic: Mapping[str, int] | None = None,
    names: Iterable[str] | None = None,
    timeout: float = 15.0,
    client_config: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create the missing topics; return the names created. Each has `partitions`, or its
    own count in `partitions_by_topic`. Existing topics are left as they are (changing
    partition counts would move keys between partitions).
    `client_config` carries what a real cluster needs (TLS, SASL)."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, **(client_config or {})})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [name for name in (names or all_topics()) if name not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [
            NewTopic(
                name,
                num_partitions=(partitions_by_topic or {}).get(name, partitions),
                replication_factor=replication_factor,
                config=topic_config(replication_factor),
            )
            for name in wanted
        ],
        operation_timeout=timeout,
    )
    for future in futures.values():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    return wanted
