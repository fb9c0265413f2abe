"""The synchronous ccxt class of the Crypto OMS. `async_support/oms.py` is the same class
for asyncio, generated from this file (`python -m oms_ccxt.transpile`): edit here."""

from __future__ import annotations

from typing import Any

from ccxt.base.errors import OrderNotFound
from ccxt.base.exchange import Exchange

from oms_ccxt.abstract import ImplicitAPI
from oms_ccxt.base import CLOSED_STATUSES, OPEN_STATUSES, OmsBase


class oms(OmsBase, ImplicitAPI, Exchange):
    def fetch_markets(self, params: dict[str, Any] | None = None) -> list[Any]:
        response = self.public_get_instruments(params or {})
        return self.parse_markets_of(response)

    def fetch_trading_fees(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.load_markets()
        response = self.public_get_instruments(params or {})
        return self.parse_trading_fees_of(response)

    def fetch_status(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.health_get_health(params or {})
        return {"status": "ok", "updated": self.milliseconds(), "eta": None, "url": None,
                "info": response}

    def fetch_ticker(self, symbol: str, params: dict[str, Any] | None = None) -> Any:
        self.load_markets()
        market = self.market(symbol)
        response = self.public_get_market_data_prices_symbol(
            self.extend({"symbol": market["id"]}, params or {}))
        return self.parse_ticker(response, market)

    def fetch_tickers(self, symbols: list[str] | None = None,
                      params: dict[str, Any] | None = None) -> Any:
        self.load_markets()
        symbols = self.market_symbols(symbols)
        tickers = []
        for symbol in symbols if symbols is not None else self.symbols:
            tickers.append(self.fetch_ticker(symbol, params))
        return self.filter_by_array_tickers(tickers, "symbol", symbols)

    def fetch_order_book(self, symbol: str, limit: int | None = None,
                         params: dict[str, Any] | None = None) -> Any:
        self.load_markets()
        market = self.market(symbol)
        request = {"symbol": market["id"], "depth": min(limit or 100, 500)}
        response = self.public_get_market_data_orderbook_symbol(
            self.extend(request, params or {}))
        book = self.parse_order_book(response, market["symbol"],
                                     self.parse8601(self.safe_string(response, "as_of")),
                                     "bids", "asks")
        book["nonce"] = self.safe_integer(response, "sequence")
        return book

    def fetch_trades(self, symbol: str, since: int | None = None, limit: int | None = None,
                     params: dict[str, Any] | None = None) -> list[Any]:
        self.load_markets()
        market = self.market(symbol)
        request = {"symbol": market["id"], "limit": min(limit or 100, 1000)}
        response = self.public_get_market_data_trades_symbol(
            self.extend(request, params or {}))
        return self.parse_trades(response, market, since, limit)

    def fetch_ohlcv(self, symbol: str, timeframe: str = "1m", since: int | None = None,
                    limit: int | None = None, params: dict[str, Any] | None = None) -> list[Any]:
        self.load_markets()
        market = self.market(symbol)
        request = {"symbol": market["id"], "interval": self.safe_string(
            self.timeframes, timeframe, timeframe), "limit": min(limit or 100, 1000)}
        response = self.public_get_market_data_candles_symbol(
            self.extend(request, params or {}))
        return self.parse_ohlcvs(response, market, timeframe, since, limit)

    def fetch_balance(self, params: dict[str, Any] | None = None) -> Any:
        response = self.private_get_balances(params or {})
        return self.parse_balance(response)

    def create_order(self, symbol: str, type: str, side: str, amount: float,
                     price: float | None = None, params: dict[str, Any] | None = None) -> Any:
        self.load_markets()
        request = self.order_request(symbol, type, side, amount, price, params or {})
        response = self.private_post_orders(request)
        response = self.until_decided(response)
        return self.parse_order(response, self.market(symbol))

    def until_decided(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order once the venue has decided it. `POST /api/orders` answers 202 on
        receipt (status NEW); the processor then checks risk and matches it (ACCEPTED,
        FILLED, REJECTED, ...). ccxt's `create_order` returns the order as the venue left it,
        so it reads the order until it is no longer NEW, for at most
        `options["createOrderWait"]` ms (0: return the receipt). The receipt is returned
        if the order cannot be read meanwhile (order entry caches it in Redis until the
        processor records it)."""
        deadline = self.milliseconds() + self.safe_integer(self.options, "createOrderWait", 0)
        while order["status"] == "NEW" and self.milliseconds() < deadline:
            self.sleep(self.safe_integer(self.options, "createOrderPoll", 50))
            try:
                order = self.private_get_orders_id({"id": order["id"]})
            except OrderNotFound:
                return order
        return order

    def edit_order(self, id: str, symbol: str, type: str, side: str,
                   amount: float | None = None, price: float | None = None,
                   params: dict[str, Any] | None = None) -> Any:
        self.load_markets()
        request: dict[str, Any] = {"id": id}
        if amount is not None:
            request["quantity"] = self.amount_to_precision(symbol, amount)
        if price is not None:
            request["price"] = self.price_to_precision(symbol, price)
        response = self.private_patch_orders_id(self.extend(request, params or {}))
        response = self.until_amended(response, request)
        return self.parse_order(response)

    def until_amended(self, order: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        """The order once the venue has applied the amend, or the refusal raised as its
        exception (`InsufficientFunds`, `InvalidOrder`, ...). `PATCH /api/orders/{id}`
        answers 202 with the order as it stands; the processor then decides the new terms
        and, refusing them, leaves the order as it was with the refusal in its
        `last_refusal`. So the order is read until its terms are the requested ones, it is
        closed, or a refusal other than the one it had appears, for at most
        `options["createOrderWait"]` ms; then it is returned as last read."""
        refused_before = order.get("last_refusal")
        deadline = self.milliseconds() + self.safe_integer(self.options, "createOrderWait", 0)
        while not self.amended(order, request) and order["status"] not in CLOSED_STATUSES \
                and self.milliseconds() < deadline:
            self.sleep(self.safe_integer(self.options, "createOrderPoll", 50))
            order = self.private_get_orders_id({"id": order["id"]})
            refusal = order.get("last_refusal")
            if refusal is not None and refusal != refused_before:
                raise self.refusal_error(refusal)
        return order

    def cancel_order(self, id: str, symbol: str | None = None,
                     params: dict[str, Any] | None = None) -> Any:
        self.load_markets()
        response = self.private_post_orders_id_cancel(self.extend({"id": id}, params or {}))
        return self.parse_order(response)

    def cancel_all_orders(self, symbol: str | None = None,
                          params: dict[str, Any] | None = None) -> list[Any]:
        self.load_markets()
        request = {} if symbol is None else {"symbol": self.market_id(symbol)}
        response = self.private_post_orders_cancel_all(self.extend(request, params or {}))
        return [self.safe_order({"info": response})]

    def fetch_order(self, id: str, symbol: str | None = None,
                    params: dict[str, Any] | None = None) -> Any:
        self.load_markets()
        response = self.private_get_orders_id(self.extend({"id": id}, params or {}))
        return self.parse_order(response)

    def fetch_orders(self, symbol: str | None = None, since: int | None = None,
                     limit: int | None = None, params: dict[str, Any] | None = None
                     ) -> list[Any]:
        return self.fetch_orders_with(symbol, since, limit, None, params or {})

    def fetch_open_orders(self, symbol: str | None = None, since: int | None = None,
                          limit: int | None = None, params: dict[str, Any] | None = None
                          ) -> list[Any]:
        return self.fetch_orders_with(symbol, since, limit, OPEN_STATUSES, params or {})

    def fetch_closed_orders(self, symbol: str | None = None, since: int | None = None,
                            limit: int | None = None, params: dict[str, Any] | None = None
                            ) -> list[Any]:
        return self.fetch_orders_with(symbol, since, limit, CLOSED_STATUSES, params or {})

    def fetch_orders_with(self, symbol: str | None, since: int | None, limit: int | None,
                          statuses: list[str] | None, params: dict[str, Any]) -> list[Any]:
        self.load_markets()
        market = None if symbol is None else self.market(symbol)
        response = self.private_get_orders(
            self.orders_query(symbol, since, limit, statuses, params))
        return self.parse_orders(self.safe_list(response, "results", []), market, since, limit)

    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None,
                        limit: int | None = None, params: dict[str, Any] | None = None
                        ) -> list[Any]:
        self.load_markets()
        market = None if symbol is None else self.market(symbol)
        response = self.private_get_fills(self.orders_query(symbol, since, limit, None,
                                                            params or {}))
        return self.parse_trades(self.safe_list(response, "results", []), market, since,
                                 limit)

    def fetch_order_trades(self, id: str, symbol: str | None = None, since: int | None = None,
                           limit: int | None = None, params: dict[str, Any] | None = None
                           ) -> list[Any]:
        self.load_markets()
        order = self.fetch_order(id, symbol)
        response = self.private_get_orders_id_fills(self.extend({"id": id}, params or {}))
        fills = [self.extend(fill, {"order_id": id, "symbol": order["info"]["symbol"],
                                    "side": order["side"]}) for fill in response]
        return self.parse_trades(fills, None, since, limit)
