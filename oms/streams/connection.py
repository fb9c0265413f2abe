"""One WebSocket connection to the live streams (a Channels consumer), fed in process by
the process's `StreamHub`; each app's `ws.py` subclasses it with its own protocol.

Every message of a stream carries the stream's `seq`. A subscription remembers the last
sequence it queued: the next message must follow it, and anything between comes from the
window (`window`), so what a client receives is gapless unless it is told so with a `gap`
message (the window no longer holds what it missed).

A stream too slow to keep up whose queue refuses a message (a private stream: nothing may
be lost) is closed (4008, reason `slow_reader`); the client resumes with `since`.

An app-level heartbeat (`{"type": "ping"}`, answered by any message, e.g. `{"type":
"pong"}`) closes a client silent for two intervals. While the hub cannot read the broker
or number messages, clients get `{"type": "stream", "state": "stale", "reason": ...}`
and keep their connection; `{"type": "stream", "state": "live"}` when it is over (nothing
was lost meanwhile: the hub resumes where it stopped)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import redis
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from oms.streams.hub import StreamHub, StreamMessage, hub
from oms.streams.queue import PRIVATE, LosslessQueue, OutboundQueue, StreamItem

logger = logging.getLogger(__name__)

CLOSE_SILENT = 4000  # no message from the client for two heartbeat intervals
CLOSE_LAGGING = 4008  # a private stream could not keep up: resume with `since`
CLOSE_INVALID_PARAMETER = 4400  # a query parameter is malformed; the close reason names it
CLOSE_UNAUTHENTICATED = 4401
SLOW_READER = "slow_reader"
# How often a connection checks whether the hub's stream is stale.
WATCH_SECONDS = 0.5
# A channel layer that cannot reach Redis raises these (redis-py's own, or the socket's).
LAYER_ERRORS = (redis.RedisError, OSError)
# Channels makes no channel-layer connection for a consumer whose alias is not configured.
NO_CHANNEL_LAYER = "none"


def as_json(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def _item(message: StreamMessage) -> StreamItem:
    return StreamItem(message.channel, message.symbol, message.kind, seq=message.seq,
                      text=message.text)


def since_of(value: Any) -> int | None:
    """A client's `since`: a non-negative integer, or None when absent or malformed."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


@dataclass(slots=True)
class Subscription:
    """One stream a connection listens to: the last sequence queued for the client, and
    whether a catch-up from the window is under way (live messages wait for it)."""

    stream: str
    channel: str
    symbol: str
    last: int = 0
    catching_up: bool = True


class StreamConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """The bounded queue, its writer task, the heartbeat, the stream's freshness and the
    subscriptions to the hub, shared by every stream (`apps.marketdata.ws`,
    `apps.orders.ws`)."""

    channel_layer_alias = NO_CHANNEL_LAYER

    def make_queue(self) -> OutboundQueue:
        """The connection's bounded queue: lossless here (a full queue closes the
        connection); a stream that may degrade brings its own."""
        return LosslessQueue(settings.MARKETDATA_WS_QUEUE_SIZE)

    async def start_streaming(self) -> None:
        self.hub: StreamHub = hub()
        await self.hub.start()
        self.queue = self.make_queue()
        self.subscriptions: dict[str, Subscription] = {}
        self.ready = asyncio.Event()
        self.drained = asyncio.Event()  # set when the writer made room in the queue
        self.last_heard = asyncio.get_running_loop().time()
        self.stale_reason: str | None = None
        self.closing = False
        self.tasks = {asyncio.create_task(self._write()), asyncio.create_task(self._beat()),
                      asyncio.create_task(self._watch())}

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "tasks", ()):
            task.cancel()
        for stream in list(getattr(self, "subscriptions", {})):
            self.hub.forget(stream, self)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=as_json(content))

    async def subscribe(self, subscription: Subscription, since: int | None) -> int:
        """Listen to a stream from `since` (what was missed is replayed) or from now;
        return the stream's sequence at this moment."""
        self.subscriptions[subscription.stream] = subscription
        self.hub.listen(subscription.stream, self)
        latest = await self.hub.latest_seq(subscription.stream)
        subscription.last = latest if since is None else since
        return latest

    def unsubscribe(self, stream: str) -> None:
        self.subscriptions.pop(stream, None)
        self.hub.forget(stream, self)

    def on_message(self, message: StreamMessage) -> None:
        """From the hub: queue the message if it follows what was queued; fetch what is
        missing first if it does not."""
        subscription = self.subscriptions.get(message.stream)
        if subscription is None or subscription.catching_up \
                or message.seq <= subscription.last:
            return
        if message.seq == subscription.last + 1 or self.supersedes(message):
            subscription.last = message.seq
            self.enqueue(_item(message))
            return
        subscription.catching_up = True
        self._spawn(self.catch_up(subscription, until=message.seq))

    def supersedes(self, message: StreamMessage) -> bool:
        """Whether a message that does not follow the last one queued may be queued
        anyway (it carries a whole state); by default none may."""
        return False

    async def catch_up(self, subscription: Subscription, *, until: int) -> None:
        """Queue what the stream sent after `subscription.last` up to `until` and on to
        the last message handed out here, from the window; past the window, a gap
        (`on_gap`). Live messages are held back meanwhile and are fetched here instead,
        so the order is exact."""
        subscription.catching_up = True
        try:
            if subscription.last > until:  # a sequence the stream never reached
                self.on_gap(subscription, until)
            while subscription.last < max(until, self.hub.latest.get(subscription.stream, 0)):
                missed = await self.hub.since(subscription.stream, subscription.last)
                if self.subscriptions.get(subscription.stream) is not subscription:
                    return  # unsubscribed meanwhile
                if missed is None:
                    self.on_gap(subscription,
                                await self.hub.latest_seq(subscription.stream))
                    continue
                for message in missed:
                    await self._room()  # a replay goes at the reader's pace, never over
                    if message.seq > subscription.last:
                        subscription.last = message.seq
                        self.enqueue(_item(message))
                if not missed:
                    return  # nothing numbered beyond `last` anywhere
        finally:
            subscription.catching_up = False

    async def _room(self) -> None:
        while self.queue.full:
            self.drained.clear()
            await self.drained.wait()

    def on_gap(self, subscription: Subscription, latest: int) -> None:
        """The window no longer holds what the subscription missed: say so, and go on
        from `latest`."""
        gap = {"from": subscription.last + 1, "to": latest}
        subscription.last = latest
        self.enqueue(StreamItem(subscription.channel, subscription.symbol, "gap", gap))

    def enqueue(self, item: StreamItem) -> None:
        if self.closing:
            return
        if not self.queue.offer(item):
            logger.warning("closing a lagging %s stream", item.channel)
            self.closing = True
            self._spawn(self._close_lagging())
            return
        self.ready.set()

    async def _close_lagging(self) -> None:
        """Stop writing and close with the reason; the client resumes from the last
        sequence it received."""
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        await self.close(code=CLOSE_LAGGING, reason=SLOW_READER)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def render(self, item: StreamItem) -> list[str]:
        """The texts one queued item becomes (none when it is out of date)."""
        if item.kind == "gap":
            return [as_json({"type": "gap", "channel": item.channel, **self._where(item),
                           **item.body})]
        return [item.text]

    @staticmethod
    def _where(item: StreamItem) -> dict[str, str]:
        return {} if item.symbol == PRIVATE else {"symbol": item.symbol}

    async def _write(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            while (item := self.queue.pop()) is not None:
                self.drained.set()
                for text in await self.render(item):
                    await self.send(text_data=text)

    async def _beat(self) -> None:
        interval = settings.MARKETDATA_WS_HEARTBEAT_SECONDS
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            if loop.time() - self.last_heard > 2 * interval:
                await self.close(code=CLOSE_SILENT)
                return
            await self.send_json({"type": "ping"})

    async def _watch(self) -> None:
        """Tell the client when the stream goes stale and when it is live again."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            reason = self.hub.stale_reason
            if reason == self.stale_reason:
                continue
            if reason is not None:
                await self.send_json({"type": "stream", "state": "stale", "reason": reason})
            else:
                await self.send_json({"type": "stream", "state": "live"})
            self.stale_reason = reason

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) \
            -> None:
        self.last_heard = asyncio.get_running_loop().time()
        try:
            content = json.loads(text_data or bytes_data or b"")
        except ValueError:
            await self.send_json({"type": "error", "code": "invalid_json"})
            return
        if isinstance(content, dict) and content.get("type") not in ("pong", "ping"):
            await self.on_request(content)

    async def on_request(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "error", "code": "unexpected_message"})
