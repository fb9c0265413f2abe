"""The implicit API of the OMS for ccxt (`public_get_instruments`, `private_post_orders`,
...), as ccxt declares each exchange's endpoints: one `Entry` per path and method, the same
list as `describe()["api"]`. Paths are under `/api/` (`health` under `/`)."""

from __future__ import annotations

from typing import Any

from ccxt.base.types import Entry


class ImplicitAPI:
    public_get_instruments: Any = Entry("instruments", ["public"], "GET", {"cost": 1})
    public_get_market_data_prices_symbol: Any = Entry(
        "market-data/prices/{symbol}", ["public"], "GET", {"cost": 1})
    public_get_market_data_orderbook_symbol: Any = Entry(
        "market-data/orderbook/{symbol}", ["public"], "GET", {"cost": 1})
    public_get_market_data_trades_symbol: Any = Entry(
        "market-data/trades/{symbol}", ["public"], "GET", {"cost": 1})
    public_get_market_data_candles_symbol: Any = Entry(
        "market-data/candles/{symbol}", ["public"], "GET", {"cost": 1})
    health_get_health: Any = Entry("health", ["health"], "GET", {"cost": 1})
    private_get_orders: Any = Entry("orders", ["private"], "GET", {"cost": 1})
    private_get_orders_id: Any = Entry("orders/{id}", ["private"], "GET", {"cost": 1})
    private_get_orders_id_fills: Any = Entry("orders/{id}/fills", ["private"], "GET",
                                             {"cost": 1})
    private_get_fills: Any = Entry("fills", ["private"], "GET", {"cost": 1})
    private_get_balances: Any = Entry("balances", ["private"], "GET", {"cost": 1})
    private_post_orders: Any = Entry("orders", ["private"], "POST", {"cost": 1})
    private_post_orders_id_cancel: Any = Entry("orders/{id}/cancel", ["private"], "POST",
                                               {"cost": 1})
    private_post_orders_cancel_all: Any = Entry("orders/cancel-all", ["private"], "POST",
                                                {"cost": 1})
    private_post_ws_ticket: Any = Entry("ws-ticket", ["private"], "POST", {"cost": 1})
    private_patch_orders_id: Any = Entry("orders/{id}", ["private"], "PATCH", {"cost": 1})
