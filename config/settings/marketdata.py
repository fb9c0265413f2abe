"""Market data settings: which feed runs per symbol, the simulator's seed, how often the
marketdata role publishes, and the limits of the live streams. Imported by `base`."""

from config.settings.environment import env_int, env_str

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
