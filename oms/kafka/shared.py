"""The process-wide event producer of a role. One producer per process lets concurrent
requests share batches and connections (librdkafka is thread-safe)."""

from __future__ import annotations

import threading

from django.conf import settings

from oms.kafka.producer import EventProducer

_lock = threading.Lock()
_producers: dict[str, EventProducer] = {}


def event_producer() -> EventProducer:
    bootstrap = settings.KAFKA_BOOTSTRAP_SERVERS
    with _lock:
        producer = _producers.get(bootstrap)
        if producer is None:
            producer = EventProducer(bootstrap, settings.KAFKA_CLIENT_CONFIG)
            _producers[bootstrap] = producer
        return producer


def close_producers(timeout: float = 10.0) -> None:
    """Flush and close every shared producer (on shutdown, or when a test is done with a
    broker)."""
    with _lock:
        producers = list(_producers.values())
        _producers.clear()
    for producer in producers:
        producer.close(timeout)
