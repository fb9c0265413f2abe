"""The marketdata role's work against real PostgreSQL and Redis: the internal book rebuilt
from `prices`, trades recorded once with their candles, `price.tick` events that match
their schema, and the Redis copies the REST API serves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis as redis_lib
from rest_framework.test import APIClient

from apps.marketdata.events import PRICE_TICK
from apps.marketdata.feeds.registry import build_feeds
from apps.marketdata.models import Candle, MarketTrade
from apps.marketdata.pipeline import MarketDataPipeline
from oms.events import validate_event
from tests.marketdata.conftest import book_event, sole_claims, trade_event

pytestmark = pytest.mark.services

FEEDS = {"BTC-USDT": {"source": "simulator", "start_price": "60000", "tick_size": "0.01"}}


@pytest.fixture
def pipeline(instruments: None) -> MarketDataPipeline:
    return MarketDataPipeline(feeds=build_feeds(FEEDS, seed=7))


def test_book_follows_snapshot_and_deltas_and_waits_after_a_gap(
        pipeline: MarketDataPipeline) -> None:
    snapshot = book_event("snapshot", 4, [["59999", "1"], ["59998", "2"]], [["60001", "1"]])
    delta = book_event("delta", 5, [["59999", "0"], ["59999.5", "3"]], [])
    pipeline.apply([snapshot, delta, delta])  # the duplicate is dropped
    view = pipeline.books["BTC-USDT"].view()
    assert view.sequence == 5
    assert view.bids == ((Decimal("59999.5"), Decimal("3")), (Decimal("59998"), Decimal("2")))
    pipeline.apply([book_event("delta", 7, [["1", "1"]], [])])
    assert not pipeline.books["BTC-USDT"].synced
    pipeline.apply([book_event("snapshot", 8, [["59990", "1"]], [])])
    assert pipeline.books["BTC-USDT"].view().bids == ((Decimal("59990"), Decimal("1")),)


def test_trades_are_recorded_once_and_build_candles(pipeline: MarketDataPipeline) -> None:
    at = datetime(2025, 3, 1, 10, 0, 10, tzinfo=UTC)
    first = trade_event("60000", "0.5", at=at)
    second = trade_event("60100", "0.25", at=at + timedelta(seconds=20))
    third = trade_event("59900", "1", at=at + timedelta(minutes=1))
    assert len(pipeline.apply([first, second])) == 2
    assert len(pipeline.apply([first, second, third])) == 1  # the first two again: no-ops
    assert MarketTrade.objects.count() == 3
    minute = Candle.objects.get(interval="1m", start=at.replace(second=0))
    assert (minute.open, minute.high, minute.low, minute.close, minute.volume,
            minute.trade_count) == (Decimal("60000"), Decimal("60100"), Decimal("60000"),
                                    Decimal("60100"), Decimal("0.75"), 2)
    hour = Candle.objects.get(interval="1h")
    assert (hour.open, hour.close, hour.low, hour.volume, hour.trade_count) == (
        Decimal("60000"), Decimal("59900"), Decimal("59900"), Decimal("1.75"), 3)
    assert Candle.objects.filter(interval="5m").count() == 1
    assert pipeline.last_trade_prices["BTC-USDT"] == Decimal("59900")


def test_ticks_match_their_schema_and_repeat_only_on_change(
        pipeline: MarketDataPipeline) -> None:
    pipeline.apply([book_event("snapshot", 1, [["59999", "1"]], [["60001", "2"]]),
                    trade_event("60000", "0.1")])
    ticks = pipeline.due_ticks()
    assert [tick.type for tick in ticks] == [PRICE_TICK]
    for tick in ticks:
        validate_event(tick)
    assert ticks[0].payload == {"symbol": "BTC-USDT", "reference_price": "60000",
                                "best_bid": "59999", "best_ask": "60001",
                                "last_trade_price": "60000", "source": "simulator"}
    assert pipeline.due_ticks() == []
    pipeline.feeds["BTC-USDT"].advance()  # type: ignore[attr-defined]
    moved = pipeline.due_ticks()
    assert len(moved) == 1
    validate_event(moved[0])


def test_rest_serves_the_cached_book_prices_trades_and_candles(
        pipeline: MarketDataPipeline, redis_client: redis_lib.Redis) -> None:
    now = datetime.now(UTC)
    pipeline.apply([
        book_event("snapshot", 3, [["59999", "1"], ["59998", "2"], ["59997", "4"]],
                   [["60001", "1"], ["60002", "5"]]),
        trade_event("59000", "1", at=now - timedelta(hours=2)),
        trade_event("60000", "2", at=now),
    ])
    pipeline.due_ticks()
    pipeline.refresh_cache(sole_claims(pipeline.symbols))
    assert 0 < redis_client.pttl("orderbook:BTC-USDT") <= 1000
    assert 0 < redis_client.pttl("price:BTC-USDT") <= 1000
    client = APIClient()

    book = client.get("/api/market-data/orderbook/BTC-USDT?depth=2").json()
    as_of = datetime.fromisoformat(book.pop("as_of").replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - as_of) < timedelta(seconds=5)
    assert book == {"symbol": "BTC-USDT", "sequence": 3,
                    "bids": [["59999", "1"], ["59998", "2"]],
                    "asks": [["60001", "1"], ["60002", "5"]]}

    price = client.get("/api/market-data/prices/BTC-USDT").json()
    assert price["last_trade_price"] == "60000"
    assert (price["best_bid"], price["best_ask"]) == ("59999", "60001")
    assert price["reference_price"] == "60000"
    assert price["source"] == "simulator"
    assert price["volume_24h"] == "3"
    assert price["change_24h"] == "1000"
    assert price["change_percent_24h"] == "1.69"
    assert (price["high_24h"], price["low_24h"]) == ("60000", "59000")

    trades = client.get("/api/market-data/trades/BTC-USDT?limit=1").json()
    assert [(t["price"], t["quantity"], t["taker_side"]) for t in trades] == [
        ("60000", "2", "buy")]
    candles = client.get("/api/market-data/candles/BTC-USDT?interval=1h").json()
    assert [c["close"] for c in candles] == ["59000", "60000"]


def test_rest_unknown_symbol_and_bad_query_use_the_structured_error_body(
        instruments: None) -> None:
    client = APIClient()
    for path in ("prices", "orderbook", "trades", "candles"):
        response = client.get(f"/api/market-data/{path}/DOGE-USDT")
        assert response.status_code == 404
        assert response.json() == {"errors": [{"field": None, "code": "unknown_symbol",
                                               "message": "unknown symbol DOGE-USDT"}]}
    response = client.get("/api/market-data/candles/BTC-USDT?interval=2m")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "interval"
    empty = client.get("/api/market-data/orderbook/ETH-USDT").json()
    empty.pop("as_of")
    assert empty == {"symbol": "ETH-USDT", "sequence": None, "bids": [], "asks": []}


def test_rest_prices_and_orderbook_read_only_the_cache(
        pipeline: MarketDataPipeline, django_assert_num_queries: Any) -> None:
    now = datetime.now(UTC)
    pipeline.apply([book_event("snapshot", 3, [["59999", "1"]], [["60001", "1"]]),
                    trade_event("60000", "2", at=now)])
    pipeline.due_ticks()
    pipeline.refresh_cache(sole_claims(pipeline.symbols))
    client = APIClient()
    client.get("/api/market-data/prices/BTC-USDT")  # the instrument's rules, remembered
    with django_assert_num_queries(0):
        price = client.get("/api/market-data/prices/BTC-USDT").json()
        book = client.get("/api/market-data/orderbook/BTC-USDT").json()
    assert (price["last_trade_price"], price["volume_24h"]) == ("60000", "2")
    assert book["bids"] == [["59999", "1"]]


def test_a_restarted_role_caches_the_last_trade_the_database_knows(
        pipeline: MarketDataPipeline) -> None:
    pipeline.apply([trade_event("61000", "1", at=datetime.now(UTC))])
    restarted = MarketDataPipeline(feeds=build_feeds(FEEDS, seed=7))
    restarted.due_ticks()
    restarted.refresh_cache(sole_claims(restarted.symbols))
    price = APIClient().get("/api/market-data/prices/BTC-USDT").json()
    assert (price["last_trade_price"], price["volume_24h"]) == ("61000", "1")
