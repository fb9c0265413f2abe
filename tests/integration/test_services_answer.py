"""The three services the launcher started for this run answer: a Redis key and a database
row round-trip, and the topics exist with their partitions."""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis as redis_lib
from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.processing import selectors, services
from oms.kafka.topics import TOPICS, dead_letter_topic


def test_redis_key_round_trips(redis_client: redis_lib.Redis) -> None:
    redis_client.set("test:round-trip", "42", ex=10)
    assert redis_client.get("test:round-trip") == b"42"
    assert 0 < redis_client.ttl("test:round-trip") <= 10


@pytest.mark.django_db
def test_database_row_round_trips_through_the_ledger() -> None:
    user = get_user_model().objects.create(username="round-trip")
    services.deposit(user_id=user.pk, asset="USDT", amount=Decimal("100.000000000000000001"),
                     reference="rt-1")
    [balance] = selectors.balances_of(user_id=user.pk)
    assert balance.available == Decimal("100.000000000000000001")


def test_topics_exist_with_three_partitions_and_dead_letter_companions() -> None:
    topics = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS}).list_topics(
        timeout=10
    ).topics
    for name in TOPICS:
        assert len(topics[name].partitions) == 3
        assert dead_letter_topic(name) in topics
