"""Resuming live streams with `since`, against the real broker and Redis: a private stream
reconnected in the middle of a burst misses nothing, a private reader that stops reading
is closed with a reason and resumes without loss, and a book resumed within the window
gets exactly the deltas it missed, past the window a `gap` and a fresh snapshot.

Every check is by sequence: what a client holds at the end is each sequence once, in
order, and the events are exactly those published."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import override_settings

from apps.accounts import services as accounts
from apps.accounts.websocket import StreamTicketAuth
from apps.marketdata.pipeline import MarketDataPipeline
from apps.orders.ws import CLOSE_LAGGING, OrdersConsumer
from config.routing import websocket_urlpatterns
from oms.events import Event
from tests.marketdata.conftest import book_event, fill_event, publish, sole_claims
from tests.marketdata.test_marketdata_streams import pipeline  # noqa: F401 - a fixture

pytestmark = pytest.mark.services
APP = StreamTicketAuth(URLRouter(websocket_urlpatterns))
BURST = 200


@pytest.fixture(autouse=True)
def fresh_channel_layer(transactional_db: None) -> Iterator[None]:
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
    asyncio.run(database_sync_to_async(connections.close_all)())


@pytest.fixture
def alice(instruments: None) -> Any:
    return get_user_model().objects.create(username="alice")


async def open_orders(user_id: int, since: int | None = None,
                      app: Any = APP) -> tuple[WebsocketCommunicator, int]:
    """A private stream on a fresh ticket; returns it and the sequence it starts from."""
    ticket = await database_sync_to_async(accounts.issue_stream_ticket)(user_id=user_id)
    path = f"/ws/orders?ticket={ticket.ticket}" + ("" if since is None else f"&since={since}")
    communicator = WebsocketCommunicator(app, path)
    assert (await communicator.connect(timeout=10))[0]
    subscribed = await communicator.receive_json_from(timeout=10)
    assert subscribed["type"] == "subscribed"
    return communicator, subscribed["seq"]


async def executions_until(client: WebsocketCommunicator, last_seq: int) -> list[dict[str, Any]]:
    """Executions up to and including sequence `last_seq`."""
    received: list[dict[str, Any]] = []
    while not received or received[-1]["seq"] < last_seq:
        message = await client.receive_json_from(timeout=10)
        assert message["type"] in ("execution", "ping"), message
        if message["type"] == "execution":
            received.append(message)
    return received


def assert_exactly(received: list[dict[str, Any]], published: list[Event], first: int) -> None:
    assert [m["seq"] for m in received] == list(range(first, first + len(published)))
    assert [m["event_id"] for m in received] == [e.event_id for e in published]


def test_a_private_reconnect_mid_burst_with_since_loses_nothing(alice: Any) -> None:
    fills = [fill_event(alice.id) for _ in range(BURST)]

    async def scenario() -> None:
        client, start = await open_orders(alice.id)
        burst = asyncio.create_task(asyncio.to_thread(publish, fills))
        before = await executions_until(client, start + 20)
        await client.disconnect()  # in the middle of the burst
        resumed, _ = await open_orders(alice.id, since=before[-1]["seq"])
        await burst
        after = await executions_until(resumed, start + BURST)
        await resumed.disconnect()
        assert_exactly(before + after, fills, start + 1)

    asyncio.run(scenario())


class StalledOrdersConsumer(OrdersConsumer):
    """A client that stopped reading: the first message written to it never completes."""

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                   close: bool = False) -> None:
        if text_data and '"type":"execution"' in text_data:
            await asyncio.Event().wait()
        await super().send(text_data, bytes_data, close)


@override_settings(MARKETDATA_WS_QUEUE_SIZE=5)
def test_a_private_reader_that_stops_reading_is_closed_with_a_reason_and_resumes(
        alice: Any) -> None:
    fills = [fill_event(alice.id) for _ in range(30)]

    async def scenario() -> None:
        stalled, start = await open_orders(
            alice.id, app=StreamTicketAuth(StalledOrdersConsumer.as_asgi()))
        await asyncio.to_thread(publish, fills)
        while (output := await stalled.receive_output(timeout=10))["type"] != \
                "websocket.close":
            assert output["type"] != "websocket.send" or "execution" not in output["text"]
        assert (output["code"], output["reason"]) == (CLOSE_LAGGING, "slow_reader")
        resumed, _ = await open_orders(alice.id, since=start)
        received = await executions_until(resumed, start + len(fills))
        await resumed.disconnect()
        assert_exactly(received, fills, start + 1)

    asyncio.run(scenario())


@pytest.mark.usefixtures("pipeline")
def test_a_book_resumed_in_the_window_gets_the_deltas_and_past_it_a_gap_and_a_snapshot(
        pipeline: MarketDataPipeline) -> None:  # noqa: F811 - the fixture
    deltas = [book_event("delta", sequence, [[str(59_000 + sequence), "1"]], [])
              for sequence in range(11, 16)]

    async def subscribe(since: int) -> tuple[WebsocketCommunicator, dict[str, Any]]:
        client = WebsocketCommunicator(APP, "/ws/market-data")
        assert (await client.connect(timeout=10))[0]
        await client.send_json_to({"action": "subscribe", "symbol": "BTC-USDT",
                                   "channel": "book", "since": since})
        subscribed = await client.receive_json_from(timeout=10)
        assert subscribed["type"] == "subscribed"
        return client, subscribed

    async def scenario() -> None:
        watcher, _ = await subscribe(0)  # this process's hub reads from now on
        await asyncio.to_thread(publish, deltas)
        pipeline.apply(deltas)
        await asyncio.to_thread(pipeline.refresh_cache, sole_claims(pipeline.symbols))
        while (await watcher.receive_json_from(timeout=10)).get("seq") != 15:
            pass

        within, subscribed = await subscribe(12)
        assert subscribed["seq"] == 15
        replayed = [await within.receive_json_from(timeout=10) for _ in range(3)]
        assert [(m["type"], m["seq"], m["bids"]) for m in replayed] == [
            ("delta", s, [[str(59_000 + s), "1"]]) for s in (13, 14, 15)]

        past, _ = await subscribe(3)  # the window starts at 11: 4 to 10 are gone
        gap = await past.receive_json_from(timeout=10)
        assert (gap["type"], gap["channel"], gap["from"], gap["to"]) == ("gap", "book", 4, 15)
        snapshot = await past.receive_json_from(timeout=10)
        assert (snapshot["type"], snapshot["seq"], snapshot["sequence"]) == ("snapshot", 15, 15)
        assert {str(59_000 + s) for s in range(11, 16)} <= {p for p, _ in snapshot["bids"]}
        for client in (watcher, within, past):
            await client.disconnect()

    asyncio.run(scenario())
