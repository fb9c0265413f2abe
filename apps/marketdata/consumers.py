"""The market data context's consumer, `marketdata` (group `market-data-group`). Runs the
feeds (the simulator in process, Binance or Coinbase streams where `MARKETDATA_FEEDS` says
so), consumes `prices` (the internal book and trades), records trades and candles,
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

import redis
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from django.conf import settings
from django.db import DatabaseError

from apps.marketdata import selectors
from apps.marketdata.feeds.base import StreamFeed
from apps.marketdata.feeds.client import start_streams
from apps.marketdata.feeds.registry import build_feed
from apps.marketdata.feeds.simulator import SimulatorFeed
from apps.marketdata.ownership import Claim, SymbolOwnership, replica_id
from apps.marketdata.pipeline import MarketDataPipeline
from oms.consumers.registry import register
from oms.consumers.spec import BatchHandler, ConsumerSpec
from oms.kafka.consumer import Batch
from oms.kafka.shared import event_producer
from oms.kafka.topics import PRICES
from oms.observability.health import declare_not_ready, declare_ready

logger = logging.getLogger(__name__)

MARKETDATA_GROUP = "market-data-group"
# Named in `/ready` while this replica cannot check its claims (Redis unreachable).
OWNERSHIP_CHECK = "symbol_ownership"
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


class MarketData(BatchHandler):
    """Applies `prices` to the pipeline, runs the feeds of the symbols the group assigned
    this replica, steps the simulators and publishes ticks and Redis copies on their own
    clocks."""

    def __init__(self) -> None:
        self.ownership = SymbolOwnership(replica=replica_id())
        self.pipeline = MarketDataPipeline(feeds={})
        self.feeds = Feeds(self.pipeline)
        self.next_step = self.next_publish = time.monotonic()

    def apply(self, batch: Batch) -> None:
        self.pipeline.apply(consumed.event for consumed in batch.events)

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        topic = consumer.list_topics(PRICES, timeout=10).topics[PRICES]
        self.ownership.assign([tp.partition for tp in partitions],
                              partition_count=len(topic.partitions))
        self.feeds.follow(self.ownership)

    def on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.ownership.revoke([tp.partition for tp in partitions])
        self.feeds.follow(self.ownership)

    def between_polls(self) -> None:
        now = time.monotonic()
        if now >= self.next_step:
            self.feeds.advance_simulators()
            self.next_step = now + settings.MARKETDATA_SIMULATOR_STEP_SECONDS
        if now >= self.next_publish:
            self._publish()
            self.next_publish = now + settings.MARKETDATA_PUBLISH_SECONDS

    def close(self) -> None:
        self.feeds.stop_all()

    def _publish(self) -> None:
        """Ticks and Redis copies of the symbols whose claims Redis has just confirmed;
        a symbol whose cache write is refused (a newer owner) is dropped at once."""
        claims = _claims(self.ownership, self.pipeline)
        self.feeds.follow(self.ownership)
        producer = event_producer()
        for event in self.pipeline.due_ticks(claims):
            claim = claims[event.payload["symbol"]]
            producer.send(PRICES, key=claim.symbol, event=event, on_delivery=_log_failure,
                          extra_headers=[("md_replica", claim.replica),
                                         ("md_epoch", str(claim.epoch))])
        try:
            refused = self.pipeline.refresh_cache(claims)
        except redis.RedisError as exc:
            logger.warning("market data not cached: %s", exc)
            return
        for symbol in refused:
            self.ownership.supersede(symbol)
        if refused:
            self.feeds.follow(self.ownership)


register(ConsumerSpec(
    name="marketdata", topics=(PRICES,), group=MARKETDATA_GROUP, handler=MarketData,
    batch_size=500, poll_timeout=0.1, kafka_config=COOPERATIVE,
    summary="feeds, trades, candles, `price.tick`, the Redis book and price copies; "
            "replicas share the symbols"))
