"""Which feed runs for which symbol: built from `settings.MARKETDATA_FEEDS`, e.g.

    {"BTC-USDT": {"source": "simulator", "start_price": "60000", "tick_size": "0.01"},
     "ETH-USDT": {"source": "binance", "venue_symbol": "ETHUSDT"},
     "SOL-USDT": {"source": "coinbase", "venue_symbol": "SOL-USD"}}

Pure: it takes the mapping and the simulator seed, so tests build feeds without Django."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from apps.marketdata.feeds.base import Feed
from apps.marketdata.feeds.binance import BinanceFeed
from apps.marketdata.feeds.coinbase import CoinbaseFeed
from apps.marketdata.feeds.simulator import SimulatorFeed


class FeedConfigError(ValueError):
    """A symbol's feed configuration names an unknown source or lacks a field."""


def build_feed(symbol: str, config: Mapping[str, Any], *, seed: int) -> Feed:
    source = config.get("source", "simulator")
    try:
        if source == "simulator":
            return SimulatorFeed(
                symbol, seed=seed, start_price=Decimal(str(config["start_price"])),
                tick_size=Decimal(str(config["tick_size"])),
                volatility=Decimal(str(config.get("volatility", "0.0005"))))
        if source == "binance":
            return BinanceFeed(symbol, venue_symbol=str(config["venue_symbol"]))
        if source == "coinbase":
            return CoinbaseFeed(symbol, venue_symbol=str(config["venue_symbol"]))
    except KeyError as exc:
        raise FeedConfigError(f"{symbol}: the {source} feed needs {exc.args[0]!r}") from None
    raise FeedConfigError(f"{symbol}: unknown feed source {source!r}")


def build_feeds(configs: Mapping[str, Mapping[str, Any]], *, seed: int) -> dict[str, Feed]:
    return {symbol: build_feed(symbol, config, seed=seed) for symbol, config in configs.items()}
