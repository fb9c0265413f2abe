"""The idempotent event producer (`acks=all`, `enable.idempotence`).

`publish()` returns once Kafka has acknowledged the event, which is what the order entry
API promises before it answers 202. Many threads may publish at once: a background thread
serves librdkafka's delivery callbacks, so concurrent requests share batches instead of
each paying a full round trip in turn.

Acknowledged publishes go through the `kafka` circuit breaker: every `PublishError`
counts against it, and while it is open `publish()` raises `KafkaUnavailable` (a
`PublishError`, so callers' handling is unchanged) at once instead of each caller
waiting out the delivery timeout against a dead broker. A failed publish is not retried
here: librdkafka's idempotent producer already re-sends within `MESSAGE_TIMEOUT_MS`, so
one more round would only hold the caller longer. A publish that timed out raises
`PublishOutcomeUnknown` (also a `PublishError`): the event may have been written all the
same, and callers that must not act twice (order entry) keep that in mind.

A producer that failed for good (a fatal error, or fenced: after a broker outage a broker
may bump the idempotent producer's epoch and refuse every later send with
PRODUCER_FENCED) can never send again, so the next send after one replaces the instance:
a role recovers when the broker does, without a restart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from oms.events.envelope import Event
from oms.events.registry import validate_event
from oms.kafka.config import MESSAGE_TIMEOUT_MS, producer_config
from oms.observability.metrics import EVENTS_PUBLISH_FAILED, EVENTS_PUBLISHED, PUBLISH_SECONDS
from oms.resilience.breakers import KAFKA, BreakerOpen, breaker

logger = logging.getLogger(__name__)

Headers = list[tuple[str, str | bytes | None]]
DeliveryCallback = Callable[[KafkaError | None, Message], None]
# Errors after which a producer instance never delivers again.
FAILED_FOR_GOOD = frozenset({KafkaError.PRODUCER_FENCED, KafkaError._FENCED,
                             KafkaError.INVALID_PRODUCER_EPOCH})


class PublishError(RuntimeError):
    """Kafka did not acknowledge the event: the caller must treat it as not published."""


class KafkaUnavailable(BreakerOpen, PublishError):
    """The `kafka` breaker is open: the event was not sent."""


class PublishOutcomeUnknown(PublishError):
    """The event was sent but no acknowledgement came in time: it may be in the log or not.
    A caller that promised an outcome (order entry) must find out before it says either."""


# Delivery errors after which the event may nevertheless have been written.
MAYBE_WRITTEN = frozenset({KafkaError._MSG_TIMED_OUT, KafkaError._TIMED_OUT,
                           KafkaError.REQUEST_TIMED_OUT})


@dataclass(frozen=True, slots=True)
class Delivery:
    topic: str
    partition: int
    offset: int


def event_headers(event: Event) -> Headers:
    """Headers that let a consumer route or trace a message without parsing its body."""
    headers: Headers = [("event_type", event.type.encode()),
                        ("event_id", event.event_id.encode())]
    if event.correlation_id:
        headers.append(("correlation_id", event.correlation_id.encode()))
    return headers


class _PendingDelivery:
    __slots__ = ("done", "error", "message")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: KafkaError | None = None
        self.message: Message | None = None

    def __call__(self, error: KafkaError | None, message: Message) -> None:
        self.error, self.message = error, message
        self.done.set()


class EventProducer:
    def __init__(self, bootstrap_servers: str, extra: Mapping[str, Any] | None = None) -> None:
        self._config = {**producer_config(bootstrap_servers, extra), "error_cb": self._on_error}
        self._producer = Producer(self._config)
        self._fatal = threading.Event()
        self._renewing = threading.Lock()
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._serve_callbacks, daemon=True,
                                        name="kafka-delivery")
        self._poller.start()

    def _serve_callbacks(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(0.05)

    def _on_error(self, error: KafkaError | None) -> None:
        """librdkafka's client-level errors (most are transient and retried inside it), and
        each delivery's."""
        if error is not None and (error.fatal() or error.code() in FAILED_FOR_GOOD) \
                and not self._fatal.is_set():
            logger.error("kafka producer failed for good, a new one takes over: %s", error)
            self._fatal.set()

    def _watching(self, on_delivery: DeliveryCallback) -> DeliveryCallback:
        def delivered(error: KafkaError | None, message: Message) -> None:
            self._on_error(error)
            on_delivery(error, message)
        return delivered

    def _renew_if_fatal(self) -> None:
        """Replace a producer that failed for good. What it still held is purged, so its
        waiters hear a failure now (not published) instead of at their timeout."""
        if not self._fatal.is_set():
            return
        with self._renewing:
            if not self._fatal.is_set():
                return
            failed, self._producer = self._producer, Producer(self._config)
            self._fatal.clear()
        failed.purge()
        failed.flush(1)

    def publish(self, topic: str, *, key: str, event: Event, validate: bool = True) -> Delivery:
        """Validate, send and wait for the acknowledgement of every in-sync replica."""
        with breaker(KAFKA).guard(PublishError, open_error=KafkaUnavailable):
            return self._publish_acknowledged(topic, key=key, event=event, validate=validate)

    def _publish_acknowledged(self, topic: str, *, key: str, event: Event,
                              validate: bool) -> Delivery:
        pending = _PendingDelivery()
        started = time.perf_counter()
        self.send(topic, key=key, event=event, on_delivery=pending, validate=validate)
        # librdkafka gives up after MESSAGE_TIMEOUT_MS and reports it; wait a bit longer so
        # that its report decides. A timeout, though, may follow a write whose acknowledgement
        # was lost: that is `PublishOutcomeUnknown`, never "not published".
        if not pending.done.wait((MESSAGE_TIMEOUT_MS + 2000) / 1000):
            EVENTS_PUBLISH_FAILED.labels(topic).inc()
            raise PublishOutcomeUnknown(f"no acknowledgement from Kafka for {topic}")
        if pending.error is not None and pending.error.code() in MAYBE_WRITTEN:
            EVENTS_PUBLISH_FAILED.labels(topic).inc()
            raise PublishOutcomeUnknown(f"Kafka did not confirm the event on {topic} in time: "
                                        f"{pending.error}")
        if pending.error is not None or pending.message is None:
            EVENTS_PUBLISH_FAILED.labels(topic).inc()
            raise PublishError(f"Kafka refused the event on {topic}: {pending.error}")
        PUBLISH_SECONDS.labels(topic).observe(time.perf_counter() - started)
        EVENTS_PUBLISHED.labels(topic, event.type).inc()
        message = pending.message
        return Delivery(topic, message.partition() or 0, message.offset() or 0)

    def send(
        self,
        topic: str,
        *,
        key: str,
        event: Event,
        on_delivery: DeliveryCallback,
        validate: bool = True,
        extra_headers: Headers | None = None,
    ) -> None:
        """Queue the event without waiting; `on_delivery` runs on the callback thread.
        `extra_headers` go after the standard ones (the writer of a `price.tick`)."""
        if validate:
            validate_event(event)
        self.produce_raw(topic, key=key.encode(), value=event.to_json(),
                         headers=[*event_headers(event), *(extra_headers or [])],
                         on_delivery=on_delivery)

    def produce_raw(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        on_delivery: DeliveryCallback,
    ) -> None:
        self._renew_if_fatal()
        while True:
            try:
                self._producer.produce(topic, key=key, value=value, headers=headers,
                                       on_delivery=self._watching(on_delivery))
                return
            except BufferError:
                # The local queue is full: let deliveries drain, then try again.
                time.sleep(0.005)
            except KafkaException as exc:
                EVENTS_PUBLISH_FAILED.labels(topic).inc()
                raise PublishError(str(exc)) from exc

    def flush(self, timeout: float = 10.0) -> int:
        """Wait for queued events; return how many are still undelivered."""
        return int(self._producer.flush(timeout))

    def close(self, timeout: float = 10.0) -> int:
        remaining = self.flush(timeout)
        self._closed.set()
        self._poller.join(timeout=1)
        return remaining
