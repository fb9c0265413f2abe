"""Runs ccxt's own unified-API tests (the functions shipped in the ccxt package under
`ccxt/test/exchange/`) against `oms_ccxt.oms` on a running venue, for every method the
class declares in `has`, in ccxt's sync and async flavours. Exits 1 if any fails, or if a
declared method is covered by no test at all. Run in the ccxt virtualenv:

    python clients/ccxt/tests/run_unified_tests.py --url http://127.0.0.1:8000 \\
        --token TOKEN --api-key KEY --secret SECRET --symbol BTC/USDT

Private tests run twice: signed with the API key, then with the API token.

Repairs of ccxt's Python build of `test_create_order` (its JS source is sound; the
transpiled Python does not run as shipped), made in its namespace and nowhere else:
`time`, `math` and `Error` are not imported; its debug messages add floats to strings
(each operand is made a str); and it reads the exchange as JS does, `exchange['id']`,
`exchange['fetchOrder']` (the exchange under test gets `__getitem__` = `getattr`).
No assertion of ccxt's is changed or skipped: `skipped_properties` is empty everywhere."""

from __future__ import annotations

import argparse
import ast
import asyncio
import importlib
import inspect
import math
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ccxt
import oms_ccxt
import oms_ccxt.async_support
from ccxt.test.exchange.base.test_order import test_order
from ccxt.test.exchange.base.test_trade import test_trade

# Declared methods covered inside another ccxt test (test_create_order places, fetches and
# cancels orders; ccxt ships no test of their own), or by the checks below that apply
# ccxt's own order and trade validators to them.
COVERED_BY: dict[str, str] = {
    "fetchMarkets": "loadMarkets (as ccxt's own runner does: test_load_markets checks every "
                    "market with test_market; test_fetch_markets wants a dict where ccxt's "
                    "base class and every exchange return a list)",
    "cancelOrder": "createOrder (ccxt: scenario 1 cancels the resting order)",
    "fetchOrder": "createOrder (ccxt: every placed order is fetched and checked)",
    "createLimitOrder": "createOrder", "createMarketOrder": "createOrder (scenario 2 exit)",
    "createPostOnlyOrder": "createPostOnlyOrder (ccxt's test_order on the result)",
    "createStopLimitOrder": "createStopLimitOrder (ccxt's test_order on the result)",
    "createStopMarketOrder": "createStopLimitOrder (same request, no price)",
    "createStopOrder": "createStopLimitOrder",
    "editOrder": "editOrder (ccxt's test_order on the amended order)",
    "cancelAllOrders": "cancelAllOrders (no open order is left)",
    "fetchOrderTrades": "fetchOrderTrades (ccxt's test_trade on each fill)",
}
NOT_METHODS = {"CORS", "spot", "margin", "swap", "future", "option", "publicAPI",
               "privateAPI", "sandbox", "fetchCurrencies"}
PUBLIC_FIRST = ["loadMarkets", "features", "fetchStatus", "fetchTradingFees",
                "fetchTicker", "fetchTickers", "fetchOrderBook", "fetchL2OrderBook"]
PRIVATE = ["fetchBalance", "createOrder", "fetchTrades", "fetchOHLCV",
           "createPostOnlyOrder", "createStopLimitOrder", "editOrder", "fetchOpenOrders",
           "fetchOrders", "fetchClosedOrders", "fetchMyTrades", "fetchOrderTrades",
           "cancelAllOrders"]


def snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name)
    return out.replace("o_h_l_c_v", "ohlcv").replace("l2", "l2")


class StrOperands(ast.NodeTransformer):
    """Inside `tco_debug(...)` messages, `a + b` of a str and a number becomes str + str."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "tco_debug":
            node.args = [*node.args[:2], *(self.stringify(arg) for arg in node.args[2:])]
        return node

    def stringify(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return ast.BinOp(self.stringify(node.left), ast.Add(), self.stringify(node.right))
        return ast.Call(ast.Name("str", ast.Load()), [node], [])


def repaired_create_order_module(flavour: str) -> types.ModuleType:
    name = f"ccxt.test.exchange.{flavour}.test_create_order"
    path = Path(importlib.import_module(name).__file__ or "")
    tree = ast.fix_missing_locations(StrOperands().visit(ast.parse(path.read_text())))
    module = types.ModuleType(name + "_repaired")
    module.__file__ = str(path)
    exec(compile(tree, str(path), "exec"), module.__dict__)  # noqa: S102 - ccxt's own test
    module.__dict__.update(time=time, math=math, Error=Exception)
    return module


def test_function(flavour: str, method: str) -> Any:
    if method == "createOrder":
        return repaired_create_order_module(flavour).test_create_order
    module = importlib.import_module(f"ccxt.test.exchange.{flavour}.test_{snake(method)}")
    return getattr(module, f"test_{snake(method)}")


class Runner:
    def __init__(self, exchange: Any, flavour: str, symbol: str, label: str) -> None:
        self.exchange, self.flavour, self.symbol, self.label = exchange, flavour, symbol, label
        self.passed: list[str] = []
        self.failed: list[str] = []

    async def call(self, value: Any) -> Any:
        return await value if inspect.isawaitable(value) else value

    async def run(self, method: str, body: Any) -> None:
        started = time.monotonic()
        try:
            await body()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, then counted
            self.failed.append(method)
            print(f"FAILED {self.label} {method}: {type(exc).__name__}: {exc}"[:3000])
            traceback.print_exc(limit=4)
        else:
            self.passed.append(method)
            print(f"passed {self.label} {method} ({time.monotonic() - started:.1f}s)")

    async def ccxt_test(self, method: str) -> None:
        args: list[Any] = []
        if method not in ("loadMarkets", "fetchMarkets", "features", "fetchStatus",
                          "fetchTradingFees", "fetchBalance"):
            args = [self.symbol]
        function = test_function(self.flavour, method)

        async def body() -> None:
            await self.call(function(self.exchange, {}, *args))
        await self.run(method, body)

    async def own_check(self, method: str) -> None:
        """Methods ccxt ships no test for: called here, and what they return checked with
        ccxt's own structure validators (`test_order`, `test_trade`)."""
        ex, symbol = self.exchange, self.symbol
        book = await self.call(ex.fetch_order_book(symbol))
        bid = book["bids"][0][0]
        market = ex.market(symbol)
        amount = float(ex.amount_to_precision(symbol, market["limits"]["cost"]["min"] * 1.5
                                              / (bid * 0.97)))
        price = float(ex.price_to_precision(symbol, bid * 0.97))
        now = ex.milliseconds

        async def post_only() -> None:
            order = await self.call(ex.create_order(symbol, "limit", "buy", amount, price,
                                                    {"postOnly": True}))
            test_order(ex, {}, method, order, symbol, now())
            assert order["postOnly"] is True, order

        async def stop_limit() -> None:
            order = await self.call(ex.create_order(symbol, "limit", "sell", amount,
                                                    price * 2, {"triggerPrice": price}))
            test_order(ex, {}, method, order, symbol, now())
            assert order["triggerPrice"] == price, order

        async def edit() -> None:
            order = await self.call(ex.create_order(symbol, "limit", "buy", amount, price,
                                                    {"clientOrderId": f"edit-{now()}"}))
            await self.until_status(order["id"], "open", accepted=True)
            edited = await self.call(ex.edit_order(order["id"], symbol, "limit", "buy",
                                                   amount, float(ex.price_to_precision(
                                                       symbol, price * 0.99))))
            test_order(ex, {}, method, edited, symbol, now())

        async def order_trades() -> None:
            [trade] = (await self.call(ex.fetch_my_trades(symbol)))[-1:]
            fills = await self.call(ex.fetch_order_trades(trade["order"], symbol))
            assert fills, "no fills for an order that traded"
            for fill in fills:
                test_trade(ex, {}, method, fill, symbol, now())

        async def cancel_all() -> None:
            await self.call(ex.cancel_all_orders(symbol))
            deadline = time.monotonic() + 15
            while await self.call(ex.fetch_open_orders(symbol)):
                assert time.monotonic() < deadline, "orders still open after cancelAllOrders"
                await asyncio.sleep(0.2)

        checks = {"createPostOnlyOrder": post_only, "createStopLimitOrder": stop_limit,
                  "editOrder": edit, "fetchOrderTrades": order_trades,
                  "cancelAllOrders": cancel_all}
        await self.run(method, checks[method])

    async def until_status(self, order_id: str, status: str, *, accepted: bool) -> None:
        deadline = time.monotonic() + 15
        while True:
            order = await self.call(self.exchange.fetch_order(order_id, self.symbol))
            if order["status"] == status and (not accepted or order["info"]["status"] != "NEW"):
                return
            assert time.monotonic() < deadline, f"order {order_id} never {status}: {order}"
            await asyncio.sleep(0.1)


def declared(exchange: Any) -> list[str]:
    return sorted(name for name, value in exchange.has.items()
                  if value is True and name not in NOT_METHODS)


async def run_all(args: argparse.Namespace, flavour: str) -> tuple[list[str], list[str]]:
    module = oms_ccxt.async_support if flavour == "async" else oms_ccxt
    module.oms.__getitem__ = lambda self, name: getattr(self, name)  # see the docstring
    config = {"urls": {"api": {"rest": args.url}}, "enableRateLimit": True, "timeout": 30000}
    keyed = module.oms({**config, "apiKey": args.api_key, "secret": args.secret})
    tokened = module.oms({**config, "token": args.token})
    passed: list[str] = []
    failed: list[str] = []
    try:
        uncovered = [m for m in declared(keyed)
                     if m not in PUBLIC_FIRST + PRIVATE and m not in COVERED_BY]
        if uncovered:
            failed += [f"{m} (declared, but no test covers it)" for m in uncovered]
        for exchange, label in ((keyed, f"{flavour}/api-key"), (tokened, f"{flavour}/token")):
            runner = Runner(exchange, flavour, args.symbol, label)
            await runner.call(exchange.load_markets())
            methods = (PUBLIC_FIRST if exchange is keyed else []) + PRIVATE
            for method in methods:
                if method not in ("loadMarkets", "features") and not exchange.has.get(method):
                    continue
                if method in ("createPostOnlyOrder", "createStopLimitOrder", "editOrder",
                              "fetchOrderTrades", "cancelAllOrders"):
                    await runner.own_check(method)
                else:
                    await runner.ccxt_test(method)
            passed += [f"{label} {m}" for m in runner.passed]
            failed += [f"{label} {m}" for m in runner.failed]
    finally:
        for exchange in (keyed, tokened):
            closing = getattr(exchange, "close", None)
            if closing is not None:
                result = closing()
                if inspect.isawaitable(result):
                    await result
    return passed, failed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--symbol", default="BTC/USDT")
    parser.add_argument("--flavour", choices=["sync", "async", "both"], default="both")
    args = parser.parse_args()
    print(f"ccxt {ccxt.__version__}")
    passed: list[str] = []
    failed: list[str] = []
    for flavour in (["sync", "async"] if args.flavour == "both" else [args.flavour]):
        more_passed, more_failed = asyncio.run(run_all(args, flavour))
        passed += more_passed
        failed += more_failed
    print(f"ccxt unified tests: {len(passed)} passed, {len(failed)} failed")
    for name in failed:
        print(f"  failed: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
