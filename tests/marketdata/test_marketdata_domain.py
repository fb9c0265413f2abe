"""Pure market data logic: the L2 book's sequencing, candles, and the conflating queue of
a live-stream connection."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from apps.marketdata.domain.book import L2Book, SequenceGap
from apps.marketdata.domain.candles import Interval, TradePrint, bucket_start, fold_trades
from apps.marketdata.domain.conflation import OutboundQueue, StreamItem
from apps.marketdata.domain.recent_ids import RecentIds


def test_book_applies_deltas_in_sequence_and_refuses_a_gap() -> None:
    book = L2Book("BTC-USDT")
    with pytest.raises(SequenceGap):
        book.apply_delta(sequence=1, bids=[], asks=[])
    book.apply_snapshot(sequence=5, bids=[(D("10"), D("1")), (D("9"), D("2"))],
                        asks=[(D("11"), D("1"))])
    book.apply_delta(sequence=6, bids=[(D("10"), D("0")), (D("9.5"), D("3"))], asks=[])
    assert book.view().bids == ((D("9.5"), D("3")), (D("9"), D("2")))
    with pytest.raises(SequenceGap) as gap:
        book.apply_delta(sequence=8, bids=[(D("1"), D("1"))], asks=[])
    assert (gap.value.expected, gap.value.received) == (7, 8)
    assert book.view().bids == ((D("9.5"), D("3")), (D("9"), D("2")))  # unchanged
    assert book.view(depth=1).to_wire() == {"symbol": "BTC-USDT", "sequence": 6,
                                            "bids": [["9.5", "3"]], "asks": [["11", "1"]]}


def trade(n: int, price: str, quantity: str, at: datetime) -> TradePrint:
    return TradePrint(trade_id=str(n), symbol="BTC-USDT", price=D(price),
                      quantity=D(quantity), taker_side="buy", traded_at=at)


def test_candles_fold_trades_per_bucket_and_merge() -> None:
    t0 = datetime(2025, 1, 1, 12, 4, 30, tzinfo=UTC)
    assert bucket_start(t0, Interval.FIVE_MINUTES) == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    trades = [trade(1, "100", "1", t0), trade(2, "105", "2", t0.replace(second=50)),
              trade(3, "98", "1", t0.replace(minute=5, second=1))]
    candles = {(c.interval, c.start.minute): c for c in fold_trades(trades)}
    one = candles[(Interval.ONE_MINUTE, 4)]
    assert (one.open, one.high, one.low, one.close, one.volume, one.trade_count) == (
        D("100"), D("105"), D("100"), D("105"), D("3"), 2)
    five = candles[(Interval.FIVE_MINUTES, 0)]
    assert five.close == D("105")
    hour = candles[(Interval.ONE_HOUR, 0)]
    assert (hour.open, hour.high, hour.low, hour.close, hour.volume) == (
        D("100"), D("105"), D("98"), D("98"), D("4"))
    merged = one.merge(fold_trades([trade(4, "120", "1", t0)], [Interval.ONE_MINUTE])[0])
    assert (merged.open, merged.high, merged.close, merged.trade_count) == (
        D("100"), D("120"), D("120"), 3)


def test_queue_conflates_tickers_and_replaces_book_backlog_with_a_resnapshot() -> None:
    queue = OutboundQueue(capacity=3)
    assert queue.offer(StreamItem("ticker", "BTC-USDT", "ticker", {"p": 1}))
    assert queue.offer(StreamItem("ticker", "BTC-USDT", "ticker", {"p": 2}))
    assert queue.offer(StreamItem("book", "BTC-USDT", "delta", {"sequence": 1}))
    assert queue.offer(StreamItem("book", "BTC-USDT", "delta", {"sequence": 2}))
    assert len(queue) == 3
    assert queue.full
    assert queue.offer(StreamItem("book", "BTC-USDT", "delta", {"sequence": 3}))
    assert queue.offer(StreamItem("book", "BTC-USDT", "delta", {"sequence": 4}))  # ignored
    assert queue.offer(StreamItem("trades", "BTC-USDT", "trades", {"id": 1}))  # fits
    assert queue.offer(StreamItem("trades", "BTC-USDT", "trades", {"id": 2}, seq=7))  # dropped
    assert not queue.offer(StreamItem("orders", "*", "orders", {}))  # refused when full
    sent = [(item.channel, item.kind, item.body) for item in iter(queue.pop, None)]
    # The notice names the sequences the client missed, so it can resume from them.
    assert sent == [("trades", "dropped", {"count": 1, "from": 7, "to": 7}),
                    ("ticker", "ticker", {"p": 2}),
                    ("book", "resnapshot", {}), ("trades", "trades", {"id": 1})]


def test_queue_snapshot_supersedes_pending_deltas_and_discard_forgets() -> None:
    queue = OutboundQueue(capacity=10)
    queue.offer(StreamItem("book", "ETH-USDT", "delta", {"sequence": 1}))
    queue.offer(StreamItem("trades", "ETH-USDT", "trades", {}))
    queue.offer(StreamItem("book", "ETH-USDT", "snapshot", {"sequence": 2}))
    queue.discard("trades", "ETH-USDT")
    assert [(item.kind, item.body) for item in iter(queue.pop, None)] == [
        ("snapshot", {"sequence": 2})]


def test_recent_ids_remember_a_bounded_window() -> None:
    ids = RecentIds(capacity=2)
    assert ids.first_time("a")
    assert not ids.first_time("a")
    assert ids.first_time("b")
    assert ids.first_time("c")
    assert ids.first_time("a")  # forgotten: the window holds two
