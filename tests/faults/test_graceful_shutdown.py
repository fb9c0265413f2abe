"""Graceful shutdown under load (issue #9): SIGTERM to the web role (gunicorn) and to the
relay while orders flow (a processor's SIGTERM mid-stream, with a second one taking over,
is in test_processor_faults). A role that is told to stop finishes what it
has started, hands its work over cleanly and exits 0; nothing is lost or done twice."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.faults.conftest import (
    OrderStream,
    Venue,
    all_processed,
    assert_accepted_applied_and_refused_absent,
    assert_reconciled,
    published_event_ids,
    start_order_roles,
    trader_pair,
    wait_until,
)

pytestmark = pytest.mark.faults

# A request sent this long before SIGTERM has reached the server (keep-alive connection,
# loopback) by the time the signal lands: it is "in flight" and must be answered.
IN_FLIGHT_MARGIN_SECONDS = 0.5


def terminate(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def test_web_role_answers_requests_in_flight_on_sigterm(venue: Venue) -> None:
    start_order_roles(venue)
    web = venue.start_web()
    maker, taker = trader_pair(venue, web)
    with OrderStream(maker, taker, prefix="flow", threads=4) as stream:
        wait_until(lambda: stream.count(202) >= 40, seconds=60, what="orders flowing")
        signalled = time.monotonic()
        assert terminate(web.process) == 0
        wait_until(lambda: stream.count(0) >= 4, seconds=30, what="the web role to be gone")
    attempts = list(stream.attempts)
    assert all(a.complete for a in attempts), [a for a in attempts if not a.complete]
    assert {a.status for a in attempts} <= {202, 0}, {a.status for a in attempts}
    in_flight = [a for a in attempts if a.started < signalled - IN_FLIGHT_MARGIN_SECONDS]
    assert all(a.status == 202 for a in in_flight), [a for a in in_flight if a.status != 202]
    # An order whose request got no answer may or may not have been published: the
    # client cannot know, so only the answered ones are checked.
    assert_accepted_applied_and_refused_absent(venue, attempts)


def order_count(venue: Venue) -> int:
    return int(str(venue.scalar("SELECT count(*) FROM orders_order")))


def start_load(venue: Venue, orders: int) -> list[subprocess.Popen[bytes]]:
    """Orders on two symbols (so on more than one partition as a rule)."""
    return [venue.start("simulate_orders", "--users", "maker,taker", "--orders", str(orders),
                        "--symbol", symbol, "--seed", str(seed), "--rate", "400")
            for seed, symbol in enumerate(["BTC-USDT", "ETH-USDT"])]


def published_outbox_ids(venue: Venue) -> list[str]:
    """The event ids of the outbox rows the relay marked published."""
    return [str(row[0]) for row in venue.query(
        "SELECT convert_from(body, 'UTF8')::jsonb ->> 'event_id' FROM processing_outboxevent"
        " WHERE published_at IS NOT NULL ORDER BY id")]


def outbox_topics(venue: Venue) -> list[str]:
    return [str(row[0]) for row in venue.query(
        "SELECT DISTINCT topic FROM processing_outboxevent")]


def test_relay_flushes_on_sigterm_and_a_restart_publishes_the_rest_once(venue: Venue) -> None:
    orders = 1500
    relay, _ = start_order_roles(venue)
    loads = start_load(venue, orders)
    wait_until(lambda: len(published_outbox_ids(venue)) > 500, seconds=120,
               what="the relay publishing")
    assert terminate(relay) == 0
    # What it marked published is on the broker, once each, and it is a prefix of the
    # outbox: nothing it had taken is left half-published.
    published = published_outbox_ids(venue)
    on_broker = published_event_ids(venue, outbox_topics(venue))
    assert sorted(on_broker) == sorted(published)
    assert venue.scalar(
        "SELECT max(id) FILTER (WHERE published_at IS NOT NULL)"
        " < coalesce(min(id) FILTER (WHERE published_at IS NULL), 9223372036854775807)"
        " FROM processing_outboxevent") is True
    assert all(load.wait(timeout=120) == 0 for load in loads)
    venue.start("run_relay")
    wait_until(lambda: order_count(venue) == 2 * orders and all_processed(venue),
               seconds=120, what="the restarted relay to publish the rest")
    on_broker = published_event_ids(venue, outbox_topics(venue))
    assert len(on_broker) == len(set(on_broker))
    assert set(on_broker) == set(published_outbox_ids(venue))
    assert_reconciled(venue)
