"""The fan-out inside each WebSocket process: it tails the topics of every registered
`StreamSource` itself and hands every message to its own connections, in process.

Before, every message crossed Kafka → ws-bridge → Redis channel layer → ws process, and
the layer dropped messages in silence when a connection's channel was full. Now each ws
process reads the topics from their end (no consumer group: replicas do not share, each
needs everything), numbers each message in its stream (`window`, one Redis round trip per
batch, the same number in every process) and calls the `Listener`s subscribed to that
stream. What a slow connection gets is its own business (`connection.py`): nothing here
waits on a client.

The streams are the apps' (`register_source`, from each app's `AppConfig.ready`): the
marketdata context routes `prices` and the public part of `executions` to
`md.{symbol}.{channel}`, orders routes a user's own `executions` events to
`orders.{user_id}`. A source turns an event into a `Route` (its stream and message), and
a text read back from the window into a `StreamMessage`.

It says when its stream is stale: `source_unavailable` while the broker cannot be reached,
`window_unavailable` while Redis cannot number messages (the batch is kept and retried:
nothing is sent unnumbered, nothing is skipped)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from django.conf import settings

from oms.events import Event
from oms.kafka.consumer import BatchConsumer
from oms.kafka.shared import event_producer
from oms.redis import redis_client
from oms.streams import window
from oms.streams.window import Offer

logger = logging.getLogger(__name__)

STALE_SOURCE = "source_unavailable"  # the broker cannot be reached
STALE_WINDOW = "window_unavailable"  # Redis cannot number messages
BEAT_SECONDS = 1.0
POLL_SECONDS = 0.05
# What the window's client raises when Redis is gone (redis-py's errors, or the socket's).
WINDOW_ERRORS = (redis.RedisError, OSError)


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
class Route:
    """Where one event goes: the offer to its stream's window, and how its message is
    described to listeners."""

    offer: Offer
    channel: str
    symbol: str
    kind: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StreamSource:
    """One app's streams: the topics it needs tailed, the route of each event (None for
    events it has no stream for), and the message of a text read back from the window
    (a resume) for a stream whose name starts with `prefix`."""

    name: str
    prefix: str
    topics: tuple[str, ...]
    route: Callable[[Event], Route | None]
    decode: Callable[[str, int, str], StreamMessage]


_sources: dict[str, StreamSource] = {}


def register_source(source: StreamSource) -> None:
    """Declare an app's streams (from its `AppConfig.ready`), before any hub starts."""
    _sources[source.name] = source


def _route(event: Event) -> Route | None:
    for source in _sources.values():
        route = source.route(event)
        if route is not None:
            return route
    return None


def message_of(stream: str, seq: int, text: str) -> StreamMessage:
    """A message read back from the window (a resume) in the live stream's shape."""
    for source in _sources.values():
        if stream.startswith(source.prefix):
            return source.decode(stream, seq, text)
    raise LookupError(f"no stream source for {stream}")


class Listener(Protocol):
    def on_message(self, message: StreamMessage) -> None:
        """Called on the event loop for each message of a stream listened to; must not
        block (queue it)."""


class _SourceWatch(threading.Thread):
    """Asks the broker for a source topic's metadata and pings Redis once a beat, off
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
        topics = _topics()
        while not self.stop.is_set():
            try:
                self.admin.list_topics(topic=topics[0] if topics else None,
                                       timeout=2 * BEAT_SECONDS)
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


def _topics() -> list[str]:
    return sorted({topic for source in _sources.values() for topic in source.topics})


class StreamHub:
    """The fan-out of one event loop (one per ws process; one per test's loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.listeners: dict[str, set[Listener]] = defaultdict(set)
        self.latest: dict[str, int] = {}  # the last sequence handed out, per stream
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
            topics=_topics(), group_id=f"ws-tail-{uuid.uuid4().hex[:12]}",
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
                    numbered = window.sequence(route.offer for route in routes)
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
        known = await asyncio.to_thread(window.latest, stream)
        return max(known, self.latest.get(stream, 0))

    async def since(self, stream: str, seq: int) -> list[StreamMessage] | None:
        """What `stream` sent after `seq`, or None past the window."""
        replay = await asyncio.to_thread(window.since, stream, seq,
                                         limit=settings.STREAM_REPLAY_LIMIT)
        if replay.messages is None:
            return None
        return [message_of(stream, item.seq, item.text) for item in replay.messages]


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamHub] = (
    weakref.WeakKeyDictionary())


def hub() -> StreamHub:
    """The hub of the running event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = StreamHub(loop)
    return _hubs[loop]
