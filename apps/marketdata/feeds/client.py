"""The network side of the streaming feeds, kept small: connect with `websockets`, hand
each decoded message to the feed, carry out the commands it returns (send, fetch a REST
snapshot, reconnect), and reconnect with a backoff when the connection drops. All stream
feeds share one asyncio loop on one background thread.

Connection attempts go through the venue's circuit breaker (`feed:<source>`, shared by
the venue's symbols): failed attempts wait the seed's backoff (100 ms doubling, at most
5 s); once the breaker opens, nobody dials the venue until its trial, and each failed
trial doubles that wait (30 s, 60 s, ... capped), so a venue outage costs neither side a
reconnect storm."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.request
from collections.abc import Iterable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from apps.marketdata.feeds.base import Command, FetchSnapshot, Reconnect, Send, StreamFeed
from oms.resilience.breakers import BreakerOpen, breaker, feed_breaker_name
from oms.resilience.retry import backoff_delay

logger = logging.getLogger(__name__)

CONNECT_FAILURES = (OSError, WebSocketException)
# Longest single sleep, so a stop request is noticed soon even during a long wait.
STOP_CHECK_SECONDS = 1.0


class _ReconnectRequested(Exception):
    pass


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the feed's https URL
        return json.loads(response.read())


async def _carry_out(feed: StreamFeed, connection: ClientConnection,
                     commands: Iterable[Command]) -> None:
    for command in commands:
        if isinstance(command, Send):
            await connection.send(json.dumps(command.message))
        elif isinstance(command, FetchSnapshot):
            body = await asyncio.to_thread(_fetch_json, command.url)
            with feed.lock:
                follow_up = feed.on_snapshot(body)
            await _carry_out(feed, connection, follow_up)
        elif isinstance(command, Reconnect):
            raise _ReconnectRequested(command.reason)


async def _idle(seconds: float, stop: threading.Event) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not stop.is_set():
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return
        await asyncio.sleep(min(remaining, STOP_CHECK_SECONDS))


async def _session(feed: StreamFeed, connection: ClientConnection, stop: threading.Event) -> None:
    with feed.lock:
        commands = feed.on_connect()
    await _carry_out(feed, connection, commands)
    async for raw in connection:
        if stop.is_set():
            return
        with feed.lock:
            commands = feed.on_message(json.loads(raw))
        await _carry_out(feed, connection, commands)


async def run_stream(feed: StreamFeed, stop: threading.Event) -> None:
    guard = breaker(feed_breaker_name(feed.source))
    failures = 0
    while not stop.is_set():
        try:
            with guard.guard(*CONNECT_FAILURES):
                connection = await connect(feed.url, ping_interval=20, ping_timeout=20,
                                           max_size=2**24)
        except BreakerOpen as exc:
            await _idle(exc.retry_after, stop)
            continue
        except CONNECT_FAILURES as exc:
            failures += 1
            logger.warning("%s %s: connection failed: %s", feed.source, feed.symbol, exc)
            await _idle(backoff_delay(failures), stop)
            continue
        failures = 0
        try:
            async with connection:
                await _session(feed, connection, stop)
        except _ReconnectRequested as exc:
            logger.warning("%s %s: resynchronising: %s", feed.source, feed.symbol, exc)
        except (*CONNECT_FAILURES, ValueError) as exc:
            logger.warning("%s %s: connection lost: %s", feed.source, feed.symbol, exc)
            await _idle(backoff_delay(1), stop)


def start_streams(feeds: Iterable[StreamFeed], stop: threading.Event) -> threading.Thread | None:
    """Run every stream feed on one daemon thread until `stop` is set."""
    streams = list(feeds)
    if not streams:
        return None

    async def main() -> None:
        await asyncio.gather(*(run_stream(feed, stop) for feed in streams))

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True,
                              name="marketdata-feeds")
    thread.start()
    return thread
