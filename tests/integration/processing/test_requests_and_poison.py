"""Amend, expiry, duplicate and poison messages through the processor."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings

from apps.orders import services as orders
from apps.orders.events import ORDER_SUBMITTED
from apps.orders.models import Order
from apps.orders.selectors import order_visible_to
from apps.orders.tasks import expire_due_orders
from apps.processing import selectors
from apps.processing.models import OutboxEvent
from oms.events import Event, new_event
from oms.kafka.shared import event_producer
from oms.kafka.topics import EXECUTIONS, ORDERS
from tests.integration.conftest import Harness, place, trader

pytestmark = pytest.mark.django_db(transaction=True)


def view(order_id: str, user_id: int) -> orders.OrderView:
    found = order_visible_to(order_id=uuid.UUID(order_id), user_id=user_id, sees_all=False)
    assert found is not None
    return found


def usdt(user_id: int) -> tuple[Decimal, Decimal]:
    [balance] = [b for b in selectors.balances_of(user_id=user_id) if b.asset == "USDT"]
    return balance.available, balance.reserved


def test_amend_moves_the_reservation_and_can_cross(harness: Harness) -> None:
    buyer = trader("buyer", USDT="100000")
    seller = trader("seller", BTC="1")
    bid = place(buyer, "buy", "0.1", "49000.00")
    place(seller, "sell", "0.1", "50000.00")
    harness.drain(expect=2)
    assert usdt(buyer) == (Decimal("100000") - Decimal("4909.8"), Decimal("4909.8"))
    orders.request_amend(order=view(bid, buyer), requested_by=buyer,
                         price=Decimal("50000.00"), quantity=None)
    harness.drain(expect=1)
    order = Order.objects.get(id=bid)
    assert order.status == "SETTLED"
    assert order.price == Decimal("50000")
    # 5000 notional + 0.2 % taker fee (the amended order took liquidity), nothing reserved.
    assert usdt(buyer) == (Decimal("100000") - Decimal("5010"), Decimal(0))


def test_amend_down_in_quantity_keeps_priority(harness: Harness) -> None:
    first_buyer, second_buyer = trader("b1", USDT="100000"), trader("b2", USDT="100000")
    seller = trader("seller", BTC="1")
    first = place(first_buyer, "buy", "0.2", "49000.00")
    second = place(second_buyer, "buy", "0.2", "49000.00")
    harness.drain(expect=2)
    orders.request_amend(order=view(first, first_buyer), requested_by=first_buyer,
                         price=None, quantity=Decimal("0.1"))
    place(seller, "sell", "0.1", "49000.00")
    harness.drain(expect=2)
    assert Order.objects.get(id=first).status == "SETTLED"
    assert Order.objects.get(id=second).filled_quantity == 0


def test_expiry_task_cancels_due_gtd_orders(harness: Harness) -> None:
    buyer = trader("buyer", USDT="100000")
    place(buyer, "buy", "0.01", "30000.00")
    harness.drain(expect=1)  # the group has joined: the next drains are quick
    expires = datetime.now(UTC) + timedelta(seconds=2)
    order = orders.place_order(
        user_id=buyer, order_id=uuid.uuid4(), client_order_id=None,
        terms=orders.OrderTerms(symbol="BTC-USDT", side="buy", type="limit",
                                time_in_force="GTD", quantity=Decimal("0.01"),
                                price=Decimal("40000"), stop_price=None, post_only=False,
                                expires_at=expires))
    harness.drain(expect=1)
    assert expire_due_orders() == 0
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    assert expire_due_orders() == 1
    assert expire_due_orders() == 0  # asked once, not again while the processor works
    harness.drain(expect=1)
    stored = Order.objects.get(id=order.id)
    assert (stored.status, stored.reason_code) == ("CANCELLED", "expired")
    assert usdt(buyer)[1] == Decimal("300.6")  # only the first order's reserve remains


def test_a_duplicate_submission_is_applied_once(harness: Harness) -> None:
    buyer = trader("buyer", USDT="100000")
    order_id = place(buyer, "buy", "0.01", "40000.00")
    stored = view(order_id, buyer)
    payload = {"order_id": order_id, "user_id": buyer, "client_order_id": "again",
               "symbol": "BTC-USDT", "side": "buy", "type": "limit", "time_in_force": "GTC",
               "quantity": "0.01", "price": "40000", "stop_price": None, "post_only": False,
               "expires_at": None, "submitted_at": stored.created_at.isoformat()}
    event_producer().publish(ORDERS, key="BTC-USDT", event=new_event(ORDER_SUBMITTED, payload))
    harness.drain(expect=2)
    assert Order.objects.filter(id=order_id).count() == 1
    assert usdt(buyer) == (Decimal("100000") - Decimal("400.8"), Decimal("400.8"))


def test_a_poison_event_is_set_aside_and_the_partition_moves_on(harness: Harness) -> None:
    buyer = trader("buyer", USDT="100000")
    ghost = {"order_id": str(uuid.uuid4()), "user_id": 987654321, "client_order_id": "ghost",
             "symbol": "BTC-USDT", "side": "buy", "type": "limit", "time_in_force": "GTC",
             "quantity": "0.01", "price": "40000", "stop_price": None, "post_only": False,
             "expires_at": None, "submitted_at": datetime.now(UTC).isoformat()}
    event_producer().publish(ORDERS, key="BTC-USDT", event=new_event(ORDER_SUBMITTED, ghost))
    after = place(buyer, "buy", "0.01", "40000.00")
    harness.drain(expect=2)
    assert not Order.objects.filter(id=ghost["order_id"]).exists()
    assert Order.objects.get(id=after).status == "ACCEPTED"
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    reader = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
                       "group.id": f"dlq-{uuid.uuid4().hex[:6]}"})
    partitions = reader.list_topics("orders.dlq").topics["orders.dlq"].partitions
    reader.assign([TopicPartition("orders.dlq", p, OFFSET_BEGINNING) for p in partitions])
    values = [m.value() for _ in range(10) for m in reader.consume(100, 0.5) if not m.error()]
    reader.close()
    assert any(ghost["order_id"].encode() in (value or b"") for value in values)


def _rejections_of(order_id: str) -> list[dict[str, object]]:
    """The `order.rejected` events the processor wrote for an order."""
    events = [Event.from_json(bytes(body)) for body in OutboxEvent.objects.filter(
        topic=EXECUTIONS).values_list("body", flat=True)]
    return [dict(event.payload) for event in events
            if event.type == "order.rejected" and event.payload["order_id"] == order_id]


def test_a_client_order_id_reused_after_redis_forgot_it_is_rejected(harness: Harness) -> None:
    """Redis keeps a client order id for days; after that, entry lets a second order with
    the same id through, and the processor refuses it on `executions` (never in silence)."""
    buyer = trader("buyer", USDT="100000")
    first = place(buyer, "buy", "0.01", "40000.00")
    stored = view(first, buyer)
    reused = str(uuid.uuid4())
    payload = {"order_id": reused, "user_id": buyer, "client_order_id": stored.client_order_id,
               "symbol": "BTC-USDT", "side": "buy", "type": "limit", "time_in_force": "GTC",
               "quantity": "0.02", "price": "40000", "stop_price": None, "post_only": False,
               "expires_at": None, "submitted_at": datetime.now(UTC).isoformat()}
    event_producer().publish(ORDERS, key="BTC-USDT", event=new_event(ORDER_SUBMITTED, payload))
    harness.drain(expect=2)
    assert not Order.objects.filter(id=reused).exists()
    [rejection] = _rejections_of(reused)
    assert (rejection["reason"], rejection["status"]) == ("duplicate_client_order_id",
                                                           "REJECTED")
    assert usdt(buyer) == (Decimal("100000") - Decimal("400.8"), Decimal("400.8"))


def test_an_order_id_reused_with_other_terms_is_refused_and_keeps_its_order(
        harness: Harness) -> None:
    """An Idempotency-Key reused after Redis forgot it derives the same order id: the new
    submission is refused with the recorded order's status, which stays as it was."""
    buyer = trader("buyer", USDT="100000")
    order_id = place(buyer, "buy", "0.01", "40000.00")
    payload = {"order_id": order_id, "user_id": buyer, "client_order_id": "other",
               "symbol": "BTC-USDT", "side": "buy", "type": "limit", "time_in_force": "GTC",
               "quantity": "0.05", "price": "40000", "stop_price": None, "post_only": False,
               "expires_at": None,
               "submitted_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    event_producer().publish(ORDERS, key="BTC-USDT", event=new_event(ORDER_SUBMITTED, payload))
    harness.drain(expect=2)
    [rejection] = _rejections_of(order_id)
    assert (rejection["reason"], rejection["status"]) == ("duplicate_order_id", "ACCEPTED")
    assert Order.objects.get(id=order_id).quantity == Decimal("0.01")


def test_a_cancel_that_lost_the_race_to_a_fill_reports_the_fill(harness: Harness) -> None:
    """The cancel arrives after the fill: it is refused with the order's true status, not
    a `CANCELLED` that never happened."""
    seller = trader("seller", BTC="1")
    buyer = trader("buyer", USDT="100000")
    resting = place(seller, "sell", "0.01", "40000.00")
    harness.drain(expect=1)
    place(buyer, "buy", "0.01", "40000.00")
    orders.request_cancel(order=view(resting, seller), requested_by=seller)
    harness.drain(expect=2)
    [refusal] = _rejections_of(resting)
    assert (refusal["request"], refusal["reason"], refusal["status"]) == (
        "cancel", "order_not_working", "SETTLED")
    assert Order.objects.get(id=resting).status == "SETTLED"


def test_an_amend_refused_by_the_engine_keeps_the_expiries_it_applied(
        harness: Harness) -> None:
    """The engine expires due GTD orders before it looks at an amend; when it then refuses
    the amend (a post-only that would take), those expiries stand: the expired order is
    cancelled and its reservation released, not left in the book of the database."""
    seller = trader("seller", BTC="1")
    buyer = trader("buyer", USDT="100000")
    place(seller, "sell", "0.01", "50010.00")  # stays: what the amend would take
    harness.drain(expect=1)
    expires = datetime.now(UTC) + timedelta(seconds=2)
    gtd = orders.place_order(
        user_id=seller, order_id=uuid.uuid4(), client_order_id=None,
        terms=orders.OrderTerms(symbol="BTC-USDT", side="sell", type="limit",
                                time_in_force="GTD", quantity=Decimal("0.02"),
                                price=Decimal("50020"), stop_price=None, post_only=False,
                                expires_at=expires))
    bid = place(buyer, "buy", "0.01", "49000.00", post_only=True)
    harness.drain(expect=2)
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    orders.request_amend(order=view(bid, buyer), requested_by=buyer,
                         price=Decimal("50010.00"), quantity=None)
    harness.drain(expect=1)
    [refusal] = _rejections_of(bid)
    assert (refusal["request"], refusal["reason"]) == ("amend", "post_only_would_take")
    expired = Order.objects.get(id=gtd.id)
    assert (expired.status, expired.reason_code) == ("CANCELLED", "expired")
    [btc] = [b for b in selectors.balances_of(user_id=seller) if b.asset == "BTC"]
    assert btc.reserved == Decimal("0.01")  # only the order that still rests
    assert Order.objects.get(id=bid).status == "ACCEPTED"
