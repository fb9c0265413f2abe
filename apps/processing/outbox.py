"""The outbox relay: publishes the events the processor wrote to `OutboxEvent` in the
same transaction as their state, in `id` order, then marks them published (D5).

One relay leads at a time (a PostgreSQL advisory lock), so events of one symbol are never
published out of order by two relays. The processor sends `NOTIFY oms_outbox` with each
batch, so the relay wakes at once instead of polling. A crash between publishing and
marking publishes some events twice; consumers drop duplicates by `event_id`.

Published rows are pruned after `OMS_OUTBOX_KEEP_SECONDS` (`prune_published`, a Celery beat
task), so the table holds what is in flight plus a recent window, not the whole history.
Unpublished rows are never pruned, however old. The `event_id` uniqueness stays
meaningful without the old rows: event ids derive from the consumed input, and the
processor never consumes committed input again, because the offsets it resumes from are
stored in the transaction that wrote the outbox rows (D5); so no event whose row was
pruned is emitted again by the processor. (The one exception is an operator's
`resolve_order_log` on a log that lost only its end: it re-bases to the log's start, and
the input replayed there may emit events under ids already used.) A republished copy
(the relay crashed between publishing and marking) leaves while its row is still here,
and consumers recognise it by its `event_id` within their own duplicate window, which the
keep time must exceed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from confluent_kafka import KafkaError, Message
from django.db import connection

from apps.processing.processor import OUTBOX_CHANNEL
from oms.events import Event
from oms.kafka.producer import EventProducer, PublishError, event_headers

logger = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x0AE5_0017  # any constant: one relay leads per database
PRUNE_CHUNK = 5000  # rows per DELETE: short statements, no long lock on the table


def prune_published(*, keep: timedelta, chunk: int = PRUNE_CHUNK) -> int:
    """Delete the rows published more than `keep` ago, oldest first, `chunk` rows per
    statement (each its own transaction); return how many were deleted. The horizon is the
    database's clock, fixed once, so a prune under heavy traffic ends."""
    deleted = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() - %s", [keep])
        (horizon,) = cursor.fetchone()
        while True:
            cursor.execute(
                "DELETE FROM processing_outboxevent WHERE id IN ("
                " SELECT id FROM processing_outboxevent"
                " WHERE published_at IS NOT NULL AND published_at < %s"
                " ORDER BY published_at LIMIT %s)", [horizon, chunk])
            deleted += cursor.rowcount
            if cursor.rowcount < chunk:
                return deleted


# SQL of its own: the ORM built these two queries again at every step (`make bench-e2e`
# at 500 orders/s: the relay 0.13 -> 0.06-0.07 cores, with the leadership no longer asked
# at every step). The ids go as `bigint[]`: bound as the array type psycopg picks for the
# values (the smallest integer type that holds them), the UPDATE cost PostgreSQL 0.35-0.37
# cores instead of 0.26 there (we did not find which plan did it).
_PENDING = ("SELECT id, topic, key, body FROM processing_outboxevent "
            "WHERE published_at IS NULL ORDER BY id LIMIT {limit:d}")
_MARK_PUBLISHED = ("UPDATE processing_outboxevent SET published_at = %s "
                   "WHERE id = ANY(%s::bigint[])")


class OutboxRelay:
    def __init__(self, producer: EventProducer, *, batch_size: int = 1000) -> None:
        self.producer = producer
        self.batch_size = batch_size
        self._listening_on: object | None = None  # the connection that LISTENs
        self._notified = False

    def lead(self) -> bool:
        """Take (or keep) the leadership; False while another relay holds it. The leader
        listens on its current connection (again after a reconnection, which forgets it).
        The lock belongs to the connection: while it is the one that took it, nothing is
        asked (a round trip less for every step)."""
        if connection.connection is not None and connection.connection is self._listening_on \
                and not connection.connection.closed:
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_KEY])
            (held,) = cursor.fetchone()
            raw = connection.connection
            if held and raw is not None and raw is not self._listening_on:
                raw.add_notify_handler(self._on_notify)
                cursor.execute(f"LISTEN {OUTBOX_CHANNEL}")
                self._listening_on = raw
        return bool(held)

    def _on_notify(self, _notify: object) -> None:
        # A notification that arrives while the connection runs a query never reaches
        # `notifies()` (psycopg/psycopg#962): without this flag the relay would sleep the
        # whole timeout with events waiting.
        self._notified = True

    def wait(self, timeout: float) -> None:
        """Sleep until the processor notifies new events (at once if it did while the
        relay was publishing), or `timeout` seconds."""
        connection.ensure_connection()
        raw = connection.connection
        if raw is None or raw is not self._listening_on:
            return
        if not self._notified:
            for _ in raw.notifies(timeout=timeout, stop_after=1):
                break
        self._notified = False

    def publish_pending(self) -> int:
        """Publish the oldest unpublished events; return how many were published."""
        with connection.cursor() as cursor:
            cursor.execute(_PENDING.format(limit=self.batch_size))
            rows = cursor.fetchall()
        if not rows:
            return 0
        failures: list[KafkaError] = []

        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failures.append(error)

        for _, topic, key, body in rows:
            value = bytes(body)
            self.producer.produce_raw(topic, key=key.encode(), value=value,
                                      headers=event_headers(Event.from_json(value)),
                                      on_delivery=delivered)
        if self.producer.flush(15) or failures:
            raise PublishError(f"outbox: {len(failures)} events not acknowledged: "
                               f"{failures[:1]}")
        with connection.cursor() as cursor:
            cursor.execute(_MARK_PUBLISHED, [datetime.now(UTC), [row[0] for row in rows]])
        return len(rows)

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        self._listening_on = None
