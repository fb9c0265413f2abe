"""The Redis client's connection held per thread (`oms.redis`), against the real Redis: one
connection per thread, kept across commands and pipelines; one Redis closed is replaced
before the next command, which succeeds; one a command failed on (a timeout) or was
interrupted on is dropped, so no late reply is read as the next command's; Redis's error
reply keeps it; a forked child makes its own and leaves the parent's alone."""

from __future__ import annotations

import os
import threading
from typing import cast

import pytest
import redis as redis_lib
from django.conf import settings
from redis.backoff import NoBackoff
from redis.connection import AbstractConnection
from redis.retry import Retry

from oms.redis import GuardedRedis
from oms.redis import redis_client as guarded_client


def connection_id(client: GuardedRedis) -> int:
    """The id Redis gave the connection this thread's commands go on."""
    return int(client.client_id())


def test_a_thread_keeps_its_connection_and_threads_have_their_own() -> None:
    client = guarded_client()
    first = connection_id(client)
    pipeline = client.pipeline()
    pipeline.set("held:a", 1)
    pipeline.get("held:a")
    assert pipeline.execute() == [True, b"1"]
    assert connection_id(client) == first
    others: list[int] = []
    thread = threading.Thread(target=lambda: others.append(connection_id(client)))
    thread.start()
    thread.join()
    assert len(others) == 1
    assert others[0] != first


def test_a_connection_redis_closed_is_replaced_before_the_next_command(
    redis_client: redis_lib.Redis,
) -> None:
    client = guarded_client()
    killed = connection_id(client)
    assert redis_client.client_kill_filter(_id=str(killed)) == 1
    # The command that finds it closed is not failed (as a restart or an idle timeout would).
    assert client.set("held:after-kill", "v") is True
    assert connection_id(client) != killed


def test_a_timed_out_command_drops_its_connection_and_its_late_reply() -> None:
    client = cast(GuardedRedis, GuardedRedis.from_url(settings.REDIS_URL, socket_timeout=0.2,
                                                      retry=Retry(NoBackoff(), 0)))
    timed_out = connection_id(client)
    with pytest.raises(redis_lib.TimeoutError):
        client.blpop(["held:never"], timeout=1)
    client.lpush("held:never", "late")  # BLPOP would now answer, to the old connection only
    assert client.lrange("held:never", 0, -1) == [b"late"]
    assert connection_id(client) != timed_out


def test_a_command_interrupted_before_its_reply_drops_its_connection() -> None:
    client = guarded_client()
    interrupted = connection_id(client)

    def send_then_fail(connection: AbstractConnection) -> None:
        # A reply still to come (in 0.3 s): the next command's poll cannot see it yet.
        connection.send_command("BLPOP", "held:empty", 0.3)  # type: ignore[no-untyped-call]
        raise RuntimeError("interrupted before the reply")

    with pytest.raises(RuntimeError):
        client.on_held_connection(send_then_fail)
    assert client.echo("fresh") == b"fresh"
    assert connection_id(client) != interrupted


def test_an_error_reply_keeps_the_connection() -> None:
    client = guarded_client()
    client.set("held:text", "not a list")
    kept = connection_id(client)
    with pytest.raises(redis_lib.ResponseError, match="WRONGTYPE"):
        client.lpush("held:text", "x")
    pipeline = client.pipeline()
    pipeline.lpush("held:text", "x")
    with pytest.raises(redis_lib.ResponseError, match="WRONGTYPE"):
        pipeline.execute()
    assert connection_id(client) == kept


def test_a_forked_child_makes_its_own_connection_and_leaves_the_parents() -> None:
    client = guarded_client()
    parents = connection_id(client)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write_end, str(connection_id(client)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reply:
        childs = int(reply.read() or 0)
    os.waitpid(child, 0)
    assert childs not in (0, parents)
    # The child's copy of the parent's socket was closed, not shut down: the parent's
    # connection still answers, and is the same one.
    assert connection_id(client) == parents
