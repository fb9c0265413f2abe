"""The live streams (Channels consumers), fed in process by this process's `StreamHub`.

`/ws/market-data`: public. A client sends `{"action": "subscribe" | "unsubscribe",
"symbol": "BTC-USDT", "channel": "ticker" | "trades" | "book"}`, optionally with `"since":
<seq>` to resume. `/ws/orders`: the signed-in user's own `executions` events (`?since=`
to resume). The protocol is in the README ("Live streams") and `docs/asyncapi.yaml`.

Every message of a stream carries the stream's `seq`. A subscription remembers the last
sequence it queued: the next message must follow it, and anything between comes from the
window (`stream_window`), so what a client receives is gapless unless it is told so with
a `gap` message (the window no longer holds what it missed). A book starts with a
`snapshot`; a `snapshot` replaces the book, and one may come instead of deltas a slow
reader could not take (latest state wins, `domain/conflation.py`).

`/ws/orders` opens with a single-use ticket (`?ticket=`, from `POST /api/ws-ticket`) or a
browser's session (which `apps.accounts.websocket` lets through only with an allowed
`Origin`), never with a long-lived token in the URL; it closes (4401) when its user logs
out or revokes a credential: that message comes through the Redis channel layer
(`apps.accounts.events.STREAMS_ENDED`), the one use of the layer left, since the process
that logs out is not the one holding the socket. A private stream too slow to keep up is
closed (4008, reason `slow_reader`) rather than losing a message; the client resumes with
`since`.

An app-level heartbeat (`{"type": "ping"}`, answered by any message, e.g. `{"type":
"pong"}`) closes a client silent for two intervals. While the hub cannot read the broker
or number messages, clients get `{"type": "stream", "state": "stale", "reason": ...}`
and keep their connection; `{"type": "stream", "state": "live"}` when it is over (nothing
was lost meanwhile: the hub resumes where it stopped)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import redis
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from apps.accounts import services as accounts
from apps.accounts.events import streams_group
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
from apps.marketdata.hub import StreamHub, StreamMessage, hub, market_stream, orders_stream
from apps.orders.selectors import current_instrument_rules

logger = logging.getLogger(__name__)

CHANNELS = (TICKER, TRADES, BOOK)
CLOSE_SILENT = 4000  # no message from the client for two heartbeat intervals
CLOSE_LAGGING = 4008  # a private stream could not keep up: resume with `since`
CLOSE_INVALID_SINCE = 4400  # `since` is not a sequence
CLOSE_UNAUTHENTICATED = 4401
SLOW_READER = "slow_reader"
# How often a connection checks whether the hub's stream is stale.
WATCH_SECONDS = 0.5
# A channel layer that cannot reach Redis raises these (redis-py's own, or the socket's).
LAYER_ERRORS = (redis.RedisError, OSError)
# Channels makes no channel-layer connection for a consumer whose alias is not configured.
NO_CHANNEL_LAYER = "none"


def _json(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def _item(message: StreamMessage) -> StreamItem:
    return StreamItem(message.channel, message.symbol, message.kind, seq=message.seq,
                      text=message.text)


def _since(value: Any) -> int | None:
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
    subscriptions to the hub, shared by both streams."""

    channel_layer_alias = NO_CHANNEL_LAYER

    async def start_streaming(self) -> None:
        self.hub: StreamHub = hub()
        await self.hub.start()
        self.queue = OutboundQueue(settings.MARKETDATA_WS_QUEUE_SIZE)
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
        await self.send(text_data=_json(content))

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
        # A ticker is a whole state; a book message that does not follow what was sent
        # becomes the latest snapshot when it is written (`_render_book`).
        if message.seq == subscription.last + 1 or message.channel in (TICKER, BOOK):
            subscription.last = message.seq
            self.enqueue(_item(message))
            return
        subscription.catching_up = True
        self._spawn(self.catch_up(subscription, until=message.seq))

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
            return [_json({"type": "gap", "channel": item.channel, **self._where(item),
                           **item.body})]
        return [item.text]

    @staticmethod
    def _where(item: StreamItem) -> dict[str, str]:
        return {} if item.channel == ORDERS else {"symbol": item.symbol}

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


@database_sync_to_async
def _symbol_exists(symbol: str) -> bool:
    return current_instrument_rules(symbol=symbol) is not None


class MarketDataConsumer(StreamConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.start_streaming()
        self.sent_books: dict[str, int] = {}  # the book sequence last sent, per symbol

    async def on_request(self, content: dict[str, Any]) -> None:
        action, symbol, channel = (content.get("action"), content.get("symbol"),
                                   content.get("channel"))
        since = _since(content.get("since"))
        if action not in ("subscribe", "unsubscribe") or channel not in CHANNELS \
                or not isinstance(symbol, str) or not await _symbol_exists(symbol) \
                or (content.get("since") is not None and since is None):
            await self.send_json({"type": "error", "code": "invalid_subscription",
                                  "request": content})
            return
        stream = market_stream(symbol, channel)
        if action == "unsubscribe":
            self.unsubscribe(stream)
            self.queue.discard(channel, symbol)
            self.sent_books.pop(symbol, None)
            await self.send_json({"type": "unsubscribed", "symbol": symbol,
                                  "channel": channel})
            return
        subscription = Subscription(stream, channel, symbol)
        latest = await self.subscribe(subscription, since)
        await self.send_json({"type": "subscribed", "symbol": symbol, "channel": channel,
                              "seq": latest})
        if channel == BOOK and since is None:
            self.sent_books.pop(symbol, None)
            self.enqueue(StreamItem(BOOK, symbol, RESNAPSHOT))
        elif channel == BOOK:
            self.sent_books[symbol] = since or 0
        await self.catch_up(subscription, until=latest)

    def on_gap(self, subscription: Subscription, latest: int) -> None:
        """A book past the window: the gap, then a fresh snapshot (the latest state)."""
        if subscription.channel != BOOK:
            super().on_gap(subscription, latest)
            return
        gap = {"from": subscription.last + 1, "to": latest}
        subscription.last = latest
        self.enqueue(StreamItem(BOOK, subscription.symbol, RESNAPSHOT, {"gap": gap}))

    async def render(self, item: StreamItem) -> list[str]:
        if market_stream(item.symbol, item.channel) not in self.subscriptions:
            return []  # unsubscribed meanwhile
        if item.kind == DROPPED:
            return [_json({"type": "gap", "channel": item.channel, "symbol": item.symbol,
                           "from": item.body["from"], "to": item.body["to"],
                           "reason": SLOW_READER})]
        if item.channel != BOOK:
            return await super().render(item)
        return await self._render_book(item)

    async def _render_book(self, item: StreamItem) -> list[str]:
        sent = self.sent_books.get(item.symbol)
        if item.kind == SNAPSHOT and (sent is None or item.seq > sent):
            self.sent_books[item.symbol] = item.seq
            return [item.text]
        if item.kind in (SNAPSHOT, DELTA) and sent is not None:
            if item.seq <= sent:
                return []  # already in the snapshot sent
            if item.seq == sent + 1 or item.kind == SNAPSHOT:
                self.sent_books[item.symbol] = item.seq
                return [item.text]
        if item.kind == DELTA and sent is None:
            return []  # the snapshot this subscription waits for is queued
        texts = []
        if "gap" in item.body:
            texts.append(_json({"type": "gap", "channel": BOOK, "symbol": item.symbol,
                                **item.body["gap"]}))
        book = await self.hub.book(item.symbol)
        if book is None or book.sequence is None:
            return [*texts, _json({"type": "unavailable", "channel": BOOK,
                                   "symbol": item.symbol})]
        view = book.view()
        self.sent_books[item.symbol] = book.sequence
        return [*texts, _json({
            "type": SNAPSHOT, "channel": BOOK, "symbol": item.symbol,
            "sequence": book.sequence, "bids": wire_levels(view.bids),
            "asks": wire_levels(view.asks), "seq": book.sequence})]


@database_sync_to_async
def _user_of_ticket(ticket: str) -> Any:
    user_id = accounts.redeem_stream_ticket(ticket=ticket)
    user = (None if user_id is None
            else get_user_model().objects.filter(pk=user_id, is_active=True).first())
    return user or AnonymousUser()


class OrdersConsumer(StreamConsumer):
    """The private stream. It alone joins the channel layer: to hear `STREAMS_ENDED`."""

    channel_layer_alias = "default"

    @property
    def channel_receive(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        """What Channels awaits for channel-layer messages. Channels assigns the layer's
        raw `receive` here and lets its first error end the connection; we hand it one
        that survives a Redis outage instead, so the client keeps its stream."""
        return self._receive_surviving_outages

    @channel_receive.setter
    def channel_receive(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._layer_receive = receive

    async def _receive_surviving_outages(self) -> dict[str, Any]:
        while True:
            try:
                return await self._layer_receive()
            except LAYER_ERRORS as exc:
                logger.warning("channel layer lost: %s", exc)
                await asyncio.sleep(WATCH_SECONDS)

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        if query.get("ticket"):
            user = await _user_of_ticket(query["ticket"][0])
        else:
            user = self.scope.get("user") or AnonymousUser()
        since = _since(query["since"][0]) if query.get("since") else None
        if not user.is_authenticated or (query.get("since") and since is None):
            await self.close(code=CLOSE_UNAUTHENTICATED if not user.is_authenticated
                             else CLOSE_INVALID_SINCE)
            return
        self.group = streams_group(user.id)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except LAYER_ERRORS as exc:
            logger.warning("cannot join %s: %s", self.group, exc)
        await self.accept()
        await self.start_streaming()
        subscription = Subscription(orders_stream(user.id), ORDERS, "*")
        latest = await self.subscribe(subscription, since)
        await self.send_json({"type": "subscribed", "channel": ORDERS, "seq": latest})
        await self.catch_up(subscription, until=latest)

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if hasattr(self, "group"):
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except LAYER_ERRORS as exc:
                logger.warning("cannot leave %s: %s", self.group, exc)

    async def accounts_streams_ended(self, message: dict[str, Any]) -> None:
        """The user logged out or revoked a credential."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

