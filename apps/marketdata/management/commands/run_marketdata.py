"""`manage.py run_marketdata`: the `marketdata` role. Runs the feeds (the simulator in
process, Binance or Coinbase streams where `MARKETDATA_FEEDS` says so), consumes `prices`
in group `market-data-group` (the internal book and trades), records trades and candles,
publishes `price.tick` on `prices` and keeps `orderbook:{symbol}` and `price:{symbol}`
fresh in Redis. Its effects are idempotent (trades by id, ticks by content), so offsets
are committed after each batch is applied."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from confluent_kafka import KafkaError, Message
from django.conf import settings
from django.db import DatabaseError

from apps.marketdata import selectors
from apps.marketdata.feeds.base import StreamFeed
from apps.marketdata.feeds.client import start_streams
from apps.marketdata.feeds.registry import build_feeds
from apps.marketdata.feeds.simulator import SimulatorFeed
from apps.marketdata.pipeline import MarketDataPipeline
from oms.kafka.consumer import BatchConsumer
from oms.kafka.shared import close_producers, event_producer
from oms.kafka.topics import PRICES
from oms.observability.probe_server import Heartbeat
from oms.resilience.consumers import DatabaseOutageGuard
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)

MARKETDATA_GROUP = "market-data-group"


def _log_failure(error: KafkaError | None, _message: Message) -> None:
    if error is not None:
        logger.warning("price.tick not published: %s", error)


class Command(RoleCommand):
    help = "Run the marketdata role."
    role = "marketdata"

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        feeds = build_feeds(settings.MARKETDATA_FEEDS, seed=settings.MARKETDATA_SIMULATOR_SEED)
        start_streams([feed for feed in feeds.values() if isinstance(feed, StreamFeed)], stop)
        simulators = [feed for feed in feeds.values() if isinstance(feed, SimulatorFeed)]
        pipeline = MarketDataPipeline(feeds=feeds)
        try:
            for symbol in feeds:
                trade = selectors.last_trade(symbol=symbol)
                if trade is not None:
                    pipeline.last_trade_prices[symbol] = trade.price
        except DatabaseError as exc:  # the next trade on `prices` sets it anyway
            logger.warning("last trade prices not loaded: %s", exc)
        producer = event_producer()
        consumer = BatchConsumer(
            topics=[PRICES], group_id=MARKETDATA_GROUP,
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, dead_letters=producer,
            extra=settings.KAFKA_CLIENT_CONFIG)
        next_step = next_publish = time.monotonic()
        outage = DatabaseOutageGuard(consumer)  # pauses `prices` while PostgreSQL is down
        try:
            while not stop.is_set():
                heartbeat.beat()
                outage.resume_when_recovered()
                batch = consumer.poll_batch(timeout=0.1)
                if batch and outage.apply(batch, lambda applied: pipeline.apply(
                        consumed.event for consumed in applied.events)):
                    consumer.commit(batch)
                now = time.monotonic()
                if now >= next_step:
                    for simulator in simulators:
                        simulator.advance()
                    next_step = now + settings.MARKETDATA_SIMULATOR_STEP_SECONDS
                if now >= next_publish:
                    for event in pipeline.due_ticks():
                        producer.send(PRICES, key=event.payload["symbol"], event=event,
                                      on_delivery=_log_failure)
                    try:
                        pipeline.refresh_cache()
                    except redis.RedisError as exc:
                        logger.warning("market data not cached: %s", exc)
                    next_publish = now + settings.MARKETDATA_PUBLISH_SECONDS
        finally:
            consumer.close()
            close_producers()
