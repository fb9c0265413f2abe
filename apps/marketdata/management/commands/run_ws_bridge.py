"""`manage.py run_ws_bridge`: the `ws-bridge` role. Reads `prices` and `executions` in
group `ws-bridge-group` (from the latest offsets: live streams do not replay history) and
fans each event out through the Redis channel layer to the groups of `apps.marketdata.
bridge`, where the `ws` role's connections listen.

It outlives the outages of both ends. Once a second it beats on `md.stream` whether the
broker feeds it, so the `ws` role can tell clients the stream is stale rather than let them
wait on silence. While Redis is down it keeps the batch it could not fan out (rewinding to
it) and tries again; while the broker is down it keeps polling (its commits do not wait),
and librdkafka reconnects by itself."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from django.conf import settings

from apps.marketdata.bridge import STREAM_BEAT_SECONDS, STREAM_GROUP, Bridge, stream_status
from oms.kafka.consumer import BatchConsumer
from oms.kafka.shared import close_producers, event_producer
from oms.kafka.topics import EXECUTIONS, PRICES
from oms.observability.probe_server import Heartbeat
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)

WS_BRIDGE_GROUP = "ws-bridge-group"
# What the channel layer raises when Redis is gone (redis-py's errors, or the socket's).
LAYER_ERRORS = (redis.RedisError, OSError)


class BrokerWatch(threading.Thread):
    """Asks the broker for the source topic's metadata once a beat, off the main loop (a
    dead broker makes that call wait for its timeout), and keeps the last answer."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__(name="broker-watch", daemon=True)
        self.stop = stop
        self.reachable = True
        self.admin = AdminClient({**settings.KAFKA_CLIENT_CONFIG, "log_level": 0,
                                  "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.admin.list_topics(topic=PRICES, timeout=2 * STREAM_BEAT_SECONDS)
                reachable = True
            except KafkaException:
                reachable = False
            if reachable != self.reachable:
                logger.warning("ws-bridge: the broker is %s", "back" if reachable else "gone")
            self.reachable = reachable
            self.stop.wait(STREAM_BEAT_SECONDS)


class Command(RoleCommand):
    help = "Run the ws-bridge role."
    role = "ws-bridge"

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        layer = get_channel_layer()
        bridge = Bridge(layer)
        fan_out = async_to_sync(bridge.fan_out)
        send_to_group = async_to_sync(layer.group_send)
        watch = BrokerWatch(stop)
        watch.start()
        consumer = BatchConsumer(
            topics=[PRICES, EXECUTIONS], group_id=WS_BRIDGE_GROUP,
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, dead_letters=event_producer(),
            extra={**settings.KAFKA_CLIENT_CONFIG, "auto.offset.reset": "latest"})
        next_beat = time.monotonic()
        try:
            while not stop.is_set():
                heartbeat.beat()
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + STREAM_BEAT_SECONDS
                    live = watch.reachable and bool(consumer.assignment())
                    try:
                        send_to_group(STREAM_GROUP, stream_status(live=live))
                    except LAYER_ERRORS as exc:
                        logger.warning("ws-bridge: channel layer unavailable: %s", exc)
                batch = consumer.poll_batch(timeout=0.2)
                if not batch:
                    continue
                try:
                    fan_out(consumed.event for consumed in batch.events)
                except LAYER_ERRORS as exc:
                    logger.warning("ws-bridge: channel layer unavailable, will retry: %s", exc)
                    consumer.rewind(batch)
                    stop.wait(STREAM_BEAT_SECONDS)
                    continue
                # In the background: a later commit covers a lost one, and after a restart
                # the bridge starts from the latest offsets anyway (live streams do not
                # replay), so a dead broker must not hold the loop and its beats.
                consumer.commit(batch, wait=False)
        finally:
            consumer.close()
            close_producers()
