"""The seed's Kafka configuration, read back from the real broker: topics created with
7 days' retention, the replication factor and partition counts asked for (per topic where
configured) and `min.insync.replicas` to match; producers with `acks=all`, idempotence and
snappy compression (which the broker accepts); consumer groups named as the seed names them.

The local broker (Tansu) reports through DescribeConfigs the configuration a topic was
created with, and replicas through the metadata; it runs one broker, so replication above 1
is checked on the request we build (`topic_config`), not on the broker."""

from __future__ import annotations

import uuid
from io import StringIO
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource
from django.conf import settings
from django.core.management import call_command

from apps.marketdata.consumers import MARKETDATA_GROUP
from apps.processing.processor import PROCESSOR_GROUP
from apps.risk.consumers import RISK_GROUP
from oms.kafka import topics
from oms.kafka.config import producer_config

SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000


def admin() -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})


def described(name: str) -> dict[str, str]:
    client = admin()  # held until the answer is in: a destroyed client fails its futures
    [future] = client.describe_configs([ConfigResource(ConfigResource.Type.TOPIC,
                                                       name)]).values()
    return {key: entry.value for key, entry in future.result(timeout=10).items()}


def partition_count(name: str) -> int:
    return len(admin().list_topics(name, timeout=10).topics[name].partitions)


def test_the_projects_topics_keep_events_seven_days() -> None:
    for name in topics.all_topics():
        assert described(name)["retention.ms"] == str(SEVEN_DAYS_MS), name


def test_created_topics_carry_retention_replication_and_partitions_per_topic() -> None:
    base = f"cfg-{uuid.uuid4().hex[:8]}"
    wide, narrow = f"{base}-wide", f"{base}-narrow"
    created = topics.ensure_topics(settings.KAFKA_BOOTSTRAP_SERVERS, partitions=2,
                                   replication_factor=1, partitions_by_topic={wide: 5},
                                   names=[wide, narrow])
    assert created == [wide, narrow]
    assert (partition_count(wide), partition_count(narrow)) == (5, 2)
    config = described(wide)
    assert config["retention.ms"] == str(SEVEN_DAYS_MS)
    assert config["min.insync.replicas"] == "1"
    replicas = admin().list_topics(wide, timeout=10).topics[wide].partitions[0].replicas
    assert len(replicas) == 1


def test_acks_all_waits_for_two_of_three_replicas_in_production() -> None:
    assert topics.topic_config(3) == {"retention.ms": str(SEVEN_DAYS_MS),
                                      "min.insync.replicas": "2"}
    assert topics.topic_config(1)["min.insync.replicas"] == "1"


def test_create_topics_takes_partitions_and_replication_from_settings(
        settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"cmd-{uuid.uuid4().hex[:8]}"
    settings.KAFKA_TOPIC_PARTITIONS = 2
    settings.KAFKA_TOPIC_PARTITIONS_BY_TOPIC = {name: 4}
    settings.KAFKA_REPLICATION_FACTOR = 1
    monkeypatch.setattr(topics, "all_topics", lambda: [name])  # not the shared topics
    out = StringIO()
    call_command("create_topics", stdout=out)
    assert f"created: {name}" in out.getvalue()
    assert partition_count(name) == 4
    assert described(name)["retention.ms"] == str(SEVEN_DAYS_MS)


def test_producers_use_acks_all_idempotence_and_snappy_and_the_broker_takes_it() -> None:
    config = producer_config(settings.KAFKA_BOOTSTRAP_SERVERS)
    assert (config["acks"], config["enable.idempotence"], config["compression.type"]) == (
        "all", True, "snappy")
    name = f"snappy-{uuid.uuid4().hex[:8]}"
    topics.ensure_topics(settings.KAFKA_BOOTSTRAP_SERVERS, partitions=1,
                         replication_factor=1, names=[name])
    producer = Producer(config)
    errors: list[object] = []
    producer.produce(name, b"x" * 10_000, key=b"k",
                     on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(10)
    assert errors == [None]
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
                         "group.id": f"check-{name}", "auto.offset.reset": "earliest"})
    consumer.subscribe([name])
    try:
        message = None
        for _ in range(50):
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                break
        assert message is not None
        assert message.value() == b"x" * 10_000
    finally:
        consumer.close()


def test_consumer_groups_are_named_as_the_seed_names_them() -> None:
    assert (PROCESSOR_GROUP, RISK_GROUP, MARKETDATA_GROUP) == (
        "order-processor-group", "risk-engine-group", "market-data-group")
