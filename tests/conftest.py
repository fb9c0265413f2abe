"""Fixtures shared by every test. `make test` runs pytest inside `python -m oms.launcher run
--throwaway`, so `DATABASE_URL`, `REDIS_URL` and `KAFKA_BOOTSTRAP_SERVERS` point at real,
throwaway services before Django reads its settings."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis as redis_lib
from django.conf import settings

from oms.kafka.producer import EventProducer
from oms.kafka.topics import dead_letter_topic, ensure_topics


@pytest.fixture(scope="session")
def producer() -> Iterator[EventProducer]:
    producer = EventProducer(settings.KAFKA_BOOTSTRAP_SERVERS)
    yield producer
    producer.close()


@pytest.fixture
def redis_client() -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def fresh_topic() -> str:
    """A topic of this test's own (and its dead-letter topic), 3 partitions."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    ensure_topics(settings.KAFKA_BOOTSTRAP_SERVERS, partitions=3, replication_factor=1,
                  names=[name, dead_letter_topic(name)])
    return name


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: object) -> None:
    """Every test starts without the global limits that `migrate` installs on a fresh
    database (tests/integration/risk/test_safe_defaults.py installs them again with
    `migrate`): the flush after each transactional test removes them anyway, so without
    this the first tests of a run would see limits the others do not."""
    from apps.risk.models import RiskLimit

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        RiskLimit.objects.filter(user=None, symbol="").delete()


# The longest request sequence a rate-limit test sends, with room to spare.
RATE_TEST_SECONDS = 15


@pytest.fixture
def inside_one_rate_window() -> None:
    """Rate limits count in fixed windows of the wall clock (`oms.api.throttling`): a test
    whose requests straddle the end of a minute (or an hour) would see its count start
    again and a 429 turn into a 200. A test using this starts well inside one."""
    for period in (60, 3600):
        left = period - time.time() % period
        if left < RATE_TEST_SECONDS:
            time.sleep(left + 0.1)
