"""`manage.py run_ws_bridge`: the `ws-bridge` role. Reads `prices` and `executions` in
group `ws-bridge-group` (from the latest offsets: live streams do not replay history) and
fans each event out through the Redis channel layer to the groups of `apps.marketdata.
bridge`, where the `ws` role's connections listen."""

from __future__ import annotations

import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.marketdata.bridge import Bridge
from oms.kafka.consumer import BatchConsumer
from oms.kafka.shared import close_producers, event_producer
from oms.kafka.topics import EXECUTIONS, PRICES
from oms.observability.probe_server import Heartbeat
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)

WS_BRIDGE_GROUP = "ws-bridge-group"


class Command(RoleCommand):
    help = "Run the ws-bridge role."
    role = "ws-bridge"

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        bridge = Bridge(get_channel_layer())
        fan_out = async_to_sync(bridge.fan_out)
        consumer = BatchConsumer(
            topics=[PRICES, EXECUTIONS], group_id=WS_BRIDGE_GROUP,
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, dead_letters=event_producer(),
            extra={**settings.KAFKA_CLIENT_CONFIG, "auto.offset.reset": "latest"})
        try:
            while not stop.is_set():
                heartbeat.beat()
                batch = consumer.poll_batch(timeout=0.2)
                if batch:
                    fan_out(consumed.event for consumed in batch.events)
                    consumer.commit(batch)
        finally:
            consumer.close()
            close_producers()
