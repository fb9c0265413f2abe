"""The process-wide Redis client (one per URL), with short timeouts so a Redis outage turns
into a fast, clear error instead of a hung request.

Each thread sends its commands and pipelines on a connection of its own, held from one
command to the next, rather than checking one out of the pool for every command: redis-py
8's checkout and release (a lock, deprecation checks of the arguments, metrics hooks, an
event dispatch) and its retry wrapper cost order entry more CPU than its two commands'
own work (py-spy, issue 17). The held connection keeps what the checkout promised:
- it belongs to this process: one inherited through `fork` (gunicorn's workers) shares its
  socket with the parent, so the child makes its own;
- it is ready to send: before each use a socket poll drops a connection that Redis closed
  (a restart) or that holds data nobody asked for, as the pool's checkout does, so an
  idle connection never fails the request that finds it dead;
- a command that failed other than by Redis's reply (a timeout, a dropped socket, an
  interruption) may have left a reply unread, so its connection is dropped; the next
  command connects afresh.
A pipeline that WATCHes, or runs scripts registered on it, keeps redis-py's own pooled
execution (the pool also serves pub/sub); scripts sent by SHA (`execute_with_scripts`,
`run_script`) take the held connection.

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
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.commands.core import Script
from redis.connection import AbstractConnection
from redis.retry import Retry
from redis.typing import EncodableT

from oms.resilience.breakers import REDIS, BreakerOpen, breaker
from oms.resilience.retry import retrying

TIMEOUT_SECONDS = 2.0
OUTAGES: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
T = TypeVar("T")
# Commands that only read, so repeating them cannot change anything.
READ_COMMANDS = frozenset({"GET", "MGET", "EXISTS", "TTL", "PTTL", "HGET", "HGETALL",
                           "HMGET", "SMEMBERS", "SISMEMBER", "SCARD", "ZRANGE",
                           "ZRANGEBYSCORE", "ZCARD", "LRANGE", "LLEN", "PING"})


class RedisUnavailable(BreakerOpen, redis.ConnectionError):
    """The `redis` breaker is open: the command was not sent."""


class GuardedPipeline(Pipeline):
    """A pipeline whose `execute()` (the one round trip) goes through the breaker, on its
    client's connection of this thread."""

    def __init__(self, client: GuardedRedis, transaction: bool, shard_hint: Any) -> None:
        super().__init__(client.connection_pool, client.response_callbacks, transaction,
                         shard_hint)
        self.owner = client

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        with breaker(REDIS).guard(*OUTAGES, open_error=RedisUnavailable):
            if self.watching or self.scripts:  # WATCH holds a pooled connection across calls
                pooled: list[Any] = super().execute(raise_on_error)
                return pooled
            stack = self.command_stack
            if not stack:
                return []
            # `transaction` is the attribute Pipeline sets, not Redis.transaction().
            transaction = cast(bool, self.transaction) or self.explicit_transaction
            run = self._execute_transaction if transaction else self._execute_pipeline
            try:
                return self.owner.on_held_connection(  # the stubs want Connection, not its base
                    lambda connection: run(connection, stack, raise_on_error))  # type: ignore[arg-type]
            finally:
                self.reset()


class GuardedRedis(redis.Redis):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held = threading.local()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if args and str(args[0]).upper() in READ_COMMANDS:
            return retrying(retry_on=(redis.ConnectionError,))(self._guarded, *args, **options)
        return self._guarded(*args, **options)

    def _guarded(self, *args: Any, **options: Any) -> Any:
        def send(connection: AbstractConnection) -> Any:
            connection.send_command(*args)  # type: ignore[no-untyped-call]
            return self.parse_response(  # type: ignore[no-untyped-call]
                connection, args[0], **options)

        with breaker(REDIS).guard(*OUTAGES, open_error=RedisUnavailable):
            return self.on_held_connection(send)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> GuardedPipeline:
        return GuardedPipeline(self, transaction, shard_hint)

    def on_held_connection(self, operation: Callable[[AbstractConnection], T]) -> T:
        """Run `operation` (a command and its reply) on this thread's connection. Anything
        but Redis's error reply may leave the connection out of step: it is dropped."""
        connection = self._held_connection()
        try:
            return operation(connection)
        except redis.ResponseError:
            raise  # Redis replied: the connection is in step
        except BaseException:
            connection.disconnect()  # type: ignore[no-untyped-call]
            raise

    def _held_connection(self) -> AbstractConnection:
        """This thread's connection, made in this process and ready to send (see the
        module's docstring); it connects on its first command."""
        connection: AbstractConnection | None = getattr(self._held, "connection", None)
        if connection is None or connection.pid != os.getpid():
            pool = self.connection_pool
            connection = self._held.connection = pool.connection_class(**pool.connection_kwargs)
        elif connection.is_connected and _stale(connection):
            connection.disconnect()  # type: ignore[no-untyped-call]
        return connection


def _stale(connection: AbstractConnection) -> bool:
    """Closed by Redis, marked for reconnection (a maintenance notice), or holding data no
    command asked for: the pool's checkout would not hand it out either."""
    try:
        return connection.should_reconnect() or connection.can_read()  # type: ignore[no-untyped-call]
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return True


@functools.cache
def lua_script(source: str) -> Script:
    """A Lua script, its SHA computed once per process (for `run_script`,
    `execute_with_scripts`, or calling it: `lua_script(SOURCE)(keys=..., args=...)`)."""
    return redis_client().register_script(source)


def run_script(script: Script, keys: Sequence[str], args: Sequence[EncodableT]) -> Any:
    """Run a script by its SHA alone (EVALSHA) on this thread's held connection.
    `Script.__call__` does the same through more layers of redis-py; order entry runs two
    scripts per order."""
    client = redis_client()
    return _loading_scripts(
        [script], lambda: client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args))


def execute_with_scripts(build: Callable[[GuardedPipeline], object],
                         scripts: Iterable[Script]) -> list[Any]:
    """A pipeline `build` fills, executed in one round trip, its scripts sent by their SHA
    alone (`pipe.evalsha(script.sha, ...)`). redis-py's own way (`script(client=pipe)`)
    asks Redis `SCRIPT EXISTS` before every execute: a round trip more each time. When
    Redis does not know a script, the pipeline is built and sent again: so it must hold
    only commands that may run twice."""
    def execute() -> list[Any]:
        pipe = redis_client().pipeline(transaction=False)
        build(pipe)
        return pipe.execute()

    return _loading_scripts(scripts, execute)


def _loading_scripts(scripts: Iterable[Script], send: Callable[[], T]) -> T:
    """`send`, sent again once the scripts are loaded if Redis answered that it does not
    know one (a new or restarted Redis: then no script ran)."""
    try:
        return send()
    except redis.exceptions.NoScriptError:
        for script in scripts:
            redis_client().script_load(script.script)
        return send()


@functools.cache
def _client(url: str) -> GuardedRedis:
    client = GuardedRedis.from_url(url, socket_timeout=TIMEOUT_SECONDS,
                                   socket_connect_timeout=TIMEOUT_SECONDS,
                                   health_check_interval=30, retry=Retry(NoBackoff(), 0))
    return cast(GuardedRedis, client)  # from_url builds `cls`


def redis_client() -> GuardedRedis:
    return _client(settings.REDIS_URL)
