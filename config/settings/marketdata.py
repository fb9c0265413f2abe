"""Market data settings: which feed runs per symbol, the simulator's seed, how often the
marketdata role publishes, the limits of the live streams, and the demo market maker.
Imported by `base`."""

from typing import Any

from config.settings.environment import env_bool, env_int, env_str

# One feed per symbol: `simulator` (default, in-process), `binance` or `coinbase` (public
# WebSocket feeds, run only when configured here). See apps/marketdata/feeds/registry.py.
MARKETDATA_FEEDS: dict[str, dict[str, str]] = {
    "BTC-USDT": {"source": "simulator", "start_price": "60000", "tick_size": "0.01"},
    "ETH-USDT": {"source": "simulator", "start_price": "3000", "tick_size": "0.01"},
    "SOL-USDT": {"source": "simulator", "start_price": "150", "tick_size": "0.001"},
}
MARKETDATA_SIMULATOR_SEED = env_int("MARKETDATA_SIMULATOR_SEED", 7)
# Seconds between two steps of the simulator's random walk.
MARKETDATA_SIMULATOR_STEP_SECONDS = float(env_str("MARKETDATA_SIMULATOR_STEP_SECONDS", "1.0"))
# The role republishes `price.tick` on change, at most this often per symbol, and refreshes
# the Redis copies (`orderbook:{symbol}`, `price:{symbol}`, 1 s TTL) this often.
MARKETDATA_PUBLISH_SECONDS = float(env_str("MARKETDATA_PUBLISH_SECONDS", "0.25"))
MARKETDATA_CACHE_TTL_MS = 1000

# Live streams: messages queued per connection before the channel's overflow policy
# applies, and the app-level heartbeat (a client silent for two intervals is closed).
MARKETDATA_WS_QUEUE_SIZE = env_int("MARKETDATA_WS_QUEUE_SIZE", 256)
MARKETDATA_WS_HEARTBEAT_SECONDS = float(env_str("MARKETDATA_WS_HEARTBEAT_SECONDS", "15"))
# The resume window of every stream (`oms.streams.window`): a client that
# reconnects with `since` within it misses nothing; past it, it gets a `gap` (and, for a
# book, a fresh snapshot). A stream's counter outlives idle spells by far, so sequences
# never start over under a connected client. A resume replays at most this many messages
# (past it, the same `gap`: a book is cheaper to send whole).
STREAM_WINDOW_SECONDS = env_int("STREAM_WINDOW_SECONDS", 600)
STREAM_SEQUENCE_TTL_SECONDS = 7 * 24 * 3600
STREAM_REPLAY_LIMIT = env_int("STREAM_REPLAY_LIMIT", 5000)

# The demo market maker (`manage.py run_market_maker`): liquidity for `make up`, quoting
# through the public API from its own funded account. Never in production (prod.py turns
# it off); with it off the command logs a line and exits 0.
MARKETDATA_MARKET_MAKER_ENABLED = env_bool("MARKETDATA_MARKET_MAKER_ENABLED", True)
MARKETDATA_MARKET_MAKER_API_URL = env_str("OMS_API_URL", "http://127.0.0.1:8000")
MARKETDATA_MARKET_MAKER: dict[str, Any] = {
    "username": "marketmaker",
    # Deposited once per funding reference (create_trader), however often the bot starts.
    "funds": {"USDT": "100000000", "BTC": "1000", "ETH": "20000", "SOL": "500000"},
    "funding_reference": "market-maker-demo",
    "symbols": list(MARKETDATA_FEEDS),
    "levels": 12,  # a deep enough book to show ten levels a side
    "spread_bps": "20",  # best ask over best bid
    "step_bps": "10",  # between two levels of a side
    "level_notional": "5000",  # USDT per level
    "requote_bps": "10",  # a move of the reference price that replaces the ladder
    "refresh_seconds": 5.0,  # a filled or refused level is replaced after this long
    "interval_seconds": 1.0,  # between two quoting steps
}

# The demo taker (`manage.py run_demo_taker`): trades for `make up`, so candles form and the
# tape moves from the first minute. Every `interval_seconds` it sends one IOC limit order at
# the best opposite price of a random symbol, worth `min_notional`..`max_notional` USDT,
# through the public API from its own funded account. Never in production (prod.py).
MARKETDATA_DEMO_TAKER_ENABLED = env_bool("MARKETDATA_DEMO_TAKER_ENABLED", True)
MARKETDATA_DEMO_TAKER: dict[str, Any] = {
    "username": "demotaker",
    "funds": {"USDT": "10000000", "BTC": "100", "ETH": "2000", "SOL": "50000"},
    "funding_reference": "demo-taker-demo",
    "symbols": list(MARKETDATA_FEEDS),
    "min_notional": "50",
    "max_notional": "1500",
    "buy_share": "0.5",
    "interval_seconds": float(env_str("MARKETDATA_DEMO_TAKER_INTERVAL_SECONDS", "1.0")),
}
