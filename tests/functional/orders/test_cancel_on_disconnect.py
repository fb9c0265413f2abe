"""Cancel-on-disconnect against the real ws role (daphne through `oms.serve`, as the
Procfile runs it), Redis and broker: a client that opened `/ws/orders` with
`?cancel_on_disconnect=true` has every working order of its account cancelled with reason
`disconnect` (on the `orders` topic, where the processor takes it) when it goes away; a
client that did not opt in keeps its orders, and no other account is touched. A bad value
is named in an error message and closed with 4400; a server draining for a restart cancels
nothing. Dependencies down at the disconnect, on the ws process's own call: the broker
down leaves the account due and the beat task fires it later; Redis down is an error the
ws process retries."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis as redis_lib
from channels.layers import channel_layers
from django.test import override_settings
from websockets.sync.client import ClientConnection

from apps.orders.cancel_on_disconnect import DISCONNECTS, cancel_on_disconnect
from apps.orders.models import Order
from apps.orders.services import OrderEntryUnavailable
from apps.orders.tasks import fire_dead_man_switches
from oms.kafka.shared import close_producers
from oms.resilience.breakers import forget_breakers
from tests.functional.accounts.conftest import create_instruments, reset_caches
from tests.functional.conftest import serving
from tests.functional.orders.conftest import OrdersTopic
from tests.functional.test_websocket_clients import (
    closed_with,
    next_message,
    open_stream,
    ticket,
    trader,
)

pytestmark = pytest.mark.services

CLOSE_INVALID_PARAMETER = 4400
CLOSE_RESTARTING = 4503
DEAD_BROKER = "127.0.0.1:1"


@pytest.fixture(autouse=True)
def clean_caches(redis_client: redis_lib.Redis) -> Iterator[None]:
    reset_caches(redis_client)
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def committed_instruments(transactional_db: None) -> None:
    """Committed: the ws role is another process."""
    create_instruments()


@pytest.fixture
def ws_role(committed_instruments: None, served_app: str) -> str:
    return served_app


def working_order(user: Any, *, symbol: str = "BTC-USDT", status: str = "ACCEPTED") -> str:
    """An order as the processor records it (committed: the ws role is another process)."""
    now = datetime.now(UTC)
    order = Order.objects.create(
        id=uuid.uuid4(), user=user, client_order_id=uuid.uuid4().hex[:10], symbol=symbol,
        side="buy", type="limit", time_in_force="GTC", quantity=Decimal("0.5"),
        price=Decimal("50000"), status=status, created_at=now, updated_at=now)
    return str(order.id)


def orders_stream(base: str, token: str, query: str = "") -> ClientConnection:
    """`/ws/orders` with a fresh ticket of the token's user and `query` added."""
    once = ticket(base, headers={"Authorization": f"Token {token}"})
    return open_stream(base, f"/ws/orders?ticket={once}{query}")


def cancel_reasons(topic: OrdersTopic, order_id: str, *, seconds: float = 20) -> list[str]:
    return [str(event.payload["reason"]) for _, event, _ in
            topic.events_about(order_id, seconds=seconds)
            if event.type == "order.cancel_requested"]


def test_an_opted_in_client_that_goes_away_has_its_working_orders_cancelled(
        ws_role: str, orders_topic: OrdersTopic) -> None:
    (alice, alice_token), (bob, bob_token), (carol, _) = (
        trader("alice"), trader("bob"), trader("carol"))
    alices = [working_order(alice), working_order(alice, symbol="ETH-USDT")]
    alices_filled = working_order(alice, status="FILLED")
    bobs, carols = working_order(bob), working_order(carol)
    with orders_stream(ws_role, alice_token, "&cancel_on_disconnect=true") as opted, \
            orders_stream(ws_role, bob_token, "&cancel_on_disconnect=false") as not_opted:
        assert next_message(opted, "subscribed")["cancel_on_disconnect"] is True
        assert next_message(not_opted, "subscribed")["cancel_on_disconnect"] is False
    # Both went away; only alice opted in.
    for order_id in alices:
        assert cancel_reasons(orders_topic, order_id) == ["disconnect"]
    for order_id in (alices_filled, bobs, carols):
        assert orders_topic.events_about(order_id, seconds=1) == []


def test_without_the_parameter_nothing_is_cancelled(ws_role: str,
                                                   orders_topic: OrdersTopic) -> None:
    alice, token = trader("alice")
    order_id = working_order(alice)
    with orders_stream(ws_role, token) as stream:
        assert next_message(stream, "subscribed")["cancel_on_disconnect"] is False
    assert orders_topic.events_about(order_id, seconds=3) == []


@pytest.mark.parametrize(("query", "reason"), [
    ("&cancel_on_disconnect=yes", "invalid_cancel_on_disconnect"),
    ("&cancel_on_disconnect=", "invalid_cancel_on_disconnect"),
    ("&cancel_on_disconnect=True", "invalid_cancel_on_disconnect"),
    ("&since=soon&cancel_on_disconnect=true", "invalid_since"),
])
def test_a_bad_parameter_is_named_then_closed_with_4400_and_arms_nothing(
        ws_role: str, orders_topic: OrdersTopic, query: str, reason: str) -> None:
    alice, token = trader("alice")
    order_id = working_order(alice)
    with orders_stream(ws_role, token, query) as stream:
        assert next_message(stream, "error")["code"] == reason
        assert closed_with(stream) == CLOSE_INVALID_PARAMETER
    assert orders_topic.events_about(order_id, seconds=2) == []


def test_a_server_draining_for_a_restart_cancels_nothing(
        committed_instruments: None, orders_topic: OrdersTopic) -> None:
    alice, token = trader("alice")
    order_id = working_order(alice)
    with contextlib.ExitStack() as client:
        with serving() as ws_role:
            stream = client.enter_context(
                orders_stream(ws_role, token, "&cancel_on_disconnect=true"))
            assert next_message(stream, "subscribed")["cancel_on_disconnect"] is True
        # Leaving `serving` sent SIGTERM and waited for the process to drain and exit.
        assert closed_with(stream, seconds=1) == CLOSE_RESTARTING
    assert orders_topic.events_about(order_id, seconds=3) == []


def test_a_disconnect_while_the_broker_is_down_is_left_due_and_fired_by_the_beat_task(
        committed_instruments: None, orders_topic: OrdersTopic,
        redis_client: redis_lib.Redis) -> None:
    alice, _ = trader("alice")
    order_id = working_order(alice)
    disconnected_at = datetime.now(UTC)
    try:
        # The ws process's view of a broker that does not answer (librdkafka gives up on
        # the cancel request after 300 ms); Redis and the database are the real ones.
        with override_settings(KAFKA_BOOTSTRAP_SERVERS=DEAD_BROKER,
                               KAFKA_CLIENT_CONFIG={"message.timeout.ms": 300}):
            assert cancel_on_disconnect(user_id=alice.pk, now=disconnected_at) is None
    finally:
        close_producers(timeout=0)
        forget_breakers()
    assert redis_client.zscore(DISCONNECTS.key, str(alice.pk)) == disconnected_at.timestamp()
    assert orders_topic.events_about(order_id, seconds=1) == []
    assert fire_dead_man_switches() == 1  # the beat's next tick, with the broker back
    assert cancel_reasons(orders_topic, order_id) == ["disconnect"]
    assert redis_client.zscore(DISCONNECTS.key, str(alice.pk)) is None
    assert fire_dead_man_switches() == 0  # fired once


def test_redis_down_at_disconnect_is_an_error_the_ws_process_retries(
        committed_instruments: None, orders_topic: OrdersTopic) -> None:
    alice, _ = trader("alice")
    order_id = working_order(alice)
    try:
        with override_settings(REDIS_URL=f"redis://{DEAD_BROKER}/0"), \
                pytest.raises(OrderEntryUnavailable) as failure:
            cancel_on_disconnect(user_id=alice.pk, now=datetime.now(UTC))
    finally:
        forget_breakers()
    assert failure.value.dependency == "redis"
    assert orders_topic.events_about(order_id, seconds=1) == []
