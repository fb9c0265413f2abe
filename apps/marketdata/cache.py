"""Where the marketdata role keeps the live internal book and prices in Redis, for the REST
API and the live streams to read: `orderbook:{symbol}` (levels with their sequence) and
`price:{symbol}` (the last `price.tick` payload), each with a 1 s TTL so a stopped role
never leaves stale prices behind; and `marketdata:epoch:{symbol}`, the fencing token of the
replica that writes the symbol (`ownership`), which every cache write checks."""

from __future__ import annotations


def book_key(symbol: str) -> str:
    return f"orderbook:{symbol}"


def price_key(symbol: str) -> str:
    return f"price:{symbol}"


def epoch_key(symbol: str) -> str:
    return f"marketdata:epoch:{symbol}"
