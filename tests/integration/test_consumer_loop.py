"""A registered consumer run end to end by the shared loop (`oms.consumers.loop`), as
`manage.py run_consumer risk` runs it: the fill it consumes is applied (the position copied
to Redis), a message that is not an event goes to the dead-letter topic, the offsets past
both are committed to Kafka, and once asked to stop the loop returns after its batch,
having left its group."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
import redis as redis_lib
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections

from apps.processing.events import ORDER_FILL
from apps.risk.models import Position
from oms.consumers.loop import run_consumer
from oms.consumers.registry import consumer_named
from oms.events import new_event
from oms.kafka.producer import EventProducer
from oms.kafka.topics import EXECUTIONS
from oms.observability.probe_server import Heartbeat
from tests.integration.conftest import dead_letters

SYMBOL = "BTC-USDT"


def fill_of(user_id: int) -> dict[str, object]:
    return {"order_id": str(uuid.uuid4()), "user_id": user_id, "symbol": SYMBOL,
            "fill_id": str(uuid.uuid4()), "trade_id": str(uuid.uuid4()), "side": "buy",
            "price": "60000", "quantity": "0.01", "fee": "0.6", "fee_asset": "USDT",
            "liquidity": "taker", "filled_quantity": "0.01", "remaining_quantity": "0",
            "average_fill_price": "60000", "status": "FILLED",
            "counterparty_order_id": str(uuid.uuid4())}


def publish_junk(producer: EventProducer) -> Message:
    delivered: list[tuple[KafkaError | None, Message]] = []
    producer.produce_raw(EXECUTIONS, key=SYMBOL.encode(), value=b"{not an event",
                         headers=[], on_delivery=lambda error, m: delivered.append((error, m)))
    assert producer.flush(10) == 0
    [(error, message)] = delivered
    assert error is None
    return message


def committed(group: str, partition: int) -> int:
    reader = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
                       "group.id": group})
    [position] = reader.committed([TopicPartition(EXECUTIONS, partition)], timeout=10)
    reader.close()
    return int(position.offset)


@pytest.mark.django_db(transaction=True)
def test_the_shared_loop_applies_dead_letters_commits_and_stops(
    producer: EventProducer, redis_client: redis_lib.Redis
) -> None:
    user = get_user_model().objects.create_user(f"loop-{uuid.uuid4().hex[:8]}")
    Position.objects.create(user=user, symbol=SYMBOL, quantity=Decimal("0.01"),
                            average_entry_price=Decimal("60000"))
    key = f"position:{user.id}:{SYMBOL}"
    redis_client.delete(key)
    spec = replace(consumer_named("risk"), group=f"test-risk-{uuid.uuid4().hex[:8]}")
    stop, heartbeat = threading.Event(), Heartbeat()

    def run() -> None:
        try:
            run_consumer(spec, stop=stop, heartbeat=heartbeat)
        finally:
            connections.close_all()  # this thread's own database connection

    runner = threading.Thread(target=run, name="consumer-loop")
    runner.start()
    try:
        junk = publish_junk(producer)
        fill = producer.publish(EXECUTIONS, key=SYMBOL, event=new_event(ORDER_FILL,
                                                                        fill_of(user.id)))
        deadline = time.monotonic() + 60
        while redis_client.get(key) is None and time.monotonic() < deadline:
            assert runner.is_alive()
            time.sleep(0.2)
        cached = json.loads(redis_client.get(key) or b"{}")
        assert cached["quantity"] == "0.01"
        assert heartbeat.age() < 5
    finally:
        stop.set()
        runner.join(30)
    assert not runner.is_alive()

    [dead] = dead_letters(EXECUTIONS, keep=lambda m: dict(m.headers() or []).get(
        "dlq_group") == spec.group.encode())
    assert dead.value() == b"{not an event"
    assert dict(dead.headers() or [])["dlq_original"] == (
        f"{EXECUTIONS}/{junk.partition()}/{junk.offset()}".encode())
    assert committed(spec.group, fill.partition) > fill.offset
    assert committed(spec.group, junk.partition() or 0) > (junk.offset() or 0)
