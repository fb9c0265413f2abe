"""Events the marketdata context emits on `prices` (key: symbol).

`price.tick` v1: the current prices of one symbol, published when they change (at most a
few times a second): `reference_price` (from the symbol's feed), `best_bid` and `best_ask`
(of the internal book), `last_trade_price` (the venue's last trade), `source` (the feed:
`simulator`, `binance` or `coinbase`). Any price may be null while unknown."""

from oms.events import register_schema
from oms.events.fields import OPTIONAL_DECIMAL, SYMBOL, payload_schema

PRICE_TICK = "price.tick"

register_schema(PRICE_TICK, payload_schema({
    "symbol": SYMBOL, "reference_price": OPTIONAL_DECIMAL, "best_bid": OPTIONAL_DECIMAL,
    "best_ask": OPTIONAL_DECIMAL, "last_trade_price": OPTIONAL_DECIMAL,
    "source": {"enum": ["simulator", "binance", "coinbase"]},
}))
