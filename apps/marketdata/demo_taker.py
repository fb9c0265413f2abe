"""The demo taker: trades for `make up`, so the demo venue's chart forms candles and its
tape moves from the first minute. The market maker (`market_maker.py`) only quotes; this
bot crosses the spread now and then, like a trader would: it has its own funded account and
API token and trades only through the public REST API over HTTP (`OMS_API_URL`), each order
an immediate-or-cancel limit at the best opposite price with its own `Idempotency-Key`.

Each step picks one symbol at random, reads its best bid and ask (`apps.marketdata.selectors`,
the Redis copy the marketdata role keeps) and places what `domain.taking` decides. Without a
book (the marketdata role is not up yet, or nobody quotes) the step does nothing."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from apps.marketdata import selectors
from apps.marketdata.domain.taking import TakingParams, client_order_id, take
from apps.marketdata.market_maker import ApiError, OmsClient
from oms.money import format_amount
from oms.terms import OrderType, TimeInForce

logger = logging.getLogger(__name__)


def taking_params(config: Mapping[str, Any]) -> TakingParams:
    """The orders' sizes and sides from `settings.MARKETDATA_DEMO_TAKER`."""
    return TakingParams(min_notional=Decimal(str(config["min_notional"])),
                        max_notional=Decimal(str(config["max_notional"])),
                        buy_share=Decimal(str(config["buy_share"])))


def _best_prices(symbol: str) -> tuple[Decimal | None, Decimal | None]:
    tick = selectors.price_tick(symbol=symbol) or {}
    bid, ask = tick.get("best_bid"), tick.get("best_ask")
    return (Decimal(bid) if bid is not None else None,
            Decimal(ask) if ask is not None else None)


class DemoTaker:
    def __init__(self, client: OmsClient, *, symbols: Iterable[str], params: TakingParams,
                 best_prices: Callable[[str], tuple[Decimal | None, Decimal | None]]
                 = _best_prices, rng: random.Random | None = None) -> None:
        self.client = client
        self.symbols = list(symbols)
        self.params = params
        self.best_prices = best_prices
        self.rng = rng or random.Random()  # noqa: S311 - demo order flow, not security
        self.generation = format(time.time_ns() // 1000, "x")
        self.sequence = 0

    def step(self) -> str | None:
        """Take once from one symbol's book; returns the client order id placed, if any.
        Raises `ApiError` when the API is unreachable; a refused order is logged."""
        terms = self.client.instruments()
        tradable = [symbol for symbol in self.symbols if symbol in terms]
        if not tradable:
            return None
        symbol = self.rng.choice(tradable)
        best_bid, best_ask = self.best_prices(symbol)
        order = take(best_bid=best_bid, best_ask=best_ask, side_draw=self.rng.random(),
                     size_draw=self.rng.random(), terms=terms[symbol], params=self.params)
        if order is None:
            return None
        self.sequence += 1
        cid = client_order_id(symbol, self.sequence, self.generation)
        try:
            self.client.call("POST", "/api/orders", {
                "symbol": symbol, "side": order.side, "type": OrderType.LIMIT,
                "time_in_force": TimeInForce.IOC,
                "price": format_amount(order.price), "quantity": format_amount(order.quantity),
                "client_order_id": cid,
            }, idempotency_key=cid)
        except ApiError as exc:
            if exc.transient:
                raise
            logger.warning("%s: take %s refused: %s", symbol, cid, exc)
            return None
        logger.info("%s: %s %s at %s", symbol, order.side, format_amount(order.quantity),
                    format_amount(order.price))
        return cid
