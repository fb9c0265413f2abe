"""`manage.py run_relay`: the `relay` role. Publishes the outbox to `executions` in order,
one leader at a time; the others stand by."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import DatabaseError

from apps.processing.outbox import OutboxRelay
from oms.kafka.producer import PublishError
from oms.kafka.shared import close_producers, event_producer
from oms.observability.probe_server import Heartbeat
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)


class Command(RoleCommand):
    help = "Run the outbox relay role."
    role = "relay"

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        relay = OutboxRelay(event_producer())
        try:
            while not stop.is_set():
                heartbeat.beat()
                try:
                    if not relay.lead():
                        stop.wait(1.0)
                        continue
                    if relay.publish_pending() == 0:
                        relay.wait(timeout=0.5)
                except (DatabaseError, PublishError):
                    logger.exception("relay step failed; retrying")
                    time.sleep(1.0)
        finally:
            relay.close()
            close_producers()
