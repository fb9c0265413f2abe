"""What the sync and the async class share: `describe()` (the API map, `has`, timeframes,
credentials), request signing, the error mapping, and the parsers from the OMS's JSON to
ccxt's unified structures. Only the calls themselves differ between the two classes.

The OMS speaks ccxt's conventions in its API: markets have an id (`BTC-USDT`) and ccxt's
symbol (`BTC/USDT`), amounts are strings both ways (sent with the market's precision),
times are ISO 8601 (parsed to milliseconds), every error is
`{"errors": [{"field", "code", "message"}]}` with a stable `code`."""

from __future__ import annotations

import hashlib
from typing import Any

from ccxt.base import errors
from ccxt.base.decimal_to_precision import TICK_SIZE
from ccxt.base.precise import Precise

# Status of an order in the OMS -> ccxt's unified status.
ORDER_STATUSES = {
    "NEW": "open", "ACCEPTED": "open", "PARTIALLY_FILLED": "open",
    "FILLED": "closed", "SETTLED": "closed",
    "CANCELLED": "canceled", "REJECTED": "rejected",
}
OPEN_STATUSES = ["NEW", "ACCEPTED", "PARTIALLY_FILLED"]
CLOSED_STATUSES = ["FILLED", "SETTLED", "CANCELLED", "REJECTED"]

# Error `code` of the OMS -> ccxt exception (exact codes; then by HTTP status below).
EXACT_ERRORS: dict[str, type[Exception]] = {
    "insufficient_funds": errors.InsufficientFunds,
    "duplicate_client_order_id": errors.DuplicateOrderId,
    "order_not_working": errors.OrderNotFound,
    "not_found": errors.OrderNotFound,
    "unknown_symbol": errors.BadSymbol,
    "symbol_halted": errors.MarketClosed,
    "throttled": errors.RateLimitExceeded,
    "not_authenticated": errors.AuthenticationError,
    "authentication_failed": errors.AuthenticationError,
    "token_not_valid": errors.AuthenticationError,
    "key_unknown": errors.AuthenticationError,
    "key_revoked": errors.AuthenticationError,
    "signature_invalid": errors.AuthenticationError,
    "user_inactive": errors.AccountSuspended,
    "replayed": errors.InvalidNonce,
    "headers_invalid": errors.AuthenticationError,
    "stale_request": errors.InvalidNonce,
    "permission_denied": errors.PermissionDenied,
    "read_only_role": errors.PermissionDenied,
    "order_outcome_unknown": errors.RequestTimeout,
    "idempotency_key_in_flight": errors.DuplicateOrderId,
    "idempotency_key_reused": errors.BadRequest,
    "request_too_large": errors.BadRequest,
}
BY_STATUS: dict[int, type[Exception]] = {
    400: errors.BadRequest, 401: errors.AuthenticationError, 403: errors.PermissionDenied,
    404: errors.BadRequest, 409: errors.InvalidOrder, 413: errors.BadRequest,
    422: errors.BadRequest, 429: errors.RateLimitExceeded, 500: errors.ExchangeError,
    502: errors.ExchangeNotAvailable, 503: errors.ExchangeNotAvailable,
    504: errors.RequestTimeout,
}


class OmsBase:
    """Mixed into ccxt's `Exchange` (sync) or `async_support.Exchange` (async)."""

    def describe(self) -> Any:
        return self.deep_extend(super().describe(), {  # type: ignore[misc]
            "id": "oms",
            "name": "Crypto OMS",
            "countries": [],
            "version": "v1",
            "rateLimit": 20,  # 50 requests/s per user (RATE_LIMIT_API_USER)
            "certified": False,
            "pro": False,
            "precisionMode": TICK_SIZE,
            "has": {
                "CORS": None, "spot": True, "margin": False, "swap": False,
                "future": False, "option": False,
                "cancelAllOrders": True, "cancelOrder": True, "createOrder": True,
                "createLimitOrder": True, "createMarketOrder": True,
                "createPostOnlyOrder": True, "createStopLimitOrder": True,
                "createStopMarketOrder": True, "createStopOrder": True,
                "editOrder": True, "fetchBalance": True, "fetchClosedOrders": True,
                "fetchCurrencies": False, "fetchMarkets": True, "fetchMyTrades": True,
                "fetchOHLCV": True, "fetchOpenOrders": True, "fetchOrder": True,
                "fetchOrderBook": True, "fetchOrders": True, "fetchOrderTrades": True,
                "fetchStatus": True, "fetchTicker": True, "fetchTickers": True,
                "fetchTrades": True, "fetchTradingFees": True,
            },
            "timeframes": {"1m": "1m", "5m": "5m", "1h": "1h"},
            "urls": {
                "api": {"rest": "http://127.0.0.1:8000"},
                "www": "https://github.com/",
                "doc": ["README.md#the-api"],
            },
            "api": {
                "public": {"get": [
                    "instruments", "market-data/prices/{symbol}",
                    "market-data/orderbook/{symbol}", "market-data/trades/{symbol}",
                    "market-data/candles/{symbol}",
                ]},
                "private": {
                    "get": ["orders", "orders/{id}", "orders/{id}/fills", "fills", "balances"],
                    "post": ["orders", "orders/{id}/cancel", "orders/cancel-all",
                             "ws-ticket"],
                    "patch": ["orders/{id}"],
                },
                "health": {"get": ["health"]},
            },
            # Either an API token (`token`) or a signed API key (`apiKey` + `secret`).
            "requiredCredentials": {"apiKey": False, "secret": False},
            # createOrderWait: how long create_order waits for the venue's decision (ms).
            "options": {"recvWindow": 5000, "pageSize": 500, "createOrderWait": 5000,
                        "createOrderPoll": 50},
            "fees": {"trading": {"percentage": True, "tierBased": False}},
            "features": {
                "spot": {
                    "sandbox": False,
                    "createOrder": {
                        "marginMode": False, "triggerPrice": True,
                        "triggerPriceType": None, "triggerDirection": False,
                        "stopLossPrice": False, "takeProfitPrice": False,
                        "attachedStopLossTakeProfit": None,
                        "timeInForce": {"IOC": True, "FOK": True, "PO": True, "GTD": True},
                        "hedged": False, "trailing": False, "leverage": False,
                        "marketBuyByCost": False, "marketBuyRequiresPrice": False,
                        "selfTradePrevention": False, "iceberg": False,
                    },
                    "createOrders": None,
                    "fetchMyTrades": {"marginMode": False, "limit": 500,
                                      "daysBack": None, "untilDays": None,
                                      "symbolRequired": False},
                    "fetchOrder": {"marginMode": False, "trigger": False, "trailing": False,
                                   "symbolRequired": False},
                    "fetchOpenOrders": {"marginMode": False, "limit": 500, "trigger": False,
                                        "trailing": False, "symbolRequired": False},
                    "fetchOrders": {"marginMode": False, "limit": 500, "daysBack": None,
                                    "untilDays": None, "trigger": False, "trailing": False,
                                    "symbolRequired": False},
                    "fetchClosedOrders": {"marginMode": False, "limit": 500,
                                          "daysBack": None, "daysBackCanceled": None,
                                          "untilDays": None, "trigger": False,
                                          "trailing": False, "symbolRequired": False},
                    "fetchOHLCV": {"limit": 1000},
                },
                "swap": {"linear": None, "inverse": None},
                "future": {"linear": None, "inverse": None},
            },
        })

    # --- credentials and signing ---------------------------------------------------------

    def check_required_credentials(self, error: bool = True) -> bool:
        if self.token or (self.apiKey and self.secret):  # type: ignore[attr-defined]
            return True
        if error:
            raise errors.AuthenticationError(
                self.id + ' requires "token" (an API token) or "apiKey" and "secret" '  # type: ignore[attr-defined]
                "(a signed API key)")
        return False

    def sign(self, path: str, api: Any = "public", method: str = "GET",
             params: dict[str, Any] | None = None, headers: Any = None,
             body: Any = None) -> dict[str, Any]:
        params = params or {}
        x: Any = self
        api = api[0] if isinstance(api, list) else api
        request_path = ("/" if api == "health" else "/api/") + x.implode_params(path, params)
        query = x.omit(params, x.extract_params(path))
        headers = {"Accept": "application/json"}
        querystring = ""
        if method in ("GET", "DELETE"):
            if query:
                querystring = x.urlencode_with_array_repeat(query)
        else:
            body = x.json(query)
            headers["Content-Type"] = "application/json"
        target = request_path + ("?" + querystring if querystring else "")
        if api == "private":
            x.check_required_credentials()
            if x.token:
                headers["Authorization"] = "Token " + x.token
            else:
                timestamp = str(x.milliseconds())
                window = str(x.options["recvWindow"])
                payload = timestamp + window + method + target + (body or "")
                headers.update({
                    "X-API-KEY": x.apiKey, "X-API-TIMESTAMP": timestamp,
                    "X-API-RECV-WINDOW": window,
                    "X-API-SIGNATURE": x.hmac(x.encode(payload), x.encode(x.secret),
                                              hashlib.sha256),
                })
        return {"url": x.urls["api"]["rest"].rstrip("/") + target, "method": method,
                "body": body, "headers": headers}

    def handle_errors(self, code: int, reason: str, url: str, method: str, headers: Any,
                      body: str, response: Any, request_headers: Any,
                      request_body: Any) -> None:
        if code < 400:
            return
        x: Any = self
        problems = response.get("errors") if isinstance(response, dict) else None
        first = problems[0] if isinstance(problems, list) and problems else {}
        error_code = str(first.get("code") or "")
        message = x.id + " " + (body or reason)
        exception = EXACT_ERRORS.get(error_code)
        if exception is None and code == 400 and "/api/orders" in url \
                and method in ("POST", "PATCH"):
            exception = errors.InvalidOrder  # a refused order or amend: a rule broken
        if exception is None:
            exception = BY_STATUS.get(code, errors.ExchangeError)
        raise exception(message)

    # --- markets, currencies, fees ---------------------------------------------------

    def parse_markets_of(self, instruments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        x: Any = self
        result = []
        for item in instruments:
            base = x.safe_currency_code(item["base_asset"])
            quote = x.safe_currency_code(item["quote_asset"])
            result.append(x.safe_market_structure({
                "id": item["symbol"], "symbol": base + "/" + quote,
                "base": base, "quote": quote, "settle": None,
                "baseId": item["base_asset"], "quoteId": item["quote_asset"],
                "settleId": None, "type": "spot", "spot": True, "margin": False,
                "swap": False, "future": False, "option": False,
                "active": x.safe_bool(item, "trading"), "contract": False,
                "linear": None, "inverse": None, "contractSize": None, "expiry": None,
                "expiryDatetime": None, "strike": None, "optionType": None,
                "taker": x.safe_number(item, "taker_fee_rate"),
                "maker": x.safe_number(item, "maker_fee_rate"),
                "precision": {"amount": x.safe_number(item, "lot_size"),
                              "price": x.safe_number(item, "tick_size")},
                "limits": {
                    "leverage": {"min": None, "max": None},
                    "amount": {"min": x.safe_number(item, "min_quantity"),
                               "max": x.safe_number(item, "max_quantity")},
                    "price": {"min": x.safe_number(item, "tick_size"),
                              "max": x.safe_number(item, "max_price")},
                    "cost": {"min": x.safe_number(item, "min_notional"),
                             "max": x.safe_number(item, "max_notional")},
                },
                "created": None, "info": item,
            }))
        return result

    def parse_trading_fees_of(self, instruments: list[dict[str, Any]]) -> dict[str, Any]:
        x: Any = self
        fees: dict[str, Any] = {}
        for item in instruments:
            market = x.safe_market(item["symbol"])
            fees[market["symbol"]] = {
                "info": item, "symbol": market["symbol"],
                "maker": x.safe_number(item, "maker_fee_rate"),
                "taker": x.safe_number(item, "taker_fee_rate"),
                "percentage": True, "tierBased": False,
            }
        return fees

    # --- market data -----------------------------------------------------------------------

    def parse_ticker(self, ticker: dict[str, Any], market: Any = None) -> Any:
        x: Any = self
        market = x.safe_market(x.safe_string(ticker, "symbol"), market)
        last = x.safe_string(ticker, "last_trade_price")
        change = x.safe_string(ticker, "change_24h")
        open_price = (Precise.string_sub(last, change)
                      if last is not None and change is not None else None)
        return x.safe_ticker({
            "symbol": market["symbol"], "timestamp": None, "datetime": None,
            "high": None, "low": None,
            "bid": x.safe_string(ticker, "best_bid"), "bidVolume": None,
            "ask": x.safe_string(ticker, "best_ask"), "askVolume": None,
            "vwap": None, "open": open_price, "close": last, "last": last,
            "previousClose": None, "change": change,
            "percentage": x.safe_string(ticker, "change_percent_24h"), "average": None,
            "baseVolume": x.safe_string(ticker, "volume_24h"), "quoteVolume": None,
            "indexPrice": None, "markPrice": x.safe_string(ticker, "reference_price"),
            "info": ticker,
        }, market)

    def parse_public_trade(self, trade: dict[str, Any], market: Any) -> Any:
        x: Any = self
        timestamp = x.parse8601(x.safe_string(trade, "traded_at"))
        return x.safe_trade({
            "id": x.safe_string(trade, "trade_id"), "order": None, "info": trade,
            "timestamp": timestamp, "datetime": x.iso8601(timestamp),
            "symbol": market["symbol"], "type": None,
            "side": x.safe_string(trade, "taker_side"), "takerOrMaker": None,
            "price": x.safe_string(trade, "price"), "amount": x.safe_string(trade, "quantity"),
            "cost": None, "fee": None,
        }, market)

    def parse_trade(self, trade: dict[str, Any], market: Any = None) -> Any:
        """A fill of your own (`/api/fills`, `/api/orders/{id}/fills`), or a public trade."""
        x: Any = self
        if "taker_side" in trade:
            return self.parse_public_trade(trade, market)
        market = x.safe_market(x.safe_string(trade, "symbol"), market)
        timestamp = x.parse8601(x.safe_string(trade, "created_at"))
        fee_asset = x.safe_string(trade, "fee_asset")
        return x.safe_trade({
            "id": x.safe_string(trade, "trade_id"), "info": trade,
            "order": x.safe_string(trade, "order_id"),
            "timestamp": timestamp, "datetime": x.iso8601(timestamp),
            "symbol": market["symbol"], "type": None,
            "side": x.safe_string(trade, "side"),
            "takerOrMaker": x.safe_string(trade, "liquidity"),
            "price": x.safe_string(trade, "price"), "amount": x.safe_string(trade, "quantity"),
            "cost": None,
            "fee": {"cost": x.safe_string(trade, "fee"),
                    "currency": x.safe_currency_code(fee_asset) if fee_asset else None},
        }, market)

    def parse_ohlcv(self, ohlcv: Any, market: Any = None) -> list[Any]:
        x: Any = self
        return [x.parse8601(x.safe_string(ohlcv, "start")),
                x.safe_number(ohlcv, "open"), x.safe_number(ohlcv, "high"),
                x.safe_number(ohlcv, "low"), x.safe_number(ohlcv, "close"),
                x.safe_number(ohlcv, "volume")]

    # --- account ---------------------------------------------------------------------------

    def parse_balance(self, response: list[dict[str, Any]]) -> Any:
        x: Any = self
        result: dict[str, Any] = {"info": response, "timestamp": None, "datetime": None}
        for row in response:
            account = x.account()
            account["free"] = x.safe_string(row, "available")
            account["used"] = x.safe_string(row, "reserved")
            account["total"] = x.safe_string(row, "total")
            result[x.safe_currency_code(x.safe_string(row, "asset"))] = account
        return x.safe_balance(result)

    # --- orders ----------------------------------------------------------------------------

    @staticmethod
    def amended(order: dict[str, Any], request: dict[str, Any]) -> bool:
        """Whether the order has the terms an amend asked for (`quantity`, `price`)."""
        return all(Precise.string_eq(order.get(term), request[term])
                   for term in ("quantity", "price") if term in request)

    def refusal_error(self, refusal: dict[str, Any]) -> Exception:
        """The exception of a request the venue refused (an order's `last_refusal`)."""
        reason = str(refusal.get("reason") or "")
        exception = EXACT_ERRORS.get(reason, errors.InvalidOrder)
        x: Any = self
        return exception(f"{x.id} {refusal.get('request')} refused: {reason}")

    def parse_order(self, order: dict[str, Any], market: Any = None) -> Any:
        x: Any = self
        market = x.safe_market(x.safe_string(order, "symbol"), market)
        timestamp = x.parse8601(x.safe_string(order, "created_at"))
        kind = x.safe_string(order, "type")
        time_in_force = x.safe_string(order, "time_in_force")
        post_only = x.safe_bool(order, "post_only")
        filled = x.safe_string(order, "filled_quantity")
        average = x.safe_string(order, "average_fill_price")
        return x.safe_order({
            "id": x.safe_string(order, "id"),
            "clientOrderId": x.safe_string(order, "client_order_id"),
            "info": order, "timestamp": timestamp, "datetime": x.iso8601(timestamp),
            "lastTradeTimestamp": None,
            "lastUpdateTimestamp": x.parse8601(x.safe_string(order, "updated_at")),
            "symbol": market["symbol"],
            "type": {"stop": "market", "stop_limit": "limit"}.get(kind, kind),
            "timeInForce": "PO" if post_only else time_in_force, "postOnly": post_only,
            "reduceOnly": None, "side": x.safe_string(order, "side"),
            "price": x.safe_string(order, "price"),
            "triggerPrice": x.safe_string(order, "stop_price"),
            "amount": x.safe_string(order, "quantity"), "filled": filled,
            "remaining": None, "average": average,
            "cost": (Precise.string_mul(filled, average)
                     if filled is not None and average is not None else "0"),
            "status": ORDER_STATUSES.get(x.safe_string(order, "status")),
            "fee": None, "trades": None,
        }, market)

    def order_request(self, symbol: str, type: str, side: str, amount: float,
                      price: float | None, params: dict[str, Any]) -> dict[str, Any]:
        """The body of `POST /api/orders` for ccxt's `create_order` arguments. Unified
        params: `clientOrderId`, `timeInForce` (GTC, IOC, FOK, PO), `postOnly`,
        `triggerPrice` (or `stopPrice`: a stop or stop-limit order), `expiresAt` (ms, GTD),
        `reduceOnly` (false only: a spot venue)."""
        x: Any = self
        market = x.market(symbol)
        trigger = x.safe_string_2(params, "triggerPrice", "stopPrice")
        time_in_force = x.safe_string_upper(params, "timeInForce")
        post_only = x.is_post_only(type == "market", time_in_force == "PO", params)
        request: dict[str, Any] = {
            "symbol": market["id"], "side": side,
            "type": ("stop_limit" if type == "limit" else "stop") if trigger else type,
            "quantity": x.amount_to_precision(symbol, amount),
        }
        if type == "limit":
            request["price"] = x.price_to_precision(symbol, price)
        if trigger is not None:
            request["stop_price"] = x.price_to_precision(symbol, trigger)
        if post_only:
            request["post_only"] = True
        if time_in_force is not None and time_in_force != "PO":
            request["time_in_force"] = time_in_force
        expires = x.safe_integer(params, "expiresAt")
        if expires is not None:
            request["time_in_force"] = "GTD"
            request["expires_at"] = x.iso8601(expires)
        client_order_id = x.safe_string_2(params, "clientOrderId", "client_order_id")
        if client_order_id is not None:
            request["client_order_id"] = client_order_id
        reduce_only = x.safe_bool(params, "reduceOnly")
        if reduce_only is not None:
            request["reduce_only"] = reduce_only  # the API accepts false, refuses true
        rest = x.omit(params, ["triggerPrice", "stopPrice", "timeInForce", "postOnly",
                               "expiresAt", "clientOrderId", "client_order_id",
                               "reduceOnly"])
        return x.extend(request, rest)

    def orders_query(self, symbol: str | None, since: int | None, limit: int | None,
                     statuses: list[str] | None, params: dict[str, Any]) -> dict[str, Any]:
        x: Any = self
        request: dict[str, Any] = {"page_size": min(limit or x.options["pageSize"], 500)}
        if symbol is not None:
            request["symbol"] = x.market_id(symbol)
        if since is not None:
            request["created_after"] = x.iso8601(since)
        if statuses:
            request["status"] = statuses
        return x.extend(request, params)
