"""`manage.py run_marketdata`: the `marketdata` role. Runs the feeds (the simulator in
process, Binance or Coinbase streams where `MARKETDATA_FEEDS` says so), consumes `prices`
in group `market-data-group` (the internal book and trades), records trades and candles,
publishes `price.tick` on `prices` and keeps `orderbook:{symbol}` and `price:{symbol}`
fresh in Redis. Its effects are idempotent (trades by id, ticks by content), so offsets
are committed after each batch is applied.

Replicas share the work by symbol (`apps.marketdata.ownership`): each runs the feeds and
writes the ticks and Redis copies only of the symbols whose `prices` partitions the group
assigned it, under a fencing epoch checked on every write. A replica assigned nothing
stands by, ready, and takes symbols over when the group moves them."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from django.conf import settings
from django.db import DatabaseError

from apps.marketdata import selectors
from apps.marketdata.feeds.base import StreamFeed
from apps.marketdata.feeds.client import start_streams
from apps.marketdata.feeds.registry import build_feed
from apps.marketdata.feeds.simulator import SimulatorFeed
from apps.marketdata.ownership import Claim, SymbolOwnership, replica_id
from apps.marketdata.pipeline import MarketDataPipeline
from oms.kafka.consumer import Batch, BatchConsumer
from oms.kafka.producer import EventProducer
from oms.kafka.shared import close_producers, event_producer
from oms.kafka.topics import PRICES
from oms.observability.health import declare_not_ready, declare_ready
from oms.observability.probe_server import Heartbeat
from oms.resilience.consumers import DatabaseOutageGuard
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)

MARKETDATA_GROUP = "market-data-group"
# Named in `/ready` while this replica cannot check its claims (Redis unreachable).
OWNERSHIP_CHECK = "symbol_ownership"
GROUP_MOVED_ON = frozenset({KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION,
                            KafkaError.REBALANCE_IN_PROGRESS})
# A rebalance moves only the partitions that change hands; the rest keep their writer.
COOPERATIVE = {"partition.assignment.strategy": "cooperative-sticky"}


def _log_failure(error: KafkaError | None, _message: Message) -> None:
    if error is not None:
        logger.warning("price.tick not published: %s", error)


class Feeds:
    """The feeds this replica runs: one per owned symbol of `MARKETDATA_FEEDS`, each
    stream feed on its own stop event, so losing one symbol stops exactly its feed."""

    def __init__(self, pipeline: MarketDataPipeline) -> None:
        self._pipeline = pipeline
        self._stops: dict[str, threading.Event] = {}

    def follow(self, ownership: SymbolOwnership) -> None:
        """Start the feeds of newly owned symbols; stop those lost, forgetting their state."""
        for symbol in [symbol for symbol in self._pipeline.symbols
                       if not ownership.owns(symbol)]:
            self._stop(symbol)
            self._pipeline.forget(symbol)
        for symbol, config in settings.MARKETDATA_FEEDS.items():
            if ownership.owns(symbol) and symbol not in self._pipeline.feeds:
                self._start(symbol, config)

    def _start(self, symbol: str, config: dict[str, str]) -> None:
        feed = build_feed(symbol, config, seed=settings.MARKETDATA_SIMULATOR_SEED)
        self._pipeline.feeds[symbol] = feed
        if isinstance(feed, StreamFeed):
            self._stops[symbol] = threading.Event()
            start_streams([feed], self._stops[symbol])
        try:
            trade = selectors.last_trade(symbol=symbol)
        except DatabaseError as exc:  # the next trade on `prices` sets it anyway
            logger.warning("last trade price of %s not loaded: %s", symbol, exc)
        else:
            if trade is not None:
                self._pipeline.last_trade_prices.setdefault(symbol, trade.price)

    def _stop(self, symbol: str) -> None:
        stop = self._stops.pop(symbol, None)
        if stop is not None:
            stop.set()

    def advance_simulators(self) -> None:
        for feed in self._pipeline.feeds.values():
            if isinstance(feed, SimulatorFeed):
                feed.advance()

    def stop_all(self) -> None:
        for symbol in list(self._stops):
            self._stop(symbol)


def _commit(consumer: BatchConsumer, batch: Batch) -> None:
    """Commit the batch's offsets. A commit refused because the group moved on (this
    member was frozen past its session) changes nothing: the partitions' new owner
    consumes those events again, and applying them is idempotent."""
    try:
        consumer.commit(batch)
    except KafkaException as exc:
        if exc.args[0].code() not in GROUP_MOVED_ON:
            raise
        logger.warning("offsets of prices not committed, the group moved on: %s", exc)


def _claims(ownership: SymbolOwnership, pipeline: MarketDataPipeline) -> dict[str, Claim]:
    """The symbols this replica may write now; none while Redis cannot confirm it."""
    try:
        claims = ownership.confirm({*settings.MARKETDATA_FEEDS, *pipeline.symbols})
    except redis.RedisError as exc:
        logger.warning("symbol ownership not confirmed, nothing written: %s", exc)
        declare_not_ready(OWNERSHIP_CHECK, f"cannot confirm symbol ownership: {exc}"[:300])
        return {}
    declare_ready(OWNERSHIP_CHECK)
    return claims


class Command(RoleCommand):
    help = "Run the marketdata role."
    role = "marketdata"

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        ownership = SymbolOwnership(replica=replica_id())
        pipeline = MarketDataPipeline(feeds={})
        feeds = Feeds(pipeline)

        def on_assign(consumer: Consumer, partitions: list[TopicPartition]) -> None:
            topic = consumer.list_topics(PRICES, timeout=10).topics[PRICES]
            ownership.assign([tp.partition for tp in partitions],
                             partition_count=len(topic.partitions))
            feeds.follow(ownership)

        def on_revoke(_consumer: Consumer, partitions: list[TopicPartition]) -> None:
            ownership.revoke([tp.partition for tp in partitions])
            feeds.follow(ownership)

        producer = event_producer()
        consumer = BatchConsumer(
            topics=[PRICES], group_id=MARKETDATA_GROUP,
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, dead_letters=producer,
            extra={**settings.KAFKA_CLIENT_CONFIG, **COOPERATIVE},
            on_assign=on_assign, on_revoke=on_revoke)
        next_step = next_publish = time.monotonic()
        outage = DatabaseOutageGuard(consumer)  # pauses `prices` while PostgreSQL is down
        try:
            while not stop.is_set():
                heartbeat.beat()
                outage.resume_when_recovered()
                batch = consumer.poll_batch(timeout=0.1)
                if batch and outage.apply(batch, lambda applied: pipeline.apply(
                        consumed.event for consumed in applied.events)):
                    _commit(consumer, batch)
                now = time.monotonic()
                if now >= next_step:
                    feeds.advance_simulators()
                    next_step = now + settings.MARKETDATA_SIMULATOR_STEP_SECONDS
                if now >= next_publish:
                    self._publish(ownership, pipeline, feeds, producer)
                    next_publish = now + settings.MARKETDATA_PUBLISH_SECONDS
        finally:
            feeds.stop_all()
            consumer.close()
            close_producers()

    @staticmethod
    def _publish(ownership: SymbolOwnership, pipeline: MarketDataPipeline, feeds: Feeds,
                 producer: EventProducer) -> None:
        """Ticks and Redis copies of the symbols whose claims Redis has just confirmed;
        a symbol whose cache write is refused (a newer owner) is dropped at once."""
        claims = _claims(ownership, pipeline)
        feeds.follow(ownership)
        for event in pipeline.due_ticks(claims):
            claim = claims[event.payload["symbol"]]
            producer.send(PRICES, key=claim.symbol, event=event, on_delivery=_log_failure,
                          extra_headers=[("md_replica", claim.replica),
                                         ("md_epoch", str(claim.epoch))])
        try:
            refused = pipeline.refresh_cache(claims)
        except redis.RedisError as exc:
            logger.warning("market data not cached: %s", exc)
            return
        for symbol in refused:
            ownership.supersede(symbol)
        if refused:
            feeds.follow(ownership)
