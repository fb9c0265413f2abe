"""Each pre-trade check at, just under and just over its limit, on the pure functions."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from apps.risk.domain.checks import Limits, PreTradeContext, Velocity, decide

BASE = PreTradeContext(
    user_id=1, symbol="BTC-USDT", side="buy", quantity=D("1"), price=D("100"), is_limit=True,
    trading=True, required_asset="USDT", required_amount=D("100"),
    available_amount=D("1000"), reference_price=D("100"),
)


def code(context: PreTradeContext) -> str:
    decision = decide(context)
    return "" if decision.accepted else decision.code


def limited(**limits: object) -> PreTradeContext:
    return replace(BASE, limits=Limits(**limits))  # type: ignore[arg-type]


@pytest.mark.parametrize(("context", "expected"), [
    # order size: quantity, notional, open orders
    (limited(max_order_quantity=D("1")), ""),
    (limited(max_order_quantity=D("0.99")), "order_size"),
    (limited(max_order_notional=D("100")), ""),
    (limited(max_order_notional=D("99.99")), "order_size"),
    (replace(limited(max_open_orders=3), open_orders=2), ""),
    (replace(limited(max_open_orders=3), open_orders=3), "order_size"),
    # price band around the reference
    (replace(limited(price_band=D("0.1")), price=D("110")), ""),
    (replace(limited(price_band=D("0.1")), price=D("110.01")), "price_band"),
    (replace(limited(price_band=D("0.1")), price=D("89.99")), "price_band"),
    (replace(limited(price_band=D("0.1")), price=D("90")), ""),
    # position: this order plus the working orders on its side
    (replace(limited(max_position=D("3")), position=D("1"), open_buy_quantity=D("1")), ""),
    (replace(limited(max_position=D("3")), position=D("1.01"), open_buy_quantity=D("1")),
     "position_limit"),
    (replace(limited(max_position=D("1")), side="sell", position=D("1")), ""),
    (replace(limited(max_position=D("1")), side="sell", position=D("-0.01")),
     "position_limit"),
    (limited(max_position_notional=D("100")), ""),
    (limited(max_position_notional=D("99")), "position_limit"),
    # concentration: this symbol's share of gross exposure
    (replace(limited(concentration=D("0.5")), exposures={"ETH-USDT": D("100")}), ""),
    (replace(limited(concentration=D("0.5")), exposures={"ETH-USDT": D("99")}),
     "concentration"),
    # daily loss (realized + unrealized)
    (replace(limited(daily_loss=D("50")), daily_pnl=D("-49.99")), ""),
    (replace(limited(daily_loss=D("50")), daily_pnl=D("-50")), "daily_loss"),
    # velocity: orders already seen in the window
    (replace(limited(max_orders_per_second=2), velocity=Velocity(orders_this_second=1)), ""),
    (replace(limited(max_orders_per_second=2), velocity=Velocity(orders_this_second=2)),
     "velocity"),
    (replace(limited(max_orders_per_minute=5), velocity=Velocity(orders_this_minute=5)),
     "velocity"),
    (replace(limited(max_notional_per_minute=D("300")),
             velocity=Velocity(notional_this_minute=D("200"))), ""),
    (replace(limited(max_notional_per_minute=D("300")),
             velocity=Velocity(notional_this_minute=D("200.01"))), "velocity"),
    # funds, halts and kill switches
    (replace(BASE, required_amount=D("1000")), ""),
    (replace(BASE, required_amount=D("1000.01")), "insufficient_funds"),
    (replace(BASE, trading=False), "symbol_halted"),
    (replace(BASE, kill_switch=True, trading=False), "kill_switch"),
])
def test_check_at_and_around_its_limit(context: PreTradeContext, expected: str) -> None:
    assert code(context) == expected


def test_no_limit_set_means_no_limit() -> None:
    huge = replace(BASE, quantity=D("1e9"), position=D("1e9"), daily_pnl=D("-1e12"),
                   velocity=Velocity(1000, 100000, D("1e15")))
    assert code(huge) == ""


def test_every_check_is_timed_with_the_clock_given() -> None:
    ticks = iter(range(0, 1000, 5))
    decision = decide(BASE, clock_ns=lambda: next(ticks))
    assert decision.accepted
    assert set(decision.timings_ns) == {"kill_switch", "symbol_halted", "order_size",
                                        "price_band", "position_limit", "concentration",
                                        "daily_loss", "velocity", "insufficient_funds"}
    assert all(spent == 5 for spent in decision.timings_ns.values())
