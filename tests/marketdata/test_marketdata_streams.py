"""The live streams fed from the real broker through the process's hub: a book rebuilt from
the snapshot and deltas equals the REST book, unsubscribe stops messages, private streams
stay private, a slow client does not hold up the others (and is told what it missed), and
silent clients are closed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.accounts.websocket import StreamTicketAuth
from apps.marketdata.feeds.registry import build_feeds
from apps.marketdata.pipeline import MarketDataPipeline
from apps.marketdata.ws import MarketDataConsumer
from config.routing import websocket_urlpatterns
from tests.marketdata.conftest import (
    book_event,
    fill_event,
    publish,
    sole_claims,
    trade_event,
)

pytestmark = pytest.mark.services
APP = StreamTicketAuth(URLRouter(websocket_urlpatterns))
SNAPSHOT = book_event("snapshot", 10, [["59999", "1"], ["59998", "2"]],
                      [["60001", "1"], ["60003", "4"]])


@pytest.fixture(autouse=True)
def fresh_channel_layer(transactional_db: None) -> Iterator[None]:
    channel_layers.backends.clear()  # one event loop per test: no pooled connections shared
    yield
    channel_layers.backends.clear()
    # The consumers' database calls ran on asgiref's worker thread: close its connection so
    # the test database can be dropped.
    asyncio.run(database_sync_to_async(connections.close_all)())


@pytest.fixture
def pipeline(instruments: None) -> MarketDataPipeline:
    pipeline = MarketDataPipeline(feeds=build_feeds({}, seed=7))
    pipeline.apply([SNAPSHOT])
    pipeline.refresh_cache(sole_claims(pipeline.symbols))
    return pipeline


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


async def connect(path: str = "/ws/market-data") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(APP, path)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def subscribe(communicator: WebsocketCommunicator, channel: str,
                    symbol: str = "BTC-USDT", action: str = "subscribe") -> None:
    await communicator.send_json_to({"action": action, "symbol": symbol, "channel": channel})
    reply = await communicator.receive_json_from(timeout=5)
    assert {"type": f"{action}d", "symbol": symbol, "channel": channel}.items() <= reply.items()


async def receive_until(communicator: WebsocketCommunicator, wanted: Callable[[Any], bool],
                        timeout: float = 5) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            message = await communicator.receive_json_from(timeout=timeout)
            if wanted(message):
                return message


def apply_levels(book: dict[str, dict[Decimal, Decimal]], message: dict[str, Any]) -> None:
    for side in ("bids", "asks"):
        for price, quantity in message[side]:
            if Decimal(quantity) == 0:
                book[side].pop(Decimal(price), None)
            else:
                book[side][Decimal(price)] = Decimal(quantity)


def test_snapshot_then_deltas_rebuild_exactly_the_rest_book(
        pipeline: MarketDataPipeline) -> None:
    deltas = [book_event("delta", 11, [["59999", "0"], ["59999.5", "3"]], []),
              book_event("delta", 12, [], [["60001", "0.5"], ["60002", "1"]]),
              book_event("delta", 13, [["59997", "7"]], [["60003", "0"]])]

    async def scenario() -> None:
        client = await connect()
        await subscribe(client, "book")
        snapshot = await client.receive_json_from(timeout=5)
        assert snapshot["type"] == "snapshot"
        assert snapshot["sequence"] == 10
        book: dict[str, dict[Decimal, Decimal]] = {"bids": {}, "asks": {}}
        apply_levels(book, snapshot)
        sequence = snapshot["sequence"]
        await asyncio.to_thread(publish, deltas)
        for _ in deltas:
            delta = await client.receive_json_from(timeout=5)
            assert delta["type"] == "delta"
            assert delta["sequence"] == sequence + 1
            sequence = delta["sequence"]
            apply_levels(book, delta)
        await client.disconnect()
        pipeline.apply(deltas)
        await asyncio.to_thread(pipeline.refresh_cache, sole_claims(pipeline.symbols))
        rest = (await asyncio.to_thread(
            APIClient().get, "/api/market-data/orderbook/BTC-USDT?depth=100")).json()
        assert rest["sequence"] == sequence == 13
        assert [[Decimal(p), Decimal(q)] for p, q in rest["bids"]] == sorted(
            ([p, q] for p, q in book["bids"].items()), reverse=True)
        assert [[Decimal(p), Decimal(q)] for p, q in rest["asks"]] == sorted(
            [p, q] for p, q in book["asks"].items())

    run(scenario)


def test_a_delta_that_does_not_follow_is_replaced_by_a_fresh_snapshot(
        pipeline: MarketDataPipeline) -> None:
    async def scenario() -> None:
        client = await connect()
        await subscribe(client, "book")
        assert (await client.receive_json_from(timeout=5))["sequence"] == 10
        pipeline.apply([book_event("snapshot", 20, [["59000", "1"]], [])])
        await asyncio.to_thread(pipeline.refresh_cache, sole_claims(pipeline.symbols))
        await asyncio.to_thread(publish, [book_event("delta", 21, [], [])])
        fresh = await client.receive_json_from(timeout=5)
        # The cache's snapshot brought up to date with the delta: the latest state.
        assert (fresh["type"], fresh["sequence"], fresh["seq"], fresh["bids"]) == (
            "snapshot", 21, 21, [["59000", "1"]])
        await client.disconnect()

    run(scenario)


def test_ticker_and_trades_flow_until_unsubscribed(pipeline: MarketDataPipeline) -> None:
    async def scenario() -> None:
        client = await connect()
        await subscribe(client, "trades")
        await subscribe(client, "ticker")
        await asyncio.to_thread(publish, [trade_event("60000", "0.1"), *pipeline.due_ticks()])
        kinds = {(await client.receive_json_from(timeout=5))["type"] for _ in range(2)}
        assert kinds == {"trade", "ticker"}
        await subscribe(client, "trades", action="unsubscribe")
        await asyncio.to_thread(publish, [trade_event("60001", "0.1")])
        assert await client.receive_nothing(timeout=0.5)
        await client.disconnect()

    run(scenario)


def test_subscribing_to_an_unknown_symbol_or_channel_is_an_error(instruments: None) -> None:
    async def scenario() -> None:
        client = await connect()
        for request in ({"action": "subscribe", "symbol": "DOGE-USDT", "channel": "book"},
                        {"action": "subscribe", "symbol": "BTC-USDT", "channel": "l3"}):
            await client.send_json_to(request)
            reply = await client.receive_json_from(timeout=5)
            assert reply["type"] == "error"
            assert reply["code"] == "invalid_subscription"
        await client.disconnect()

    run(scenario)


def test_private_stream_delivers_only_the_users_own_executions(instruments: None) -> None:
    users = [get_user_model().objects.create(username=name) for name in ("alice", "bob")]
    tickets = [accounts.issue_stream_ticket(user_id=user.id).ticket for user in users]

    async def scenario() -> None:
        anonymous = WebsocketCommunicator(APP, "/ws/orders")
        connected, _ = await anonymous.connect()
        assert not connected
        alice = await connect(f"/ws/orders?ticket={tickets[0]}")
        bob = await connect(f"/ws/orders?ticket={tickets[1]}")
        for client in (alice, bob):
            assert (await client.receive_json_from(timeout=5))["type"] == "subscribed"
        alice_fill, bob_fill = fill_event(users[0].id), fill_event(users[1].id)
        await asyncio.to_thread(publish, [alice_fill, bob_fill])
        to_alice = await alice.receive_json_from(timeout=5)
        assert (to_alice["type"], to_alice["event"], to_alice["event_id"]) == (
            "execution", "order.fill", alice_fill.event_id)
        assert to_alice["payload"]["user_id"] == users[0].id
        assert to_alice["seq"] == 1
        to_bob = await bob.receive_json_from(timeout=5)
        assert to_bob["event_id"] == bob_fill.event_id
        assert await alice.receive_nothing(timeout=0.5)
        assert await bob.receive_nothing(timeout=0.2)
        await alice.disconnect()
        await bob.disconnect()

    run(scenario)


class SlowConsumer(MarketDataConsumer):
    """A client on a slow link: every trade takes a while to send."""

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                   close: bool = False) -> None:
        if text_data and '"type":"trade"' in text_data:
            await asyncio.sleep(0.2)
        await super().send(text_data, bytes_data, close)


@override_settings(MARKETDATA_WS_QUEUE_SIZE=5)
def test_a_slow_client_degrades_alone(pipeline: MarketDataPipeline) -> None:
    trades = [trade_event("60000", "0.01") for _ in range(30)]

    async def scenario() -> None:
        slow = WebsocketCommunicator(SlowConsumer.as_asgi(), "/ws/market-data")
        assert (await slow.connect())[0]
        fast = await connect()
        for client in (slow, fast):
            await subscribe(client, "trades")
        for trade in trades:  # one at a time, as trades happen: the fast one keeps up
            await asyncio.to_thread(publish, [trade])
        received = [await receive_until(fast, lambda m: m["type"] in ("trade", "gap"))
                    for _ in trades]
        assert [m["trade_id"] for m in received] == [e.payload["trade_id"] for e in trades]
        notice = await receive_until(slow, lambda m: m["type"] == "gap", timeout=10)
        assert (notice["channel"], notice["reason"]) == ("trades", "slow_reader")
        assert 1 < notice["from"] <= notice["to"] <= len(trades)
        for client in (slow, fast):
            with contextlib.suppress(asyncio.CancelledError):
                await client.disconnect()

    run(scenario)


@override_settings(MARKETDATA_WS_HEARTBEAT_SECONDS=0.2)
def test_heartbeat_pings_and_closes_a_silent_client(instruments: None) -> None:
    async def scenario() -> None:
        client = await connect()
        assert await client.receive_json_from(timeout=2) == {"type": "ping"}
        await client.send_json_to({"type": "pong"})
        assert await client.receive_json_from(timeout=2) == {"type": "ping"}
        output = await receive_until_close(client)
        assert output["code"] == 4000

    async def receive_until_close(client: WebsocketCommunicator) -> dict[str, Any]:
        while True:
            output = await client.receive_output(timeout=3)
            if output["type"] == "websocket.close":
                return output

    run(scenario)
