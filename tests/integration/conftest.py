"""A processor fed from the real `orders` topic, and funded traders."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import redis as redis_lib
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.orders import services as orders
from apps.orders.domain.rules import OrderTerms, default_time_in_force
from apps.orders.selectors import forget_instrument_rules
from apps.processing import services as processing
from apps.processing.models import PartitionOwnership
from apps.processing.processor import BatchProcessor
from oms.kafka.consumer import BatchConsumer
from oms.kafka.shared import event_producer
from oms.kafka.topics import ORDERS, dead_letter_topic
from oms.terms import OrderType, Side, TimeInForce


@pytest.fixture(autouse=True)
def clean_redis(redis_client: redis_lib.Redis) -> None:
    redis_client.flushdb()
    forget_instrument_rules()


@pytest.fixture
def btc(transactional_db: None) -> None:
    orders.upsert_instrument(
        symbol="BTC-USDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
        lot_size=Decimal("0.00001"), min_quantity=Decimal("0.00001"),
        max_quantity=Decimal("1000"), min_notional=Decimal("10"),
        maker_fee_rate=Decimal("0.001"), taker_fee_rate=Decimal("0.002"),
    )


def trader(name: str, **funds: str) -> int:
    user = get_user_model().objects.create(username=f"{name}-{uuid.uuid4().hex[:6]}")
    for asset, amount in funds.items():
        processing.deposit(user_id=user.pk, asset=asset, amount=Decimal(amount),
                           reference=f"{user.pk}:{asset}")
    return int(user.pk)


def place(user_id: int, side: str, quantity: str, price: str | None = None, *,
          order_type: str = "limit", time_in_force: str | None = None,
          stop_price: str | None = None, post_only: bool = False) -> str:
    order = orders.place_order(
        user_id=user_id, order_id=uuid.uuid4(), client_order_id=None,
        terms=OrderTerms(symbol="BTC-USDT", side=Side(side), type=OrderType(order_type),
                         time_in_force=(TimeInForce(time_in_force) if time_in_force
                                        else default_time_in_force(OrderType(order_type))),
                         quantity=Decimal(quantity),
                         price=None if price is None else Decimal(price),
                         stop_price=None if stop_price is None else Decimal(stop_price),
                         post_only=post_only, expires_at=None),
    )
    return str(order.id)


def start_at_end(group: str) -> None:
    """The orders topic holds other tests' events too: a new group starts at its end."""
    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    partitions = admin.list_topics(ORDERS, timeout=10).topics[ORDERS].partitions
    offsets = admin.list_offsets({TopicPartition(ORDERS, p): OffsetSpec.latest()
                                  for p in partitions})
    for tp, future in offsets.items():
        PartitionOwnership.objects.create(group=group, topic=ORDERS, partition=tp.partition,
                                          next_offset=future.result().offset)


class Harness:
    """A `BatchProcessor` and its consumer, stepped by the test."""

    def __init__(self, group: str, *, new: bool = True) -> None:
        if new:
            start_at_end(group)
        self.processor = BatchProcessor(group=group)
        self.consumer = BatchConsumer(
            topics=[ORDERS], group_id=group, bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
            dead_letters=event_producer(), on_assign=self._assign, on_revoke=self._revoke)

    def _assign(self, consumer, partitions) -> None:  # type: ignore[no-untyped-def]
        resume = self.processor.claim([tp.partition for tp in partitions])
        for tp in partitions:
            tp.offset = resume[tp.partition]
        consumer.assign(partitions)

    def _revoke(self, _consumer, partitions) -> None:  # type: ignore[no-untyped-def]
        self.processor.release([tp.partition for tp in partitions])

    def drain(self, *, expect: int, seconds: float = 30) -> int:
        """Process batches until `expect` events were applied."""
        applied = 0
        deadline = time.monotonic() + seconds
        while applied < expect and time.monotonic() < deadline:
            batch = self.consumer.poll_batch(max_messages=500, timeout=0.3)
            if batch:
                self.processor.process(batch, set_aside=self.consumer.dead_letter_event)
                applied += len(batch.events)
        return applied

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def harness(btc: None) -> Iterator[Harness]:
    # The orders topic holds other tests' events too: start this group at the end.
    h = Harness(f"test-processor-{uuid.uuid4().hex[:8]}")
    yield h
    h.close()


def risk_events_about(key: str) -> list[bytes]:
    """The bodies of every message on `risk-events` with this key, from the beginning."""
    reader = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
                       "group.id": f"audit-{uuid.uuid4().hex[:6]}"})
    partitions = reader.list_topics("risk-events").topics["risk-events"].partitions
    reader.assign([TopicPartition("risk-events", p, OFFSET_BEGINNING) for p in partitions])
    seen = [m.value() or b"" for _ in range(8) for m in reader.consume(100, 0.5)
            if not m.error() and m.key() == key.encode()]
    reader.close()
    return seen


def dead_letters(topic: str, *, keep: Callable[[Message], bool] = lambda _: True,
                 seconds: float = 30) -> list[Message]:
    """The messages of `topic`'s dead-letter topic that `keep` selects, read from its
    beginning until some arrive (or `seconds` pass)."""
    raw = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
                    "group.id": f"raw-{uuid.uuid4().hex[:8]}", "auto.offset.reset": "earliest"})
    raw.subscribe([dead_letter_topic(topic)])
    found: list[Message] = []
    deadline = time.monotonic() + seconds
    while not found and time.monotonic() < deadline:
        found = [m for m in raw.consume(500, 0.5) if m.error() is None and keep(m)]
    raw.close()
    return found
