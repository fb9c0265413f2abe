"""Runs ccxt's own unified-API tests (the functions shipped in the ccxt package under
`ccxt/test/exchange/`) against `oms_ccxt.oms` on a running venue, for every method the
class declares in `has`, in ccxt's sync and async flavours. Exits 1 if any fails, or if a
declared method is covered by no test at all. Run in the ccxt virtualenv:

    python clients/ccxt/tests/run_unified_tests.py --url http://127.0.0.1:8000 \\
        --token TOKEN --api-key KEY --secret SECRET --symbol BTC/USDT

Private tests run twice: signed with the API key, then with the API token.

Repairs of ccxt's Python build of `test_create_order` (its JS source is sound; the
transpiled Python does not run as shipped; ccxt's own runner only runs it with
`--fundedTests`), made in its namespace and nowhere else: `time`, `math` and `Error` are
not imported; its debug messages add floats to strings (each operand is made a str); it
rounds amounts with ROUND_UP, which ccxt's Python `decimal_to_precision` refuses (an
assertion: given here as in ccxt's JS); it reads the exchange as JS does, `exchange['id']`,
`exchange['fetchOrder']` (the exchange under test gets `__getitem__` = `getattr`); and the
async flavour awaits `test_shared_methods.fetch_best_bid_ask` and `fetch_order`, which
ccxt ships only synchronous (they are made coroutines that await the exchange's calls).
No assertion of ccxt's is changed or skipped: `skipped_properties` is empty everywhere."""

from __future__ import annotations

import argparse
import ast
import asyncio
import decimal
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
import ccxt.async_support
import oms_ccxt
import oms_ccxt.async_support
from ccxt.base import errors
from ccxt.base.decimal_to_precision import (
    DECIMAL_PLACES,
    NO_PADDING,
    ROUND,
    ROUND_UP,
    TICK_SIZE,
    number_to_string,
)
from ccxt.base.decimal_to_precision import decimal_to_precision as ccxt_decimal_to_precision
from ccxt.test.exchange.base import test_shared_methods
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


class RoundUpAware(ast.NodeTransformer):
    """`exchange.decimal_to_precision(...)` becomes `decimal_to_precision(...)` of this
    runner, which adds the ROUND_UP mode ccxt's JS has and its Python lacks."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if (isinstance(node.func, ast.Attribute) and node.func.attr == "decimal_to_precision"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "exchange"):
            node.func = ast.Name("decimal_to_precision", ast.Load())
        return node


def decimal_to_precision(n: Any, rounding_mode: int = ROUND, precision: Any = None,
                         counting_mode: int = DECIMAL_PLACES,
                         padding_mode: int = NO_PADDING) -> str:
    """ccxt's `decimal_to_precision`, with ROUND_UP (away from zero) as in ccxt's JS."""
    if rounding_mode != ROUND_UP:
        return ccxt_decimal_to_precision(n, rounding_mode, precision, counting_mode,
                                         padding_mode)
    value = decimal.Decimal(number_to_string(n))
    if counting_mode == TICK_SIZE:
        tick = decimal.Decimal(number_to_string(precision))
        rounded = (value / tick).to_integral_value(decimal.ROUND_UP) * tick
    elif counting_mode == DECIMAL_PLACES:
        rounded = value.quantize(decimal.Decimal(1).scaleb(-int(precision)), decimal.ROUND_UP)
    else:
        raise NotImplementedError("ROUND_UP with SIGNIFICANT_DIGITS")
    return number_to_string(str(rounded.normalize()))


class AwaitExchangeCalls(ast.NodeTransformer):
    """The functions named in `names` become coroutines that await the exchange's
    coroutines (`exchange.fetch_order_book(...)`, `exchange['fetchOrder'](...)`)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        if node.name not in self.names:
            return node
        self.generic_visit(node)
        return ast.AsyncFunctionDef(name=node.name, args=node.args, body=node.body,
                                    decorator_list=node.decorator_list,
                                    returns=node.returns, type_comment=node.type_comment)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        target = node.func
        dynamic = isinstance(target, ast.Subscript)  # exchange['fetchOrder'](...)
        coroutine = isinstance(target, ast.Attribute) and inspect.iscoroutinefunction(
            getattr(ccxt.async_support.Exchange, target.attr, None))
        if ((dynamic or coroutine) and isinstance(target, ast.Subscript | ast.Attribute)
                and isinstance(target.value, ast.Name) and target.value.id == "exchange"):
            return ast.Await(node)
        return node


def awaited_shared_methods(tree: ast.Module) -> set[str]:
    """The functions of `test_shared_methods` that an async test awaits."""
    return {node.value.func.attr for node in ast.walk(tree)
            if isinstance(node, ast.Await) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and isinstance(node.value.func.value, ast.Name)
            and node.value.func.value.id == "test_shared_methods"}


def asynchronous_shared_methods(names: set[str]) -> types.ModuleType:
    """ccxt's `test_shared_methods` (sync only in ccxt's Python) with `names` made async."""
    path = Path(test_shared_methods.__file__ or "")
    tree = AwaitExchangeCalls(names).visit(ast.parse(path.read_text()))
    module = types.ModuleType(test_shared_methods.__name__ + "_async")
    module.__file__ = str(path)
    exec(compile(ast.fix_missing_locations(tree), str(path), "exec"),  # noqa: S102
         module.__dict__)
    return module


def repaired_create_order_module(flavour: str) -> types.ModuleType:
    name = f"ccxt.test.exchange.{flavour}.test_create_order"
    path = Path(importlib.import_module(name).__file__ or "")
    tree = ast.parse(path.read_text())
    awaited = awaited_shared_methods(tree)
    tree = ast.fix_missing_locations(RoundUpAware().visit(StrOperands().visit(tree)))
    module = types.ModuleType(name + "_repaired")
    module.__file__ = str(path)
    exec(compile(tree, str(path), "exec"), module.__dict__)  # noqa: S102 - ccxt's own test
    module.__dict__.update(time=time, math=math, Error=Exception,
                           decimal_to_precision=decimal_to_precision)
    if awaited:
        module.__dict__["test_shared_methods"] = asynchronous_shared_methods(awaited)
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
            # A stop-loss sell: triggered below the market, its limit a little under that.
            limit = float(ex.price_to_precision(symbol, price * 0.99))
            order = await self.call(ex.create_order(symbol, "limit", "sell", amount, limit,
                                                    {"triggerPrice": price}))
            test_order(ex, {}, method, order, symbol, now())
            assert order["triggerPrice"] == price, order
            assert order["status"] == "open", order

        async def edit() -> None:
            order = await self.call(ex.create_order(symbol, "limit", "buy", amount, price,
                                                    {"clientOrderId": f"edit-{now()}"}))
            await self.until_status(order["id"], "open", accepted=True)
            lower = float(ex.price_to_precision(symbol, price * 0.99))
            edited = await self.call(ex.edit_order(order["id"], symbol, "limit", "buy",
                                                   amount, lower))
            test_order(ex, {}, method, edited, symbol, now())
            # As a venue that decides an edit before answering: the order as amended...
            assert edited["price"] == lower, edited
            # ...or the refusal raised, the order left as it was. A million times the
            # amount is more than the account's funds or the instrument allows.
            try:
                await self.call(ex.edit_order(order["id"], symbol, "limit", "buy",
                                              amount * 1_000_000, lower))
            except (errors.InsufficientFunds, errors.InvalidOrder):
                pass
            else:
                raise AssertionError("an edit beyond the account's funds was not refused")
            unchanged = await self.call(ex.fetch_order(order["id"], symbol))
            assert (unchanged["amount"], unchanged["price"]) == (amount, lower), unchanged

        async def order_trades() -> None:
            # An order that crosses the book (immediate or cancel), so it has fills.
            ask = (await self.call(ex.fetch_order_book(symbol)))["asks"][0][0]
            taken = float(ex.price_to_precision(symbol, ask * 1.01))
            order = await self.call(ex.create_order(symbol, "limit", "buy", amount, taken,
                                                    {"timeInForce": "IOC"}))
            assert order["status"] == "closed", order
            assert order["filled"], order
            fills = await self.call(ex.fetch_order_trades(order["id"], symbol))
            assert fills, f"no fills for an order that traded: {order}"
            for fill in fills:
                test_trade(ex, {}, method, fill, symbol, now(), False)
                assert fill["order"] == order["id"], fill
            assert sum(fill["amount"] for fill in fills) == order["filled"], (fills, order)

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
