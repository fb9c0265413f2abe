"""Average entry price and realized P&L from fills (average cost, fees in quote)."""

from __future__ import annotations

from decimal import Decimal as D

from apps.risk.domain.positions import PositionChange, apply_fill

FLAT = PositionChange(D(0), D(0), D(0))


def fill(position: PositionChange, side: str, quantity: str, price: str,
         fee: str = "0") -> PositionChange:
    return apply_fill(position, side=side, quantity=D(quantity), price=D(price),
                      fee_in_quote=D(fee))


def test_buying_averages_the_entry_price() -> None:
    position = fill(fill(FLAT, "buy", "1", "100"), "buy", "3", "200")
    assert position == PositionChange(D(4), D("175"), D(0))


def test_selling_from_a_long_realizes_against_the_average() -> None:
    position = fill(fill(FLAT, "buy", "2", "100", fee="1"), "sell", "1", "130", fee="1")
    assert position == PositionChange(D(1), D(100), D(28))


def test_a_trade_through_zero_opens_the_other_side_at_the_trade_price() -> None:
    position = fill(fill(FLAT, "buy", "1", "100"), "sell", "3", "90")
    assert position == PositionChange(D(-2), D(90), D(-10))


def test_closing_a_short_realizes_the_mirror_image() -> None:
    position = fill(fill(FLAT, "sell", "2", "100"), "buy", "2", "80")
    assert position == PositionChange(D(0), D(0), D(40))
