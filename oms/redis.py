"""The process-wide Redis client (one connection pool per URL), with short timeouts so a
Redis outage turns into a fast, clear error instead of a hung request."""

from __future__ import annotations

import functools

import redis
from django.conf import settings

TIMEOUT_SECONDS = 2.0


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS,
                                socket_connect_timeout=TIMEOUT_SECONDS, health_check_interval=30)


def redis_client() -> redis.Redis:
    return _client(settings.REDIS_URL)
