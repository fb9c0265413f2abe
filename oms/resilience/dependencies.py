"""The exceptions that mean "a dependency did not answer" rather than "this input is bad":
Redis, PostgreSQL, the broker, or a breaker open on one of them.

A long-running role that meets one of these waits and tries again (`oms.roles`); it never
exits on it, since the dependency usually comes back within seconds."""

from __future__ import annotations

import redis
from confluent_kafka import KafkaException
from django.db import DatabaseError

from oms.kafka.producer import PublishError
from oms.resilience.breakers import BreakerOpen

DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    redis.RedisError, DatabaseError, KafkaException, PublishError, BreakerOpen,
)
