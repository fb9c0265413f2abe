"""The fan-out inside each WebSocket process: it tails `prices` and `executions` itself
and hands every message to its own connections, in process.

Before, every message crossed Kafka → ws-bridge → Redis channel layer → ws process, and
the layer dropped messages in silence when a connection's channel was full. Now each ws
process reads both topics from their end (no consumer group: replicas do not share, each
needs everything), numbers each message in its stream (`stream_window`, one Redis round
trip per batch, the same number in every process) and calls the `Listener`s subscribed to
that stream. What a slow connection gets is its own business (`ws.py`, `domain/
conflation.py`): nothing here waits on a client.

Streams: `md.{symbol}.{channel}` for `ticker`, `trades` and `book` of a symbol, and
`orders.{user_id}` for a user's own `executions` events.

The hub also keeps each subscribed symbol's book (the marketdata cache's snapshot, brought
up to date from the window and then by every book event), so a subscriber that is behind
gets the latest state in one snapshot.

It says when its stream is stale: `source_unavailable` while the broker cannot be reached,
`window_unavailable` while Redis cannot number messages (the batch is kept and retried:
nothing is sent unnumbered, nothing is skipped)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
import weakref
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from django.conf import settings

from apps.marketdata import selectors, stream_window
from apps.marketdata.domain.book import L2Book, parse_levels
from apps.marketdata.domain.conflation import BOOK, DELTA, ORDERS, SNAPSHOT, TICKER, TRADES
from apps.marketdata.events import PRICE_TICK
from apps.marketdata.stream_window import Offer
from apps.processing import events as executions
from oms.events import Event
from oms.kafka.consumer import BatchConsumer
from oms.kafka.shared import event_producer
from oms.kafka.topics import EXECUTIONS, PRICES
from oms.redis import redis_client

logger = logging.getLogger(__name__)

_MARKET = {PRICE_TICK: (TICKER, TICKER), executions.TRADE: (TRADES, TRADES),
           executions.BOOK_SNAPSHOT: (BOOK, SNAPSHOT), executions.BOOK_DELTA: (BOOK, DELTA)}
_EXECUTIONS = frozenset({executions.ORDER_ACCEPTED, executions.ORDER_REJECTED,
                         executions.ORDER_FILL, executions.ORDER_CANCELLED,
                         executions.ORDER_SETTLED, executions.ORDER_AMENDED})

STALE_SOURCE = "source_unavailable"  # the broker cannot be reached
STALE_WINDOW = "window_unavailable"  # Redis cannot number messages
BEAT_SECONDS = 1.0
POLL_SECONDS = 0.05
# What the window's client raises when Redis is gone (redis-py's errors, or the socket's).
WINDOW_ERRORS = (redis.RedisError, OSError)


def market_stream(symbol: str, channel: str) -> str:
    return f"md.{symbol}.{channel}"


def orders_stream(user_id: int) -> str:
    return f"{ORDERS}.{user_id}"


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One numbered message of one stream, as every subscriber receives it."""

    stream: str
    channel: str  # ticker, trades, book or orders
    symbol: str  # "*" on a private stream
    kind: str  # snapshot or delta on a book; the channel otherwise
    seq: int
    text: str  # the JSON the client receives, `seq` included
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Route:
    offer: Offer
    channel: str
    symbol: str
    kind: str
    payload: Mapping[str, Any]


def _route(event: Event) -> _Route | None:
    """The stream of one event and its message body, or None for events no stream has."""
    payload = dict(event.payload)
    if event.type in _MARKET:
        channel, kind = _MARKET[event.type]
        symbol = str(payload["symbol"])
        if channel == BOOK:
            body: dict[str, Any] = {"type": kind, "channel": BOOK, **payload}
            seq: int | None = int(payload["sequence"])
        else:
            body, seq = {"type": "trade" if channel == TRADES else TICKER, **payload}, None
        return _Route(Offer(market_stream(symbol, channel), event.event_id,
                            json.dumps(body, separators=(",", ":")), seq),
                      channel, symbol, kind, payload)
    if event.type in _EXECUTIONS:
        body = {"type": "execution", "event": event.type, "event_id": event.event_id,
                "occurred_at": event.to_dict()["occurred_at"], "payload": payload}
        return _Route(Offer(orders_stream(int(payload["user_id"])), event.event_id,
                            json.dumps(body, separators=(",", ":"))),
                      ORDERS, "*", ORDERS, payload)
    return None


def message_of(stream: str, seq: int, text: str) -> StreamMessage:
    """A message read back from the window (a resume) in the live stream's shape."""
    body = json.loads(text)
    if stream.startswith(f"{ORDERS}."):
        return StreamMessage(stream, ORDERS, "*", ORDERS, seq, text, body["payload"])
    _, symbol, channel = stream.rsplit(".", 2)
    kind = body["type"] if channel == BOOK else channel
    return StreamMessage(stream, channel, symbol, kind, seq, text, body)


class Listener(Protocol):
    def on_message(self, message: StreamMessage) -> None:
        """Called on the event loop for each message of a stream listened to; must not
        block (queue it)."""


class _SourceWatch(threading.Thread):
    """Asks the broker for the source topic's metadata and pings Redis once a beat, off
    the event loop (a dead broker makes that call wait for its timeout), and keeps the
    last answers: a quiet stream still learns of an outage."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__(name="stream-source-watch", daemon=True)
        self.stop = stop
        self.reachable = True
        self.window_reachable = True
        self.admin = AdminClient({**settings.KAFKA_CLIENT_CONFIG, "log_level": 0,
                                  "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.admin.list_topics(topic=PRICES, timeout=2 * BEAT_SECONDS)
                reachable = True
            except KafkaException:
                reachable = False
            if reachable != self.reachable:
                logger.warning("streams: the broker is %s", "back" if reachable else "gone")
            self.reachable = reachable
            try:
                self.window_reachable = bool(redis_client().ping())
            except WINDOW_ERRORS:
                self.window_reachable = False
            self.stop.wait(BEAT_SECONDS)


class StreamHub:
    """The fan-out of one event loop (one per ws process; one per test's loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.listeners: dict[str, set[Listener]] = defaultdict(set)
        self.latest: dict[str, int] = {}  # the last sequence handed out, per stream
        self.books: dict[str, L2Book] = {}
        self.window_down = False
        self._stop = threading.Event()
        self._watch = _SourceWatch(self._stop)
        self._started: asyncio.Task[None] | None = None
        self._since_ms = 0  # records older than the start are skipped

    @property
    def stale_reason(self) -> str | None:
        if self.window_down or not self._watch.window_reachable:
            return STALE_WINDOW
        if not self._watch.reachable:
            return STALE_SOURCE
        return None

    async def start(self) -> None:
        """Start tailing (once); on return every record published later is delivered."""
        if self._started is None:
            self._started = self.loop.create_task(self._start())
        await asyncio.shield(self._started)

    async def _start(self) -> None:
        self._since_ms = int(time.time() * 1000)
        consumer = await asyncio.to_thread(self._tail)
        threading.Thread(target=self._run, args=(consumer,), name="stream-tail",
                         daemon=True).start()
        self._watch.start()

    @staticmethod
    def _tail() -> BatchConsumer:
        consumer = BatchConsumer(
            topics=[PRICES, EXECUTIONS], group_id=f"ws-tail-{uuid.uuid4().hex[:12]}",
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
            dead_letters=event_producer(), extra=settings.KAFKA_CLIENT_CONFIG,
            subscribe=False)
        consumer.assign_from_end()
        return consumer

    def _run(self, consumer: BatchConsumer) -> None:
        """The tail thread: poll, number, hand over to the loop; until the loop closes."""
        try:
            while not self._stop.is_set() and not self.loop.is_closed():
                batch = consumer.poll_batch(timeout=POLL_SECONDS)
                if not batch:
                    continue
                # Records from before the start are not this hub's (the broker's idea of
                # the end may be a little early); those other hubs numbered are in the
                # window anyway.
                routes = [route for consumed in batch.events
                          if consumed.timestamp_ms >= self._since_ms
                          and (route := _route(consumed.event)) is not None]
                try:
                    numbered = stream_window.sequence(route.offer for route in routes)
                except WINDOW_ERRORS as exc:
                    if not self.window_down:
                        logger.warning("streams: cannot number messages, will retry: %s", exc)
                    self.window_down = True
                    consumer.rewind(batch)
                    self._stop.wait(BEAT_SECONDS)
                    continue
                self.window_down = False
                messages = [StreamMessage(n.stream, r.channel, r.symbol, r.kind, n.seq,
                                          n.text, r.payload)
                            for r, n in zip(routes, numbered, strict=True)]
                try:
                    self.loop.call_soon_threadsafe(self._dispatch, messages)
                except RuntimeError:
                    return  # the loop closed
        finally:
            self._stop.set()
            consumer.close()

    def _dispatch(self, messages: list[StreamMessage]) -> None:
        for message in messages:
            if message.seq <= self.latest.get(message.stream, 0):
                continue  # already handed out (a duplicate, or fetched by a catch-up)
            self.latest[message.stream] = message.seq
            if message.channel == BOOK:
                self._apply_book(message)
            for listener in tuple(self.listeners.get(message.stream, ())):
                listener.on_message(message)

    def listen(self, stream: str, listener: Listener) -> None:
        self.listeners[stream].add(listener)

    def forget(self, stream: str, listener: Listener) -> None:
        self.listeners[stream].discard(listener)
        if not self.listeners[stream]:
            del self.listeners[stream]

    async def latest_seq(self, stream: str) -> int:
        """The stream's last sequence anywhere (any process may have numbered more)."""
        known = await asyncio.to_thread(stream_window.latest, stream)
        return max(known, self.latest.get(stream, 0))

    async def since(self, stream: str, seq: int) -> list[StreamMessage] | None:
        """What `stream` sent after `seq`, or None past the window."""
        replay = await asyncio.to_thread(stream_window.since, stream, seq,
                                         limit=settings.STREAM_REPLAY_LIMIT)
        if replay.messages is None:
            return None
        return [message_of(stream, item.seq, item.text) for item in replay.messages]

    def _apply_book(self, message: StreamMessage) -> None:
        book = self.books.get(message.symbol)
        if book is None:
            return  # nobody asked for this book yet
        payload = message.payload
        bids, asks = parse_levels(payload["bids"]), parse_levels(payload["asks"])
        if message.kind == SNAPSHOT and (book.sequence or 0) < message.seq:
            book.apply_snapshot(sequence=message.seq, bids=bids, asks=asks)
        elif book.synced and message.seq == (book.sequence or 0) + 1:
            book.apply_delta(sequence=message.seq, bids=bids, asks=asks)
        # Otherwise the book is behind: `book()` brings it up from the window when asked.

    async def book(self, symbol: str) -> L2Book | None:
        """The symbol's book as of the last book message handed out, or None when the
        marketdata role has no snapshot of it that the window can bring up to date."""
        book = self.books.setdefault(symbol, L2Book(symbol))
        stream = market_stream(symbol, BOOK)
        for _attempt in range(2):  # a cache older than the window is read once more
            if not book.synced:
                view = await asyncio.to_thread(selectors.order_book, symbol=symbol)
                if view is None or view.sequence is None:
                    return None
                if (book.sequence or 0) < view.sequence:
                    book.apply_snapshot(sequence=view.sequence, bids=view.bids,
                                        asks=view.asks)
            while (book.sequence or 0) < self.latest.get(stream, 0):
                missed = await self.since(stream, book.sequence or 0)
                if missed is None:
                    book.invalidate()
                    break
                for message in missed:
                    self._apply_book(message)
            else:
                return book
        return None


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamHub] = (
    weakref.WeakKeyDictionary())


def hub() -> StreamHub:
    """The hub of the running event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = StreamHub(loop)
    return _hubs[loop]
