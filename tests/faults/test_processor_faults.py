"""Crashes and rebalances of the processor against the real broker and database: no order
or fill is lost or applied twice, and `reconcile` is clean afterwards."""

from __future__ import annotations

import random
import signal
import subprocess
import time

import psycopg
import pytest

from oms.launcher.stack import DATABASE_URL
from tests.faults.conftest import Venue, wait_until

pytestmark = pytest.mark.faults


def settled(venue: Venue, orders: int) -> bool:
    """Every order recorded and past NEW, and every event published."""
    recorded, fresh, unpublished = venue.query(
        "SELECT (SELECT count(*) FROM orders_order),"
        " (SELECT count(*) FROM orders_order WHERE status = 'NEW'),"
        " (SELECT count(*) FROM processing_outboxevent WHERE published_at IS NULL)")[0]
    return recorded == orders and fresh == 0 and unpublished == 0


def assert_exactly_once(venue: Venue, orders: int) -> None:
    assert venue.scalar("SELECT count(DISTINCT id) FROM orders_order") == orders
    # Every trade has exactly two fills and one ledger transaction (reconcile checks it
    # too); no order is filled beyond its quantity.
    assert venue.scalar("SELECT count(*) FROM orders_order WHERE filled_quantity > quantity") == 0
    accepted = venue.scalar(
        "SELECT count(*) FROM processing_outboxevent"
        " WHERE convert_from(body, 'UTF8')::jsonb ->> 'type' = 'order.accepted'")
    assert accepted == venue.scalar(
        "SELECT count(*) FROM orders_order WHERE status <> 'REJECTED'")
    result = venue.manage("reconcile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reconcile: clean" in result.stdout
    # A clean replay of the whole topic into an empty database gives the same state.
    replay = venue.manage("replay")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replay: equal to the live state" in replay.stdout


def test_killing_the_processor_at_random_points_loses_and_repeats_nothing(
    venue: Venue,
) -> None:
    orders = 3000
    venue.start("run_relay")
    processor = venue.start("run_consumer", "processor")
    load = venue.start("simulate_orders", "--users", "maker,taker", "--orders", str(orders),
                       "--seed", "7")
    rng = random.Random(11)
    for _ in range(4):
        time.sleep(rng.uniform(1.0, 3.0))
        processor.send_signal(signal.SIGKILL)
        processor.wait()
        processor = venue.start("run_consumer", "processor")
    assert load.wait(timeout=300) == 0
    wait_until(lambda: settled(venue, orders), seconds=180, what="all orders processed")
    assert venue.scalar("SELECT count(*) FROM orders_fill") > 0
    assert_exactly_once(venue, orders)


def claimed_epochs(venue: Venue) -> list[int]:
    return [int(row[0]) for row in venue.query(
        "SELECT epoch FROM processing_partitionownership"
        " WHERE \"group\" = 'order-processor-group' ORDER BY partition")]


def test_rebalance_between_two_processors_mid_stream(venue: Venue) -> None:
    orders = 2000
    venue.start("run_relay")
    first = venue.start("run_consumer", "processor")
    wait_until(lambda: len(claimed_epochs(venue)) == 3, seconds=120,
               what="the first processor to own the partitions")
    load = venue.start("simulate_orders", "--users", "maker,taker", "--orders", str(orders),
                       "--seed", "8")
    wait_until(lambda: venue.scalar("SELECT count(*) FROM orders_order") > 200, seconds=120,
               what="orders flowing")
    before = sum(claimed_epochs(venue))
    second = venue.start("run_consumer", "processor")  # the group rebalances: partitions move
    wait_until(lambda: sum(claimed_epochs(venue)) > before, seconds=120,
               what="the rebalance")
    moved = sum(claimed_epochs(venue))
    first.send_signal(signal.SIGTERM)  # finishes its batch, commits, leaves the group
    assert first.wait(timeout=30) == 0
    assert "released orders partitions" in venue.log_of(first)
    # Everything the first held moves to the second: each of its partitions is claimed again.
    wait_until(lambda: sum(claimed_epochs(venue)) > moved, seconds=120,
               what="the second processor to take the first's partitions")
    assert load.wait(timeout=300) == 0
    wait_until(lambda: settled(venue, orders), seconds=240, what="all orders processed")
    assert second.poll() is None
    assert_exactly_once(venue, orders)


def processor_in_batch_write(venue: Venue) -> bool:
    """A processor's transaction is open and has started writing the batch: its
    connection's latest statement is a `COPY` (the batch's bulk writes) and the transaction
    has not ended. A kill now leaves some tables written and others not, uncommitted."""
    return bool(venue.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        " AND xact_start IS NOT NULL AND state IN ('active', 'idle in transaction')"
        " AND query ILIKE 'COPY %'"))


def wait_for_batch_write(venue: Venue, *, seconds: float) -> None:
    """Poll `pg_stat_activity` on one connection as fast as it answers (a 500-order
    batch's writes last milliseconds, too short for `wait_until`'s half second)."""
    url = venue.env[DATABASE_URL].replace("postgres://", "postgresql://")
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                " AND xact_start IS NOT NULL AND state IN ('active', 'idle in transaction')"
                " AND query ILIKE 'COPY %'").fetchone() != (0,):
                return
    raise AssertionError("never saw the processor inside a batch's write")


def test_sigkill_inside_the_write_of_a_500_order_batch_loses_and_repeats_nothing(
    venue: Venue,
) -> None:
    orders = 2000
    # The whole load waits on the topic first, so every batch the processor takes is full.
    load = venue.start("simulate_orders", "--users", "maker,taker", "--orders", str(orders),
                       "--seed", "9")
    assert load.wait(timeout=300) == 0
    venue.start("run_relay")
    processors: list[subprocess.Popen[bytes]] = []
    for _ in range(3):
        processor = venue.start("run_consumer", "processor", "--batch-size", "500")
        processors.append(processor)
        wait_for_batch_write(venue, seconds=120)
        processor.send_signal(signal.SIGKILL)
        assert processor.wait(timeout=10) == -signal.SIGKILL
        # The killed connection's transaction is gone (rolled back) before the next start.
        wait_until(lambda: not processor_in_batch_write(venue), seconds=30,
                   what="the killed processor's transaction to end", every=0.1)
    processor = venue.start("run_consumer", "processor", "--batch-size", "500")
    processors.append(processor)
    wait_until(lambda: settled(venue, orders), seconds=180, what="all orders processed")
    assert processor.poll() is None
    assert venue.scalar("SELECT count(*) FROM orders_fill") > 0
    # A kill is not any event's fault: no batch was taken apart, nothing set aside.
    for each in processors:
        assert "applying them one at a time" not in venue.log_of(each)
    assert_exactly_once(venue, orders)
