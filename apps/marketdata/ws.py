"""The live streams (Channels consumers).

`/ws/market-data`: public. A client sends `{"action": "subscribe" | "unsubscribe",
"symbol": "BTC-USDT", "channel": "ticker" | "trades" | "book"}`. The first `book` message
of a subscription is a `snapshot` (the internal book as the marketdata role cached it,
with its sequence); then `delta` messages each carrying the next sequence number. A client
that sees a gap subscribes again for a fresh snapshot; the server itself sends a fresh
snapshot instead of a delta that would not follow.

`/ws/orders`: the signed-in user's own `executions` events, from the private group
`orders.{user_id}`. It opens with a single-use ticket (`?ticket=`, from `POST
/api/ws-ticket`) or a browser's session (which `apps.accounts.websocket` lets through only
with an allowed `Origin`), never with a long-lived token in the URL; it closes (4401) when
its user logs out or revokes a credential (`apps.accounts.events.STREAMS_ENDED`).

Every connection sends through a bounded `OutboundQueue` drained by its own writer task,
so a slow client degrades alone (tickers conflate, book backlogs become one snapshot,
trades are dropped with a notice, a private stream that overflows is closed), and an
app-level heartbeat (`{"type": "ping"}`, answered by any message, e.g. `{"type":
"pong"}`) closes a client silent for two intervals.

A connection outlives the outages of what feeds it: when the channel layer (Redis) fails,
or the bridge says its broker is gone, or the bridge falls silent, the client gets
`{"type": "stream", "state": "stale", "reason": ...}` and keeps its connection; the
connection rejoins its groups once Redis answers again, and when the bridge beats "live"
the client gets `{"type": "stream", "state": "live"}` (and each book subscription a fresh
snapshot, as deltas were missed meanwhile)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import redis
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from apps.accounts import services as accounts
from apps.accounts.events import streams_group
from apps.marketdata import selectors
from apps.marketdata.bridge import (
    STREAM_GROUP,
    STREAM_SILENT_SECONDS,
    market_group,
    orders_group,
)
from apps.marketdata.domain.book import wire_levels
from apps.marketdata.domain.conflation import (
    BOOK,
    DELTA,
    DROPPED,
    ORDERS,
    RESNAPSHOT,
    SNAPSHOT,
    TICKER,
    TRADES,
    OutboundQueue,
    StreamItem,
)
from apps.orders.selectors import current_instrument_rules

logger = logging.getLogger(__name__)

CHANNELS = (TICKER, TRADES, BOOK)
CLOSE_SILENT = 4000  # no message from the client for two heartbeat intervals
CLOSE_LAGGING = 4008  # a private stream could not keep up
CLOSE_UNAUTHENTICATED = 4401
# How often a connection checks the stream's freshness and, while Redis is down, retries.
WATCH_SECONDS = 0.5
# A channel layer that cannot reach Redis raises these (redis-py's own, or the socket's).
LAYER_ERRORS = (redis.RedisError, OSError)
STALE_LAYER = "channel_layer_unavailable"  # this connection cannot reach Redis
STALE_SOURCE = "source_unavailable"  # the bridge cannot reach the broker
STALE_SILENT = "bridge_silent"  # the bridge stopped beating


class QueuedStreamConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """The bounded queue, its writer task, the heartbeat and the stream's freshness,
    shared by both streams."""

    layer_down = False  # this connection cannot reach the channel layer (Redis)

    @property
    def channel_receive(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        """What Channels awaits for channel-layer messages. Channels assigns the layer's
        raw `receive` here and lets its first error end the connection; we hand it one
        that survives a Redis outage instead, so the client keeps its connection."""
        return self._receive_surviving_outages

    @channel_receive.setter
    def channel_receive(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._layer_receive = receive

    async def _receive_surviving_outages(self) -> dict[str, Any]:
        while True:
            try:
                return await self._layer_receive()
            except LAYER_ERRORS as exc:
                if not self.layer_down:
                    logger.warning("channel layer lost: %s", exc)
                self.layer_down = True
                await asyncio.sleep(WATCH_SECONDS)

    async def start_streaming(self) -> None:
        self.queue = OutboundQueue(settings.MARKETDATA_WS_QUEUE_SIZE)
        self.ready = asyncio.Event()
        self.last_heard = asyncio.get_running_loop().time()
        self.stale_reason: str | None = None
        self.source_live = True
        self.last_stream_beat: float | None = None  # None: no bridge heard yet
        await self.join(STREAM_GROUP)
        self.tasks = [asyncio.create_task(self._write()), asyncio.create_task(self._beat()),
                      asyncio.create_task(self._watch())]

    async def join(self, group: str) -> None:
        """Join a channel-layer group; while Redis is down, remember it for the rejoin."""
        # Not `groups`: Channels' consumers already use that name for auto-joined groups.
        self.joined: set[str] = getattr(self, "joined", set())
        self.joined.add(group)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except LAYER_ERRORS as exc:
            logger.warning("cannot join %s now (will rejoin): %s", group, exc)
            self.layer_down = True

    async def leave(self, group: str) -> None:
        getattr(self, "joined", set()).discard(group)
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except LAYER_ERRORS as exc:
            # Redis lost or will expire the membership; nothing more to undo.
            logger.warning("cannot leave %s: %s", group, exc)

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "tasks", []):
            task.cancel()
        for group in list(getattr(self, "joined", set())):
            await self.leave(group)

    async def md_stream(self, message: dict[str, Any]) -> None:
        """The bridge's beat: whether its source feeds it."""
        self.last_stream_beat = asyncio.get_running_loop().time()
        self.source_live = bool(message["live"])

    def _staleness(self) -> str | None:
        if self.layer_down:
            return STALE_LAYER
        if not self.source_live:
            return STALE_SOURCE
        silent_for = (None if self.last_stream_beat is None
                      else asyncio.get_running_loop().time() - self.last_stream_beat)
        if silent_for is not None and silent_for > STREAM_SILENT_SECONDS:
            return STALE_SILENT
        return None

    async def _rejoin(self) -> None:
        try:
            for group in list(self.joined):
                await self.channel_layer.group_add(group, self.channel_name)
        except LAYER_ERRORS:
            return
        logger.info("channel layer back: rejoined %d groups", len(self.joined))
        self.layer_down = False

    async def _watch(self) -> None:
        """Tell the client when the stream goes stale and when it is live again."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if self.layer_down:
                await self._rejoin()
            reason = self._staleness()
            if reason == self.stale_reason or (reason == STALE_SILENT and self.stale_reason):
                continue  # no change (a silent bridge after an outage is the same outage)
            if reason is not None:
                await self.send_json({"type": "stream", "state": "stale", "reason": reason})
            else:
                await self.send_json({"type": "stream", "state": "live"})
                await self.on_live_again()
            self.stale_reason = reason

    async def on_live_again(self) -> None:
        """What a stream must redo after an outage (nothing by default)."""

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        self.last_heard = asyncio.get_running_loop().time()
        if isinstance(content, dict) and content.get("type") not in ("pong", "ping"):
            await self.on_request(content)

    async def on_request(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "error", "code": "unexpected_message"})

    async def enqueue(self, item: StreamItem) -> None:
        if not self.queue.offer(item):
            logger.warning("closing a lagging %s stream", item.channel)
            await self.close(code=CLOSE_LAGGING)
            return
        self.ready.set()

    async def render(self, item: StreamItem) -> dict[str, Any] | None:
        raise NotImplementedError

    async def _write(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            while (item := self.queue.pop()) is not None:
                message = await self.render(item)
                if message is not None:
                    await self.send_json(message)

    async def _beat(self) -> None:
        interval = settings.MARKETDATA_WS_HEARTBEAT_SECONDS
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            if loop.time() - self.last_heard > 2 * interval:
                await self.close(code=CLOSE_SILENT)
                return
            await self.send_json({"type": "ping"})


@database_sync_to_async
def _symbol_exists(symbol: str) -> bool:
    return current_instrument_rules(symbol=symbol) is not None


class MarketDataConsumer(QueuedStreamConsumer):
    async def connect(self) -> None:
        self.subscriptions: set[tuple[str, str]] = set()
        self.book_sequences: dict[str, int] = {}
        await self.accept()
        await self.start_streaming()

    async def on_live_again(self) -> None:
        for symbol, channel in self.subscriptions:
            if channel == BOOK:  # deltas were missed: start again from a snapshot
                self.book_sequences.pop(symbol, None)
                await self.enqueue(StreamItem(BOOK, symbol, RESNAPSHOT))

    async def on_request(self, content: dict[str, Any]) -> None:
        action, symbol, channel = (content.get("action"), content.get("symbol"),
                                   content.get("channel"))
        if action not in ("subscribe", "unsubscribe") or channel not in CHANNELS \
                or not isinstance(symbol, str) or not await _symbol_exists(symbol):
            await self.send_json({"type": "error", "code": "invalid_subscription",
                                  "request": content})
            return
        key, group = (symbol, channel), market_group(symbol, channel)
        if action == "subscribe":
            self.subscriptions.add(key)
            await self.join(group)
            await self.send_json({"type": "subscribed", "symbol": symbol, "channel": channel})
            if channel == BOOK:
                self.book_sequences.pop(symbol, None)
                await self.enqueue(StreamItem(BOOK, symbol, RESNAPSHOT))
        else:
            self.subscriptions.discard(key)
            await self.leave(group)
            self.queue.discard(channel, symbol)
            self.book_sequences.pop(symbol, None)
            await self.send_json({"type": "unsubscribed", "symbol": symbol, "channel": channel})

    async def md_event(self, message: dict[str, Any]) -> None:
        if (message["symbol"], message["channel"]) in self.subscriptions:
            await self.enqueue(StreamItem(message["channel"], message["symbol"],
                                          message["kind"], message["body"]))

    async def render(self, item: StreamItem) -> dict[str, Any] | None:
        if (item.symbol, item.channel) not in self.subscriptions:
            return None  # unsubscribed meanwhile
        if item.kind == DROPPED:
            return {"type": "dropped", "channel": item.channel, "symbol": item.symbol,
                    "count": item.body["count"]}
        if item.channel == TICKER:
            return {"type": "ticker", **item.body}
        if item.channel == TRADES:
            return {"type": "trade", **item.body}
        return await self._render_book(item)

    async def _render_book(self, item: StreamItem) -> dict[str, Any] | None:
        if item.kind == SNAPSHOT:
            return self._book_message(SNAPSHOT, item.body)
        last = self.book_sequences.get(item.symbol)
        if item.kind == DELTA and last is not None:
            sequence = int(item.body["sequence"])
            if sequence <= last:
                return None  # already in the snapshot sent
            if sequence == last + 1:
                return self._book_message(DELTA, item.body)
        if item.kind == DELTA and last is None:
            return None  # the snapshot this subscription waits for is queued
        view = await sync_to_async(selectors.order_book)(symbol=item.symbol)
        if view is None:
            return {"type": "unavailable", "channel": BOOK, "symbol": item.symbol}
        return self._book_message(SNAPSHOT, {
            "symbol": item.symbol, "sequence": view.sequence, "bids": wire_levels(view.bids),
            "asks": wire_levels(view.asks)})

    def _book_message(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        self.book_sequences[str(body["symbol"])] = int(body["sequence"])
        return {"type": kind, "channel": BOOK, **body}


@database_sync_to_async
def _user_of_ticket(ticket: str) -> Any:
    user_id = accounts.redeem_stream_ticket(ticket=ticket)
    user = (None if user_id is None
            else get_user_model().objects.filter(pk=user_id, is_active=True).first())
    return user or AnonymousUser()


class OrdersConsumer(QueuedStreamConsumer):
    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        if query.get("ticket"):
            user = await _user_of_ticket(query["ticket"][0])
        else:
            user = self.scope.get("user") or AnonymousUser()
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.join(streams_group(user.id))
        await self.join(orders_group(user.id))
        await self.accept()
        await self.start_streaming()

    async def accounts_streams_ended(self, message: dict[str, Any]) -> None:
        """The user logged out or revoked a credential."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def orders_event(self, message: dict[str, Any]) -> None:
        await self.enqueue(StreamItem(ORDERS, "*", ORDERS, {
            "type": "execution", "event": message["event_type"],
            "event_id": message["event_id"], "occurred_at": message["occurred_at"],
            "payload": message["body"]}))

    async def render(self, item: StreamItem) -> dict[str, Any] | None:
        return item.body
