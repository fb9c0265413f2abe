"""A pipelined processor (D10) computes each batch while the one before it is written: it
reads without locks and counts what the unwritten batch changed, and its own write checks,
under the lock, that the accounts still hold what it started from. It must end exactly
where a processor that writes each batch before computing the next one ends, also when a
deposit lands between a batch's read and its write."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.db.backends.postgresql.base import DatabaseWrapper

from apps.orders.events import ORDER_SUBMITTED
from apps.orders.models import Order
from apps.processing import selectors
from apps.processing import services as processing
from apps.processing.batch_work import BatchWrite
from apps.processing.processor import BatchProcessor
from oms.events import Event, new_event
from tests.integration.conftest import trader
from tests.integration.processing.feed import (
    DirectFeed,
    assert_reconciled,
    outbox_of,
    submission,
)

pytestmark = pytest.mark.django_db(transaction=True)
SYMBOL = "BTC-USDT"
PRICE, LOT = Decimal(50000), Decimal("0.01")
PER_BATCH = 5


def balances(user_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.available, b.reserved) for b in selectors.balances_of(user_id=user_id)}


def orders(user_id: int, side: str) -> list[Event]:
    return [submission(user_id, side, LOT, PRICE, symbol=SYMBOL) for _ in range(PER_BATCH)]


@pytest.fixture
def feed(request: pytest.FixtureRequest, btc: None) -> Iterator[DirectFeed]:
    feed = DirectFeed(pipelined=request.param)
    yield feed
    feed.processor.close()


@pytest.mark.parametrize("feed", [False, True], ids=["serial", "pipelined"], indirect=True)
def test_pipelined_batches_end_where_serial_ones_do(feed: DirectFeed) -> None:
    """Sells rest in one batch and buys take them in the next, so every batch reads the
    accounts the one in flight just changed; a deposit lands in the middle."""
    seller, buyer = trader("seller", BTC="10"), trader("buyer", USDT="1000000")
    for batch in range(6):
        if batch == 3:
            processing.deposit(user_id=seller, asset="BTC", amount=Decimal(1),
                               reference=f"mid-run:{seller}")
        feed.process(orders(seller, "sell") if batch % 2 == 0 else orders(buyer, "buy"))
    feed.processor.catch_up()

    trades = 3 * PER_BATCH
    notional = PRICE * LOT
    assert balances(seller) == {"BTC": (Decimal(11) - trades * LOT, 0),
                                "USDT": (trades * (notional - notional * Decimal("0.001")), 0)}
    assert balances(buyer) == {"BTC": (trades * LOT, 0),
                               "USDT": (1000000 - trades * (notional * Decimal("1.002")), 0)}
    assert set(Order.objects.values_list("status", flat=True)) == {"SETTLED"}
    assert_reconciled()


@pytest.mark.parametrize("feed", [True], ids=["pipelined"], indirect=True)
def test_a_deposit_between_a_batch_read_and_its_write_makes_it_compute_again(
    feed: DirectFeed, caplog: pytest.LogCaptureFixture,
) -> None:
    """The deposit holds the seller's accounts locked while the batch is computed (its
    read does not wait for the lock, its write does), then commits: the write finds the
    balances changed, and the batch is computed again on them, counting both."""
    seller, buyer = trader("seller", BTC="10"), trader("buyer", USDT="1000000")
    feed.process(orders(seller, "sell"))
    feed.processor.catch_up()
    locked, go, done = threading.Event(), threading.Event(), threading.Event()

    def deposit_while_locked() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT id FROM processing_ledgeraccount WHERE user_id = %s "
                                   "ORDER BY id FOR UPDATE", [seller])
                locked.set()
                go.wait(10)
                processing.deposit(user_id=seller, asset="BTC", amount=Decimal(1),
                                   reference=f"racing:{seller}")
        finally:
            connection.close()
            done.set()

    depositor = threading.Thread(target=deposit_while_locked)
    depositor.start()
    assert locked.wait(10)
    with caplog.at_level(logging.INFO, logger="apps.processing.processor"):
        feed.process(orders(buyer, "buy"))  # computed now, its write waits for the lock
        go.set()
        assert done.wait(10)
        depositor.join()
        feed.processor.catch_up()

    assert "computed again under the lock" in caplog.text
    notional = PRICE * LOT
    assert balances(seller) == {"BTC": (Decimal(11) - PER_BATCH * LOT, 0),
                                "USDT": (PER_BATCH * (notional - notional * Decimal("0.001")),
                                         0)}
    assert set(Order.objects.values_list("status", flat=True)) == {"SETTLED"}
    assert_reconciled()


@pytest.mark.parametrize("feed", [True], ids=["pipelined"], indirect=True)
def test_a_write_lost_to_an_outage_is_kept_even_if_rebuilding_fails_too(
    feed: DirectFeed, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database goes away while a batch is being written, and is still away when the
    processor rebuilds its books: the batch must stay with the processor (the consumer has
    moved past it) and be applied first once the database answers, never skipped."""
    seller, buyer = trader("seller", BTC="10"), trader("buyer", USDT="1000000")
    failures = {"write": 0, "rebuild": 0}
    real_write, real_rebuild = BatchWrite.write, BatchProcessor._rebuild

    def write(self: BatchWrite, **steps: Any) -> None:
        if failures["write"]:
            failures["write"] -= 1
            raise OperationalError("the database went away")
        real_write(self, **steps)

    def rebuild(self: BatchProcessor, partitions: Iterable[int]) -> None:
        if failures["rebuild"] and not failures["write"]:
            failures["rebuild"] -= 1
            raise OperationalError("the database is still away")
        real_rebuild(self, partitions)

    monkeypatch.setattr(BatchWrite, "write", write)
    monkeypatch.setattr(BatchProcessor, "_rebuild", rebuild)
    # A first batch opens the book (unpipelined); the next ones are pipelined.
    feed.process([submission(seller, "sell", LOT, PRICE * 2, symbol=SYMBOL)])
    failures.update(write=1, rebuild=1)
    feed.process(orders(seller, "sell"))  # its write fails in the writer thread
    buys = feed.batch(orders(buyer, "buy"))
    with pytest.raises(OperationalError):
        feed.apply(buys)  # the failure shows here; the caller consumes the buys again
    feed.apply(buys)
    feed.processor.catch_up()

    notional = PRICE * LOT
    assert failures == {"write": 0, "rebuild": 0}  # both failures happened
    assert balances(seller) == {"BTC": (Decimal(10) - (PER_BATCH + 1) * LOT, LOT),
                                "USDT": (PER_BATCH * (notional - notional * Decimal("0.001")),
                                         0)}
    assert Order.objects.count() == 2 * PER_BATCH + 1
    assert Order.objects.filter(status="SETTLED").count() == 2 * PER_BATCH
    assert_reconciled()


@pytest.mark.parametrize("feed", [False, True], ids=["serial", "pipelined"], indirect=True)
def test_duplicates_of_written_orders_are_found_by_either_processor(feed: DirectFeed) -> None:
    """A pipelined batch takes its submissions to be new and leaves duplicates to the
    orders' unique keys: a duplicate of an order written batches earlier fails the write,
    and the batch is computed again with the look-up. Either way the outcome is the serial
    one: the repeat ignored, both reuses refused, the batch's other orders applied once."""
    buyer = trader("buyer", USDT="1000000")
    first = orders(buyer, "buy")
    feed.process(first)
    feed.process(orders(buyer, "buy"))  # so that `first` is not the batch in flight
    feed.processor.catch_up()
    original = dict(first[0].payload)
    repeat = Event.from_dict(first[0].to_dict())
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    reused_id = new_event(ORDER_SUBMITTED, {**original, "client_order_id": "other",
                                            "quantity": "0.02", "submitted_at": later})
    reused_key = submission(buyer, "buy", LOT, PRICE, symbol=SYMBOL)
    reused_key = new_event(ORDER_SUBMITTED, {**reused_key.payload,
                                             "client_order_id": original["client_order_id"]})
    fresh = orders(buyer, "buy")
    feed.process([repeat, *fresh[:2], reused_id, reused_key, *fresh[2:]])
    feed.processor.catch_up()

    assert Order.objects.filter(user_id=buyer).count() == 3 * PER_BATCH
    assert Order.objects.get(id=original["order_id"]).quantity == LOT
    assert not Order.objects.filter(id=reused_key.payload["order_id"]).exists()
    reasons = {(e.payload["order_id"], e.payload["reason"]) for e in outbox_of("order.rejected")}
    assert reasons == {(original["order_id"], "duplicate_order_id"),
                       (reused_key.payload["order_id"], "duplicate_client_order_id")}
    assert balances(buyer)["USDT"][1] == 3 * PER_BATCH * PRICE * LOT * Decimal("1.002")
    assert_reconciled()


@pytest.mark.parametrize("feed", [True], ids=["pipelined"], indirect=True)
def test_a_pipelined_batch_commits_its_read_and_its_write_with_their_statements(
    feed: DirectFeed, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The snapshot read and the write each send their `COMMIT` with their statements, so
    neither waits for the database once more to commit: when Django commits at the end
    of their `atomic()` blocks, the transaction has already ended."""
    seller, buyer = trader("seller", BTC="10"), trader("buyer", USDT="1000000")
    feed.process(orders(seller, "sell"))  # the first batch opens the book (unpipelined)
    feed.processor.catch_up()
    found: list[tuple[str, str]] = []  # (thread, transaction status) at Django's commit
    real_commit = DatabaseWrapper._commit

    def commit(wrapper: Any) -> None:
        raw = wrapper.connection
        found.append((threading.current_thread().name,
                      raw.info.transaction_status.name if raw is not None else "CLOSED"))
        real_commit(wrapper)

    monkeypatch.setattr(DatabaseWrapper, "_commit", commit)
    feed.process(orders(buyer, "buy"))
    feed.processor.catch_up()
    monkeypatch.undo()

    writer = [status for thread, status in found if thread.startswith("batch-writer")]
    reader = [status for thread, status in found if not thread.startswith("batch-writer")]
    assert writer == ["IDLE"], found  # the write: committed with its statements
    assert reader == ["IDLE"], found  # the snapshot read: ended with its reads
    assert Order.objects.filter(user_id=buyer, status="SETTLED").count() == PER_BATCH
    assert_reconciled()


@pytest.mark.parametrize("feed", [True], ids=["pipelined"], indirect=True)
def test_pipelined_batches_leave_nothing_to_collect(feed: DirectFeed,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The processor freezes what each pipelined batch leaves alive (its books), which is
    only sound if the path leaves no reference cycles: crossing batches, rested and filled
    orders, with the collector off and nothing frozen, leave nothing for a collection to
    find; and each batch asks for the freeze."""
    seller, buyer = trader("seller", BTC="10"), trader("buyer", USDT="1000000")
    feed.process(orders(seller, "sell"))  # the first batch after a claim collects first
    freezes: list[None] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(None))
    gc.collect()
    gc.disable()
    try:
        for batch in range(6):
            feed.process(orders(buyer, "buy") if batch % 2 == 0 else orders(seller, "sell"))
        assert len(freezes) == 6
        assert gc.collect() == 0
    finally:
        gc.enable()
    feed.processor.catch_up()
    assert_reconciled()
