"""The feed adapters on recorded messages in each exchange's documented format: book upkeep,
sequence checks, resynchronisation after a gap and after a reconnect, and the simulator's
determinism. No network."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.marketdata.feeds.base import FetchSnapshot, Reconnect, Send
from apps.marketdata.feeds.binance import BinanceFeed
from apps.marketdata.feeds.coinbase import CoinbaseFeed
from apps.marketdata.feeds.registry import FeedConfigError, build_feed, build_feeds
from apps.marketdata.feeds.simulator import SimulatorFeed
from tests.marketdata.recorded import play, recording


def levels(*pairs: tuple[str, str]) -> tuple[tuple[D, D], ...]:
    return tuple((D(price), D(quantity)) for price, quantity in pairs)


def synced_binance() -> BinanceFeed:
    feed = BinanceFeed("BTC-USDT", venue_symbol="BTCUSDT")
    assert feed.on_connect() == [FetchSnapshot(feed.snapshot_url)]
    stream = recording("binance_btcusdt_stream.jsonl")
    for message in stream[:2]:  # arrive while the snapshot is being fetched: buffered
        assert feed.on_message(message) == []
    assert not feed.book.synced
    assert feed.on_snapshot(recording("binance_btcusdt_snapshot.json")[0]) == []
    for message in stream[2:]:
        assert feed.on_message(message) == []
    return feed


def test_binance_builds_the_book_from_snapshot_and_buffered_then_live_updates() -> None:
    feed = synced_binance()
    view = feed.book.view()
    assert view.sequence == 1010
    assert view.bids == levels(("64999.99", "1.5"), ("64998.00", "2"))
    assert view.asks == levels(("65000.01", "0.74"), ("65002.50", "1.2"))
    assert feed.last_trade_price == D("65000.01")
    assert feed.ticker_price == D("65000.01")
    quote = feed.quote()
    assert (quote.best_bid, quote.best_ask) == (D("64999.99"), D("65000.01"))
    assert quote.reference_price == D("65000.00")
    assert quote.source == "binance"
    assert "btcusdt@depth@100ms/btcusdt@trade/btcusdt@ticker" in feed.url


def test_binance_gap_forgets_the_book_and_resyncs_from_a_new_snapshot() -> None:
    feed = synced_binance()
    gap, after = recording("binance_btcusdt_gap.jsonl")
    assert feed.on_message(gap) == [FetchSnapshot(feed.snapshot_url)]
    assert not feed.book.synced
    assert feed.quote().best_bid is None
    assert feed.on_message(after) == []  # buffered until the snapshot arrives
    # A snapshot older than the buffered events is refused: fetch another.
    assert feed.on_snapshot(recording("binance_btcusdt_snapshot.json")[0]) == [
        FetchSnapshot(feed.snapshot_url)]
    assert feed.on_snapshot(recording("binance_btcusdt_snapshot_after_gap.json")[0]) == []
    view = feed.book.view()
    assert view.sequence == 1020
    assert view.bids == levels(("64999.99", "1.5"), ("64999", "0.8"), ("64998", "2"))
    assert view.asks == levels(("65000.02", "0.33"), ("65002.5", "1.2"))


def test_binance_reconnect_starts_over_from_a_snapshot() -> None:
    feed = synced_binance()
    assert feed.on_connect() == [FetchSnapshot(feed.snapshot_url)]
    assert not feed.book.synced
    assert feed.on_snapshot(recording("binance_btcusdt_snapshot_after_gap.json")[0]) == []
    assert feed.book.sequence == 1016


def test_binance_futures_streams_chain_on_pu() -> None:
    feed = BinanceFeed("BTC-USDT", venue_symbol="btcusdt")
    feed.on_connect()
    feed.on_snapshot(recording("binance_btcusdt_snapshot.json")[0])
    first, second, gapped = recording("binance_btcusdt_futures.jsonl")
    assert feed.on_message(first) == []  # bridges lastUpdateId + 1 although pu is older
    assert feed.on_message(second) == []  # pu == previous u
    assert feed.book.sequence == 1009
    assert feed.book.view().asks[1] == (D("65001.00"), D("1"))
    assert feed.on_message(gapped) == [FetchSnapshot(feed.snapshot_url)]  # pu 1011 != 1009
    assert not feed.book.synced


def coinbase_after_stream() -> CoinbaseFeed:
    feed = CoinbaseFeed("BTC-USDT", venue_symbol="BTC-USD")
    subscribe = feed.on_connect()
    assert [command.message["channel"] for command in subscribe if isinstance(command, Send)] \
        == ["level2", "market_trades", "ticker", "heartbeats"]
    assert all(command.message["product_ids"] == ["BTC-USD"]
               for command in subscribe if isinstance(command, Send))
    assert play(feed, "coinbase_btcusd_stream.jsonl") == []
    return feed


def test_coinbase_level2_snapshot_and_updates_build_the_book() -> None:
    feed = coinbase_after_stream()
    view = feed.book.view()
    assert view.bids == levels(("64999.99", "0.51234"), ("64998.7", "0.9"))
    assert view.asks == levels(("65000.5", "0.2479"), ("65003", "4.0101"))
    assert feed.ticker_price == D("65000.5")
    assert feed.last_trade_price == D("65000.5")
    assert feed.quote().reference_price == (D("64999.99") + D("65000.5")) / 2


def test_coinbase_sequence_gap_reconnects_and_the_new_snapshot_resyncs() -> None:
    feed = coinbase_after_stream()
    commands = play(feed, "coinbase_btcusd_gap.jsonl")
    assert len(commands) == 1
    assert isinstance(commands[0], Reconnect)
    assert "sequence_num 9 after 6" in commands[0].reason
    assert not feed.book.synced
    assert feed.quote().reference_price == D("65000.5")  # the ticker, while the book is out
    assert len(feed.on_connect()) == 4
    assert play(feed, "coinbase_btcusd_reconnect.jsonl") == []
    view = feed.book.view()
    assert view.bids == levels(("64999", "0.05"), ("64998.7", "0.9"))
    assert view.asks == levels(("65000.5", "0.1"))


def test_simulator_is_deterministic_per_seed_and_symbol() -> None:
    def walk(seed: int, symbol: str = "BTC-USDT") -> list[object]:
        feed = SimulatorFeed(symbol, seed=seed, start_price=D("60000"), tick_size=D("0.01"))
        quotes = []
        for _ in range(50):
            feed.advance()
            quotes.append((feed.quote(), feed.book.view()))
        return quotes

    assert walk(7) == walk(7)
    assert walk(7) != walk(8)
    for quote, view in walk(7):
        assert quote.reference_price == (view.best_bid + view.best_ask) / 2
        assert quote.reference_price % D("0.01") == 0
        assert len(view.bids) == len(view.asks) == 10
        assert view.bids[0][0] < view.asks[0][0]
        assert quote.source == "simulator"


def test_registry_builds_the_configured_feed_per_symbol() -> None:
    feeds = build_feeds({
        "BTC-USDT": {"source": "simulator", "start_price": "60000", "tick_size": "0.01"},
        "ETH-USDT": {"source": "binance", "venue_symbol": "ETHUSDT"},
        "SOL-USDT": {"source": "coinbase", "venue_symbol": "SOL-USD"},
    }, seed=1)
    assert [type(feed) for feed in feeds.values()] == [SimulatorFeed, BinanceFeed, CoinbaseFeed]
    with pytest.raises(FeedConfigError, match="unknown feed source"):
        build_feed("BTC-USDT", {"source": "kraken"}, seed=1)
    with pytest.raises(FeedConfigError, match="venue_symbol"):
        build_feed("BTC-USDT", {"source": "binance"}, seed=1)
