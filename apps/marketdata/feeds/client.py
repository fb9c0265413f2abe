"""The network side of the streaming feeds, kept small: connect with `websockets`, hand
each decoded message to the feed, carry out the commands it returns (send, fetch a REST
snapshot, reconnect), and reconnect with a capped backoff when the connection drops. All
stream feeds share one asyncio loop on one background thread."""

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

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0


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


async def run_stream(feed: StreamFeed, stop: threading.Event) -> None:
    backoff = 1.0
    while not stop.is_set():
        try:
            async with connect(feed.url, ping_interval=20, ping_timeout=20,
                               max_size=2**24) as connection:
                with feed.lock:
                    commands = feed.on_connect()
                await _carry_out(feed, connection, commands)
                backoff = 1.0
                async for raw in connection:
                    if stop.is_set():
                        return
                    with feed.lock:
                        commands = feed.on_message(json.loads(raw))
                    await _carry_out(feed, connection, commands)
        except _ReconnectRequested as exc:
            logger.warning("%s %s: resynchronising: %s", feed.source, feed.symbol, exc)
        except (OSError, WebSocketException, ValueError) as exc:
            logger.warning("%s %s: connection failed: %s", feed.source, feed.symbol, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


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
