"""The demo market maker against a running venue of its own (web, processor, relay,
marketdata, and the bot, each a real process): its ladder rests in the public order book on
both sides of the reference price, a trader's crossing order fills against it, and the bot
quotes the filled level again."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from apps.marketdata.domain.quoting import InstrumentTerms, quotes
from apps.marketdata.market_maker import quoting_params
from oms.launcher.process import free_port
from oms.terms import Side
from tests.faults.conftest import Venue, venue, wait_until  # noqa: F401 - `venue` is a fixture

pytestmark = pytest.mark.faults
SYMBOL, HOST = "BTC-USDT", "127.0.0.1"
BTC = InstrumentTerms(tick_size=Decimal("0.01"), lot_size=Decimal("0.00001"),
                      min_quantity=Decimal("0.00001"), min_notional=Decimal("10"))


def start_web(venue: Venue) -> int:  # noqa: F811 - the fixture's value
    port = free_port()
    log = (venue.logs / "web.log").open("wb")
    venue.roles.append(subprocess.Popen(
        [str(Path(sys.executable).parent / "daphne"), "-b", HOST, "-p", str(port),
         "config.asgi:application"], env=venue.env, stdout=log, stderr=subprocess.STDOUT))
    return port


def call(port: int, path: str, body: dict[str, Any] | None = None,
         token: str | None = None) -> Any:
    """The JSON answer of the web role, or None while it does not answer."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("POST" if body else "GET", path,
                           json.dumps(body) if body else None, headers)
        return json.loads(connection.getresponse().read())
    except (OSError, ValueError):
        return None  # not up yet
    finally:
        connection.close()


def levels(book: dict[str, Any] | None, side: str) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(price), Decimal(quantity)) for price, quantity in (book or {}).get(side, [])]


def test_the_bot_quotes_both_sides_and_a_crossing_order_fills(venue: Venue) -> None:  # noqa: F811
    venue.env["MARKETDATA_SIMULATOR_STEP_SECONDS"] = "3600"  # one step, then a still price
    web = start_web(venue)
    venue.env["OMS_API_URL"] = f"http://{HOST}:{web}"
    processor = venue.start("run_consumer", "processor")
    for role in (("run_relay",), ("run_consumer", "marketdata"), ("run_market_maker",)):
        venue.start(*role)
    params = quoting_params(settings.MARKETDATA_MARKET_MAKER)
    book_path = f"/api/market-data/orderbook/{SYMBOL}?depth=20"

    def reference() -> Decimal | None:
        price = call(web, f"/api/market-data/prices/{SYMBOL}")
        return Decimal(price["reference_price"]) if price and price["reference_price"] else None

    wait_until(lambda: reference() is not None, seconds=120, what="a reference price")
    ladder = quotes(reference(), BTC, params)  # type: ignore[arg-type]
    expected = {side: [(quote.price, quote.quantity) for quote in ladder if quote.side == want]
                for side, want in (("bids", Side.BUY), ("asks", Side.SELL))}
    # A book the processor creates reaches market data with its first snapshot: on a
    # takeover, or after 100 deltas. Take over once the ladder rests rather than wait.
    wait_until(lambda: venue.scalar(
        "SELECT count(*) FROM orders_order WHERE status = 'ACCEPTED' AND symbol = 'BTC-USDT'"
        " AND client_order_id LIKE 'mm:BTC-USDT:%'") == 2 * params.levels,
        seconds=120, what="the bot's ladder to rest")
    processor.send_signal(signal.SIGTERM)
    processor.wait(timeout=30)
    venue.start("run_consumer", "processor")
    wait_until(lambda: {side: levels(call(web, book_path), side) for side in expected} == expected,
               seconds=120, what="the bot's ladder in the order book")
    assert expected["bids"][0][0] < reference() < expected["asks"][0][0]  # type: ignore[operator]
    assert len(expected["bids"]) == len(expected["asks"]) == params.levels

    token = venue.manage("create_trader", "taker").stdout.strip().splitlines()[-1]
    best_ask, size = expected["asks"][0]
    order = call(web, "/api/orders", {
        "symbol": SYMBOL, "side": "buy", "type": "limit", "time_in_force": "IOC",
        "price": str(best_ask), "quantity": str(size)}, token)
    assert order is not None
    assert order["status"] == "NEW"
    wait_until(lambda: (call(web, f"/api/orders/{order['id']}", token=token) or {}).get(
        "status") in ("FILLED", "SETTLED"), seconds=60, what="the crossing order to fill")
    wait_until(lambda: levels(call(web, book_path), "asks") == expected["asks"],
               seconds=60, what="the bot to quote the filled level again")
