"""The process-wide Redis client (one connection pool per URL), with short timeouts so a
Redis outage turns into a fast, clear error instead of a hung request.

Every command and every pipeline goes through the `redis` circuit breaker. While it is
open a call fails at once with `RedisUnavailable`, which is a `redis.ConnectionError`, so
every caller's existing `except redis.RedisError` path handles it unchanged. Connection
errors and timeouts count as failures; a reply (even an error reply such as WRONGTYPE)
means Redis answered.

redis-py's own retry (by default 10 attempts on every command) is off: it would repeat
non-idempotent commands (INCR of the rate limits) and hide an outage from the breaker.
Read commands instead retry under the seed policy (`oms.resilience.retry`) on a dropped
connection; a timeout is not retried, since it already cost `TIMEOUT_SECONDS`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, cast

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.commands.core import Script
from redis.retry import Retry

from oms.resilience.breakers import REDIS, BreakerOpen, breaker
from oms.resilience.retry import retrying

TIMEOUT_SECONDS = 2.0
OUTAGES: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
# Commands that only read, so repeating them cannot change anything.
READ_COMMANDS = frozenset({"GET", "MGET", "EXISTS", "TTL", "PTTL", "HGET", "HGETALL",
                           "HMGET", "SMEMBERS", "SISMEMBER", "SCARD", "ZRANGE",
                           "ZRANGEBYSCORE", "ZCARD", "LRANGE", "LLEN", "PING"})


class RedisUnavailable(BreakerOpen, redis.ConnectionError):
    """The `redis` breaker is open: the command was not sent."""


class GuardedPipeline(Pipeline):
    """A pipeline whose `execute()` (the one round trip) goes through the breaker."""

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        with breaker(REDIS).guard(*OUTAGES, open_error=RedisUnavailable):
            result: list[Any] = super().execute(raise_on_error)
            return result


class GuardedRedis(redis.Redis):
    def execute_command(self, *args: Any, **options: Any) -> Any:
        if args and str(args[0]).upper() in READ_COMMANDS:
            return retrying(retry_on=(redis.ConnectionError,))(self._guarded, *args, **options)
        return self._guarded(*args, **options)

    def _guarded(self, *args: Any, **options: Any) -> Any:
        with breaker(REDIS).guard(*OUTAGES, open_error=RedisUnavailable):
            return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> GuardedPipeline:
        return GuardedPipeline(self.connection_pool, self.response_callbacks, transaction,
                               shard_hint)


def execute_with_scripts(build: Callable[[GuardedPipeline], object],
                         scripts: Iterable[Script]) -> list[Any]:
    """A pipeline `build` fills, executed in one round trip, its scripts sent by their SHA
    alone (`pipe.evalsha(script.sha, ...)`). redis-py's own way (`script(client=pipe)`)
    asks Redis `SCRIPT EXISTS` before every execute: a round trip more each time. Here
    the scripts are loaded only when Redis answers that it does not know one (a new or
    restarted Redis), and the pipeline is then built and sent again: so it must hold only
    commands that may run twice."""
    try:
        pipe = redis_client().pipeline(transaction=False)
        build(pipe)
        return pipe.execute()
    except redis.exceptions.NoScriptError:
        for script in scripts:
            redis_client().script_load(script.script)
        pipe = redis_client().pipeline(transaction=False)
        build(pipe)
        return pipe.execute()


@functools.cache
def _client(url: str) -> GuardedRedis:
    client = GuardedRedis.from_url(url, socket_timeout=TIMEOUT_SECONDS,
                                   socket_connect_timeout=TIMEOUT_SECONDS,
                                   health_check_interval=30, retry=Retry(NoBackoff(), 0))
    return cast(GuardedRedis, client)  # from_url builds `cls`


def redis_client() -> GuardedRedis:
    return _client(settings.REDIS_URL)
