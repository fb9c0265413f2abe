"""Traders, an operator, the demo instruments, and a reader of the `orders` topic."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis as redis_lib
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts.authentication import CachedTokenAuthentication
from apps.orders import services
from apps.orders.selectors import forget_instrument_rules
from oms.auth.roles import Role, assign_role
from oms.events import Event, validate_event
from oms.kafka.config import consumer_config
from oms.kafka.topics import ORDERS


@pytest.fixture(autouse=True)
def clean_caches(redis_client: redis_lib.Redis) -> Iterator[None]:
    redis_client.flushdb()
    forget_instrument_rules()
    CachedTokenAuthentication.forget_all()
    yield
    forget_instrument_rules()


@pytest.fixture
def instruments(db: None) -> None:
    for symbol, tick, lot, notional in [("BTC-USDT", "0.01", "0.00001", "10"),
                                        ("ETH-USDT", "0.01", "0.0001", "10")]:
        services.upsert_instrument(
            symbol=symbol, base_asset=symbol.split("-")[0], quote_asset="USDT",
            tick_size=Decimal(tick), lot_size=Decimal(lot), min_quantity=Decimal(lot),
            max_quantity=Decimal("1000"), min_notional=Decimal(notional),
            maker_fee_rate=Decimal("0.001"), taker_fee_rate=Decimal("0.001"),
        )


def client_for(username: str, role: Role) -> APIClient:
    user = get_user_model().objects.create(username=username)
    assign_role(user, role)
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def alice(instruments: None) -> APIClient:
    return client_for("alice", Role.TRADER)


@pytest.fixture
def bob(instruments: None) -> APIClient:
    return client_for("bob", Role.TRADER)


@pytest.fixture
def ops(instruments: None) -> APIClient:
    return client_for("operator", Role.OPS)


def limit_order(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {"symbol": "BTC-USDT", "side": "buy", "type": "limit",
                               "quantity": "0.01", "price": "50000.00"}
    body.update(overrides)
    return body


class OrdersTopic:
    """Reads every partition of the `orders` topic from the beginning (assigned, not
    subscribed: no group join to wait for)."""

    def __init__(self) -> None:
        self.consumer = Consumer(consumer_config(settings.KAFKA_BOOTSTRAP_SERVERS,
                                                 f"test-reader-{uuid.uuid4().hex[:8]}"))
        self.admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
        self.partitions = list(
            self.consumer.list_topics(ORDERS, timeout=10).topics[ORDERS].partitions)
        self.consumer.assign([TopicPartition(ORDERS, p, OFFSET_BEGINNING)
                              for p in self.partitions])
        self.seen: list[tuple[str | None, Event, dict[str, bytes]]] = []

    def events_about(self, order_id: str, *, expect: int = 1,
                     seconds: float = 20) -> list[tuple[str | None, Event, dict[str, bytes]]]:
        """Events whose payload names `order_id`, once `expect` of them arrived."""
        deadline = time.monotonic() + seconds
        while True:
            matching = [item for item in self.seen if item[1].payload["order_id"] == order_id]
            if len(matching) >= expect or time.monotonic() > deadline:
                return matching
            for message in self.consumer.consume(100, 0.3):
                if message.error() is None:
                    key = message.key()
                    event = Event.from_json(message.value() or b"")
                    validate_event(event)
                    self.seen.append((key.decode() if key else None, event,
                                      {k: v for k, v in message.headers() or []}))

    def end_offsets(self) -> int:
        """The sum of the topic's high watermarks: unchanged means nothing was published."""
        futures = self.admin.list_offsets(
            {TopicPartition(ORDERS, partition): OffsetSpec.latest()
             for partition in self.partitions}, request_timeout=10)
        return sum(future.result().offset for future in futures.values())

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def orders_topic() -> Iterator[OrdersTopic]:
    topic = OrdersTopic()
    yield topic
    topic.close()
