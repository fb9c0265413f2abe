"""The margin model on the pure functions: a spot account must be fully funded; a
leveraged one may borrow the shortfall while its gross exposure stays within equity x
leverage (each symbol weighted by its initial margin); maintenance from positions."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from apps.risk.domain.checks import PreTradeContext, decide
from apps.risk.domain.margin import (
    MarginRate,
    MarginTerms,
    buying_power,
    maintenance_requirement,
    weighted_gross,
)

# Buys 1 BTC at 100 with 40 available: a shortfall of 60.
SHORT = PreTradeContext(
    user_id=1, symbol="BTC-USDT", side="buy", quantity=D("1"), price=D("100"), is_limit=True,
    trading=True, required_asset="USDT", required_amount=D("100"),
    available_amount=D("40"), reference_price=D("100"),
)


def leveraged(equity: str, leverage: str = "3", initial: str = "0.1",
              **changes: object) -> PreTradeContext:
    terms = MarginTerms(leverage=D(leverage), initial_margins={"BTC-USDT": D(initial)},
                        equity=D(equity))
    return replace(SHORT, margin=terms, **changes)  # type: ignore[arg-type]


def test_spot_account_must_be_fully_funded() -> None:
    decision = decide(SHORT)
    assert (decision.accepted, decision.code) == (False, "insufficient_funds")
    assert decide(replace(SHORT, available_amount=D("100"))).borrow == 0


@pytest.mark.parametrize(("equity", "accepted"), [
    ("33.34", True),   # 33.34 x 3 = 100.02 >= 100
    ("33.33", False),  # 99.99 < 100
])
def test_buying_power_at_and_around_equity_times_leverage(equity: str, accepted: bool) -> None:
    decision = decide(leveraged(equity))
    assert decision.accepted is accepted
    assert decision.borrow == (D("60") if accepted else 0)
    assert decision.code == ("" if accepted else "insufficient_funds")


def test_gross_exposure_counts_positions_and_working_orders() -> None:
    # 100 of this order + 50 of positions elsewhere + 0.5 working at 100 = 200.
    crowded = leveraged("66.67", exposures={"ETH-USDT": D("50")},
                        open_buy_quantity=D("0.5"))
    assert decide(crowded).accepted
    assert not decide(replace(crowded, margin=replace(crowded.margin,  # type: ignore[arg-type]
                                                      equity=D("66.66")))).accepted


def test_instrument_initial_margin_caps_the_leverage() -> None:
    terms = MarginTerms(leverage=D("10"), initial_margins={"A": D("0.25"), "B": D("0.05")},
                        equity=D(1))
    # A allows 4x of the 10x: it weighs 10 / 4; B allows 20x: the account's 10x decides.
    assert weighted_gross({"A": D("4"), "B": D("3"), "C": D("1")}, terms) == D("14")
    # 10x asked, 2x allowed by a 50 % initial margin: 40 x 2 = 80 < 100.
    assert not decide(leveraged("40", leverage="10", initial="0.5")).accepted
    assert decide(leveraged("50", leverage="10", initial="0.5")).accepted


def test_negative_equity_has_no_buying_power() -> None:
    assert buying_power(MarginTerms(leverage=D("5"), initial_margins={},
                                    equity=D("-10"))) == 0


def test_a_fully_funded_order_of_a_leveraged_account_borrows_nothing() -> None:
    decision = decide(leveraged("1", available_amount=D("100")))
    assert decision.accepted
    assert decision.borrow == 0


def test_maintenance_requirement_over_positions_at_marks() -> None:
    rates = {"BTC-USDT": MarginRate(D("0.1"), D("0.05")),
             "ETH-USDT": MarginRate(D("0.2"), D("0.1"))}
    required = maintenance_requirement(
        {"BTC-USDT": D("-2"), "ETH-USDT": D("10"), "SOL-USDT": D("5")},
        {"BTC-USDT": D("100"), "ETH-USDT": D("10")}, rates)
    assert required == D("2") * 100 * D("0.05") + 10 * 10 * D("0.1")  # SOL: no mark, no rate
