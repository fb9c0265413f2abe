"""The demo taker's rules without the stack: an IOC limit at the best opposite price, sized
between the configured notionals on the lot and above the instrument's minimums; how the
bot carries out a step; and that the role does nothing where it is turned off."""

from __future__ import annotations

import io
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from apps.marketdata.demo_taker import DemoTaker
from apps.marketdata.domain.quoting import InstrumentTerms
from apps.marketdata.domain.taking import TakingParams, client_order_id, take
from apps.marketdata.market_maker import ApiError
from oms.terms import Side

BTC = InstrumentTerms(tick_size=Decimal("0.01"), lot_size=Decimal("0.00001"),
                      min_quantity=Decimal("0.00001"), min_notional=Decimal("10"))
SOL = InstrumentTerms(tick_size=Decimal("0.001"), lot_size=Decimal("0.01"),
                      min_quantity=Decimal("0.01"), min_notional=Decimal("5"))
PARAMS = TakingParams(min_notional=Decimal(50), max_notional=Decimal(1500),
                      buy_share=Decimal("0.5"))
API_CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # PlaceOrderSerializer's


def test_a_buy_lifts_the_best_ask_and_a_sell_hits_the_best_bid() -> None:
    bid, ask = Decimal("59940"), Decimal("60060")
    buy = take(best_bid=bid, best_ask=ask, side_draw=0.1, size_draw=0.0, terms=BTC,
               params=PARAMS)
    sell = take(best_bid=bid, best_ask=ask, side_draw=0.9, size_draw=0.0, terms=BTC,
                params=PARAMS)
    assert buy is not None
    assert sell is not None
    assert (buy.side, buy.price) == (Side.BUY, ask)
    assert (sell.side, sell.price) == (Side.SELL, bid)


def test_sizes_span_the_notionals_on_the_lot() -> None:
    for draw in (0.0, 0.3, 0.999):
        order = take(best_bid=Decimal("149.972"), best_ask=Decimal("150.274"), side_draw=0.0,
                     size_draw=draw, terms=SOL, params=PARAMS)
        assert order is not None
        assert order.quantity % SOL.lot_size == 0
        assert Decimal(49) < order.quantity * order.price <= Decimal(1500)


def test_the_instruments_minimum_notional_wins_over_a_smaller_size() -> None:
    tiny = TakingParams(min_notional=Decimal(1), max_notional=Decimal(1), buy_share=Decimal(1))
    order = take(best_bid=None, best_ask=Decimal(60000), side_draw=0.0, size_draw=0.0,
                 terms=BTC, params=tiny)
    assert order is not None
    assert order.quantity * order.price >= BTC.min_notional


def test_an_empty_side_takes_nothing() -> None:
    assert take(best_bid=None, best_ask=Decimal(1), side_draw=0.9, size_draw=0.5, terms=BTC,
                params=PARAMS) is None
    assert take(best_bid=Decimal(1), best_ask=None, side_draw=0.1, size_draw=0.5, terms=BTC,
                params=PARAMS) is None


def test_client_order_ids_are_ones_the_api_accepts() -> None:
    assert API_CLIENT_ORDER_ID.match(client_order_id("BTC-USDT", 123456, "6178e3f2a1b0c"))


class FakeClient:
    """The `OmsClient` calls the taker makes, answered from memory."""

    def __init__(self, refuse: int | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.keys: list[str | None] = []
        self.refuse = refuse

    def instruments(self) -> dict[str, InstrumentTerms]:
        return {"BTC-USDT": BTC}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
             idempotency_key: str | None = None) -> Any:
        if self.refuse is not None:
            raise ApiError(self.refuse, "refused")
        assert (method, path) == ("POST", "/api/orders")
        self.sent.append(dict(body or {}))
        self.keys.append(idempotency_key)
        return {"id": "x"}


def test_a_step_sends_one_ioc_limit_with_its_client_order_id_as_the_idempotency_key() -> None:
    client = FakeClient()
    taker = DemoTaker(client, symbols=["BTC-USDT", "DOGE-USDT"], params=PARAMS,  # type: ignore[arg-type]
                      best_prices=lambda symbol: (Decimal("59940"), Decimal("60060")),
                      rng=random.Random(1))
    first, second = taker.step(), taker.step()
    assert first is not None
    assert second is not None
    assert first != second
    assert [body["symbol"] for body in client.sent] == ["BTC-USDT", "BTC-USDT"]
    assert {body["time_in_force"] for body in client.sent} == {"IOC"}
    assert {body["type"] for body in client.sent} == {"limit"}
    assert client.keys == [first, second]
    assert {body["price"] for body in client.sent} <= {"59940", "60060"}


def test_a_step_without_a_book_sends_nothing() -> None:
    client = FakeClient()
    taker = DemoTaker(client, symbols=["BTC-USDT"], params=PARAMS,  # type: ignore[arg-type]
                      best_prices=lambda symbol: (None, None), rng=random.Random(1))
    assert taker.step() is None
    assert client.sent == []


def test_a_refused_order_is_skipped_and_an_unreachable_api_pauses() -> None:
    book = (Decimal("59940"), Decimal("60060"))
    refused = DemoTaker(FakeClient(refuse=400), symbols=["BTC-USDT"], params=PARAMS,  # type: ignore[arg-type]
                        best_prices=lambda symbol: book, rng=random.Random(1))
    assert refused.step() is None
    down = DemoTaker(FakeClient(refuse=503), symbols=["BTC-USDT"], params=PARAMS,  # type: ignore[arg-type]
                     best_prices=lambda symbol: book, rng=random.Random(1))
    with pytest.raises(ApiError):
        down.step()


@override_settings(MARKETDATA_DEMO_TAKER_ENABLED=False)
def test_the_role_does_nothing_where_it_is_turned_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO"):
        call_command("run_demo_taker", stdout=io.StringIO())
    assert "demo-taker disabled" in caplog.text
    prod = Path(__file__).resolve().parents[2] / "config" / "settings" / "prod.py"
    assert "MARKETDATA_DEMO_TAKER_ENABLED = False" in prod.read_text()
