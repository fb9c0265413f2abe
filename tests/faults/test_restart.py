"""Restarts of the whole stack on the same state, as `make up`, Ctrl-C, `make up` does
(issue #14, items 1 and 2): PostgreSQL and Redis keep their data, the in-memory broker
comes back empty. Earlier orders and balances stay, new crossing orders fill, and an order
accepted before a stop but never processed is processed after it, never left `NEW`.

And the guard behind it: a stored offset beyond the end of the broker's log, or a log
recreated under a running processor, is refused, `/ready` of the processor names the
partition, and `resolve_order_log` lets it go on."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from oms.kafka.topics import ensure_topics
from oms.launcher import ServiceStack
from tests.faults.conftest import Venue, trader_pair, wait_until

pytestmark = pytest.mark.faults

# Everything but `executions`: the old broker's events are gone with it, by design.
DURABLE_CHECKS = ("conservation", "balanced", "trades", "reservations", "books")


def status_of(venue: Venue, client_order_id: str) -> str | None:
    rows = venue.query(f"SELECT status FROM orders_order WHERE client_order_id = "  # noqa: S608 - test ids
                       f"'{client_order_id}'")
    return str(rows[0][0]) if rows else None


def filled(venue: Venue, *client_order_ids: str) -> bool:
    return all(status_of(venue, cid) in ("FILLED", "SETTLED") for cid in client_order_ids)


def assert_books_and_ledger_clean(venue: Venue) -> None:
    args = [arg for check in DURABLE_CHECKS for arg in ("--check", check)]
    result = venue.manage("reconcile", *args)
    assert result.returncode == 0, result.stdout + result.stderr


def started_venue(state_dir: Path, logs: Path) -> tuple[ServiceStack, Venue]:
    """The durable stack on `state_dir`, prepared as `make up` prepares it."""
    stack = ServiceStack(state_dir, durable=True, environ={})
    venue = Venue(stack, stack.start(), logs)
    try:
        for args in (["migrate", "-v0"], ["seed_demo"],
                     ["create_trader", "maker", "--fund", "BTC=1000", "--fund", "USDT=1000000",
                      "--funding-reference", "maker-once"],
                     ["create_trader", "taker", "--fund", "BTC=1000", "--fund", "USDT=1000000",
                      "--funding-reference", "taker-once"]):
            result = venue.manage(*args)
            assert result.returncode == 0, result.stderr
    except BaseException:
        stack.stop()
        raise
    return stack, venue


def wait_filled(venue: Venue, *client_order_ids: str, what: str) -> None:
    wait_until(lambda: filled(venue, *client_order_ids), seconds=40, what=what)


def one_run(stack: ServiceStack, venue: Venue, *, pending: str | None,
            earlier: list[str], run: int) -> str:
    """Check that the order left pending by the previous run is processed and trades,
    that new crossing orders fill and earlier ones kept their fills; then stop the
    processor and leave one accepted order unprocessed. Returns its client order id."""
    resolved = venue.manage("resolve_order_log")
    assert resolved.returncode == 0, resolved.stderr
    if pending is None:
        assert "nothing to resolve" in resolved.stdout, resolved.stdout
    else:
        assert "re-based" in resolved.stdout, resolved.stdout
        assert "published again 1 accepted" in resolved.stdout, resolved.stdout
    venue.start("run_relay")
    processor = venue.start("run_consumer", "processor")
    maker, taker = trader_pair(venue, venue.start_web())
    if pending is not None:
        cross = f"cross-{run}"
        assert maker.place(side="sell", client_order_id=cross).status == 202
        wait_filled(venue, pending, cross, what="the order accepted before the stop to fill")
        earlier += [pending, cross]
    buy, sell = f"buy-{run}", f"sell-{run}"
    assert taker.place(side="buy", client_order_id=buy).status == 202
    assert maker.place(side="sell", client_order_id=sell).status == 202
    wait_filled(venue, buy, sell, what="new crossing orders to fill")
    earlier += [buy, sell]
    assert filled(venue, *earlier), "an earlier order lost its fill"
    assert_books_and_ledger_clean(venue)

    processor.send_signal(signal.SIGTERM)
    processor.wait(timeout=30)
    left = f"pending-{run}"
    assert taker.place(side="buy", client_order_id=left).status == 202
    return left


def test_restarts_on_the_same_state_keep_orders_and_process_the_accepted_ones(
    tmp_path: Path,
) -> None:
    pending: str | None = None
    earlier: list[str] = []
    for run in range(3):
        logs = tmp_path / f"run-{run}"
        logs.mkdir()
        stack, venue = started_venue(tmp_path / "state", logs)
        try:
            pending = one_run(stack, venue, pending=pending, earlier=earlier, run=run)
        finally:
            venue.stop_roles()
            stack.stop()


def readiness(venue: Venue, role: subprocess.Popen[bytes]) -> tuple[int, dict[str, object]]:
    try:
        response = requests.get(venue.ready_url(role), timeout=10)
    except requests.RequestException:
        return 0, {}
    return response.status_code, response.json()


def test_offset_beyond_the_log_end_is_refused_until_resolved(venue: Venue) -> None:
    venue.start("run_relay")
    processor = venue.start("run_consumer", "processor")
    maker, taker = trader_pair(venue, venue.start_web())
    assert taker.place(side="buy", client_order_id="first-buy").status == 202
    wait_until(lambda: status_of(venue, "first-buy") == "ACCEPTED", seconds=40,
               what="the first order")
    processor.send_signal(signal.SIGTERM)
    processor.wait(timeout=30)
    [(partition,)] = venue.query(
        "UPDATE processing_partitionownership SET next_offset = next_offset + 1000"
        " WHERE topic = 'orders' AND partition = (SELECT partition FROM"
        " processing_symbolstate WHERE symbol = 'BTC-USDT') RETURNING partition")

    processor = venue.start("run_consumer", "processor")
    name = f"orders[{partition}]"
    wait_until(lambda: name in readiness(venue, processor)[1].get("failing", []),  # type: ignore[operator]
               seconds=40, what=f"/ready to name {name}")
    status, body = readiness(venue, processor)
    assert status == 503
    assert "beyond the log's end" in str(body["not_ready"])
    # Orders are still accepted meanwhile; none is applied while the partition is refused.
    assert maker.place(side="sell", client_order_id="waiting-sell").status == 202
    time.sleep(2)
    assert status_of(venue, "waiting-sell") is None
    assert venue.log_of(processor).count(f"refusing {name}") == 1

    result = venue.manage("resolve_order_log")
    assert result.returncode == 0, result.stderr
    assert f"for {name}: re-based" in result.stdout, result.stdout
    wait_until(lambda: filled(venue, "first-buy", "waiting-sell"), seconds=40,
               what="the partition to be taken up again")
    wait_until(lambda: readiness(venue, processor)[0] == 200, seconds=10,
               what="/ready to answer 200")
    assert processor.poll() is None


def test_log_recreated_under_a_running_processor_is_refused_until_resolved(
    venue: Venue,
) -> None:
    venue.start("run_relay")
    processor = venue.start("run_consumer", "processor")
    _, taker = trader_pair(venue, venue.start_web())
    assert taker.place(side="buy", client_order_id="before").status == 202
    wait_until(lambda: status_of(venue, "before") == "ACCEPTED", seconds=40,
               what="the first order")

    broker = venue.stack.service("kafka")  # a memory broker: stopped, its log is gone
    broker.stop()
    broker.start()
    ensure_topics(broker.url, partitions=venue.stack.partitions, replication_factor=1)
    names = {f"orders[{partition}]" for partition in range(venue.stack.partitions)}
    wait_until(lambda: names <= set(readiness(venue, processor)[1].get("failing", [])),  # type: ignore[arg-type]
               seconds=40, what="/ready to name every partition")
    assert "the log was recreated" in str(readiness(venue, processor)[1]["not_ready"])

    _, taker = trader_pair(venue, venue.start_web())  # a web role that never knew the old broker
    assert taker.place(side="buy", client_order_id="after").status == 202
    time.sleep(2)
    assert status_of(venue, "after") is None  # refused partitions are not consumed

    result = venue.manage("resolve_order_log")
    assert result.returncode == 0, result.stderr
    assert "the log was recreated" in result.stdout, result.stdout
    wait_until(lambda: status_of(venue, "after") == "ACCEPTED", seconds=40,
               what="the partitions to be taken up again")
    wait_until(lambda: readiness(venue, processor)[0] == 200, seconds=10,
               what="/ready to answer 200")
    assert status_of(venue, "before") == "ACCEPTED"
