"""Graceful degradation (issue #9): each test takes one real service of the venue down
mid-run (Redis, the broker, PostgreSQL), checks what the roles do meanwhile, brings the
service back on the same address, and shows that the roles recover by themselves with
nothing lost and nothing applied twice."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.faults.conftest import (
    Attempt,
    OrderStream,
    Trader,
    Venue,
    WebRole,
    all_processed,
    assert_accepted_applied_and_refused_absent,
    assert_reconciled,
    start_order_roles,
    trader_pair,
    wait_until,
)

pytestmark = pytest.mark.faults

def assert_refused_cleanly(attempt: Attempt, dependency: str) -> None:
    """503 with the API's error shape, naming the dependency (or, for a publish that timed
    out, saying its outcome is unknown), and a Retry-After."""
    assert attempt.status == 503, attempt
    codes = [[f"{dependency}_unavailable"]]
    if dependency == "kafka":
        codes.append(["order_outcome_unknown"])
    assert attempt.error_codes in codes, attempt.body
    assert attempt.retry_after is not None
    assert int(attempt.retry_after) > 0


def place_until_accepted(trader: Trader, side: str, prefix: str) -> list[Attempt]:
    """Retry as a client would until order entry accepts again (new ids each time)."""
    attempts: list[Attempt] = []

    def accepted() -> bool:
        attempts.append(trader.place(side=side, client_order_id=f"{prefix}-{len(attempts)}"))
        return attempts[-1].status == 202

    wait_until(accepted, seconds=120, what="order entry to accept again", every=1.0)
    return attempts


def test_redis_down_refuses_order_entry_and_keeps_database_reads(venue: Venue) -> None:
    start_order_roles(venue)
    web = venue.start_web()
    maker, taker = trader_pair(venue, web)
    before = [maker.place(side="sell", client_order_id=f"before-{n}") for n in range(5)]
    assert [a.status for a in before] == [202] * 5
    wait_until(lambda: all_processed(venue) and venue.scalar(
        "SELECT count(*) FROM orders_order") == 5, seconds=60, what="the first orders")

    with venue.outage("redis"):
        refused = [taker.place(side="buy", client_order_id=f"during-{n}") for n in range(4)]
        for attempt in refused:
            assert_refused_cleanly(attempt, "redis")
        listing = maker.list_orders()
        assert listing.status_code == 200, listing.text
        assert {o["client_order_id"] for o in listing.json()["results"]} == {
            a.client_order_id for a in before}

    recovered = place_until_accepted(taker, "buy", "after")
    # Nothing was half-done: the refused ids and keys are free to use again.
    retried = [taker.place(side="buy", client_order_id=a.client_order_id,
                           idempotency_key=a.idempotency_key) for a in refused]
    assert [a.status for a in retried] == [202] * len(refused), retried
    assert_accepted_applied_and_refused_absent(venue, before + refused + recovered + retried)
    assert web.process.poll() is None  # recovered without a restart


def test_broker_down_refuses_order_entry_and_half_does_nothing(venue: Venue) -> None:
    start_order_roles(venue)
    web = venue.start_web()
    maker, taker = trader_pair(venue, web)
    with OrderStream(maker, taker, prefix="flow") as stream:
        wait_until(lambda: stream.count(202) >= 30, seconds=60, what="orders flowing")
        with venue.outage("kafka"):
            wait_until(lambda: stream.count(503) >= 4, seconds=120,
                       what="order entry to refuse while the broker is down")
            accepted_during = stream.count(202)
        wait_until(lambda: stream.count(202) >= accepted_during + 30, seconds=120,
                   what="orders flowing again after the broker returned")
    attempts = list(stream.attempts)
    refused = [a for a in attempts if a.status == 503]
    for attempt in refused:
        assert_refused_cleanly(attempt, "kafka")
    assert all(a.status in (202, 503) for a in attempts), {a.status for a in attempts}
    # A refused order's client_order_id and idempotency key are free for a retry; a publish
    # that timed out may have landed, and the retry with its key resolves it (the order
    # found, or sent again), so each is retried: applied once either way.
    unknown = [a for a in refused if a.error_codes == ["order_outcome_unknown"]]
    definite = [a for a in refused if a not in unknown]
    retried = [trader.place(side=a.side, client_order_id=a.client_order_id,
                            idempotency_key=a.idempotency_key)
               for a in definite[:3] + unknown
               for trader in [maker if a.side == "sell" else taker]]
    assert [a.status for a in retried] == [202] * len(retried), retried
    assert_accepted_applied_and_refused_absent(venue, attempts + retried)
    assert all(role.poll() is None for role in venue.roles), "a role died instead of waiting"


def test_processor_survives_a_database_outage_and_applies_everything_once(
    venue: Venue,
) -> None:
    orders = 3000
    load = venue.manage("simulate_orders", "--users", "maker,taker", "--orders", str(orders),
                        "--seed", "9")
    assert load.returncode == 0, load.stderr
    relay = venue.start("run_relay")
    processor = venue.start("run_consumer", "processor")
    wait_until(lambda: int(str(venue.scalar("SELECT count(*) FROM orders_order"))) > 0,
               seconds=120, what="the processor to start on the backlog", every=0.05)
    with venue.outage("postgres"):
        time.sleep(8)  # several polls and retries of the processor and relay meet no database
        assert processor.poll() is None, "the processor died when PostgreSQL went away"
        assert relay.poll() is None, "the relay died when PostgreSQL went away"
    wait_until(lambda: venue.scalar("SELECT count(*) FROM orders_order") == orders
               and all_processed(venue), seconds=180, what="the backlog after the outage")
    assert processor.poll() is None
    assert relay.poll() is None
    assert venue.scalar("SELECT count(DISTINCT id) FROM orders_order") == orders
    accepted_events = venue.scalar(
        "SELECT count(*) FROM processing_outboxevent"
        " WHERE convert_from(body, 'UTF8')::jsonb ->> 'type' = 'order.accepted'")
    assert accepted_events == venue.scalar(
        "SELECT count(*) FROM orders_order WHERE status <> 'REJECTED'")
    assert_reconciled(venue)


class StreamClient:
    """A /ws/market-data client that answers pings (so the server keeps it) and keeps
    every other message it gets."""

    def __init__(self, web: WebRole) -> None:
        self.connection: ClientConnection = connect(
            web.url.replace("http://", "ws://") + "/ws/market-data", open_timeout=10,
            origin=Origin(web.url))  # the ws role accepts only its own hosts' origins

    def send(self, message: dict[str, Any]) -> None:
        self.connection.send(json.dumps(message))

    def next_matching(self, wanted: dict[str, Any], *, seconds: float) -> dict[str, Any]:
        """The next message carrying `wanted`'s items; fails on a closed connection."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                message = json.loads(self.connection.recv(timeout=1))
            except TimeoutError:
                continue
            if message.get("type") == "ping":
                self.send({"type": "pong"})
            elif wanted.items() <= message.items():
                return dict(message)
        raise AssertionError(f"no {wanted} within {seconds}s")


def trade_pair(maker: Trader, taker: Trader, tag: str) -> None:
    """One trade on the symbol: the maker's sell rests, the taker's buy takes it."""
    for trader, side in ((maker, "sell"), (taker, "buy")):
        attempt = trader.place(side=side, client_order_id=f"{tag}-{side}")
        assert attempt.status == 202, attempt


@pytest.mark.parametrize("source", ["redis", "kafka"])
def test_websocket_stream_says_stale_during_an_outage_and_resumes(
    venue: Venue, source: str,
) -> None:
    start_order_roles(venue)
    web = venue.start_web(role="ws")  # daphne serves /ws/ (and the API) as the ws role does
    maker, taker = trader_pair(venue, web)
    client = StreamClient(web)
    client.send({"action": "subscribe", "symbol": "BTC-USDT", "channel": "trades"})
    client.next_matching({"type": "subscribed"}, seconds=10)
    # The ws role's hub reads from the end once a client connects: trade until one comes.
    wait_until(lambda: trade_pair(maker, taker, f"warm-{time.monotonic_ns()}") is None
               and _receives_trade(client), seconds=90, what="trades on the stream")

    with venue.outage(source):
        notice = client.next_matching({"type": "stream", "state": "stale"}, seconds=30)
        assert notice["reason"] in ("window_unavailable", "source_unavailable")
        time.sleep(2)  # the connection stays open through the outage
    client.next_matching({"type": "stream", "state": "live"}, seconds=90)
    wait_until(lambda: trade_pair(maker, taker, f"after-{time.monotonic_ns()}") is None
               and _receives_trade(client), seconds=90, what="trades after the outage")
    assert web.process.poll() is None
    client.connection.close()


def _receives_trade(client: StreamClient) -> bool:
    try:
        client.next_matching({"type": "trade"}, seconds=5)
    except AssertionError:
        return False
    return True
