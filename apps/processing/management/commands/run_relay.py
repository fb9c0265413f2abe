"""`manage.py run_relay`: the `relay` role. Publishes the outbox to `executions` in order,
one leader at a time; the others stand by.

PostgreSQL is called through the `postgres` circuit breaker: while it is open the relay
only keeps its heartbeat, and when the breaker allows a trial one `SELECT 1` decides
whether it goes back to work. Nothing is lost: unpublished rows stay in the outbox."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import DatabaseError

from apps.processing.outbox import OutboxRelay
from oms.kafka.producer import PublishError
from oms.kafka.shared import close_producers, event_producer
from oms.observability.probe_server import Heartbeat
from oms.resilience.breakers import POSTGRES, State, breaker
from oms.resilience.database import database_answers
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)


class Command(RoleCommand):
    help = "Run the outbox relay role."
    role = "relay"

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        relay = OutboxRelay(event_producer())
        database = breaker(POSTGRES)
        try:
            while not stop.is_set():
                heartbeat.beat()
                if database.state is State.OPEN and not (database.retry_after() == 0
                                                         and database_answers()):
                    stop.wait(1.0)
                    continue
                try:
                    database.call(self.step, relay, stop, failures=(DatabaseError,))
                except (DatabaseError, PublishError):
                    logger.exception("relay step failed; retrying")
                    stop.wait(1.0)
        finally:
            relay.close()
            close_producers()

    @staticmethod
    def step(relay: OutboxRelay, stop: threading.Event) -> None:
        """Lead (or stand by), publish what is pending, or wait for the next NOTIFY."""
        if not relay.lead():
            stop.wait(1.0)
        elif relay.publish_pending() == 0:
            relay.wait(timeout=0.5)
