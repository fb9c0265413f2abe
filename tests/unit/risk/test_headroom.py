"""Headroom agrees with the pre-trade decision: an order of the answered size passes
`decide`, one lot more is refused by the rule named as binding, and (where a rule sets a
floor) one lot less than the floor is refused too. Checked on chosen cases and on random
accounts (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_UP
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.risk.domain.checks import Limits, PreTradeContext, Velocity
from apps.risk.domain.exposure import AccountExposure, WorkingOrders
from apps.risk.domain.headroom import RULES, Funds, Headroom, decide_order, headroom
from apps.risk.domain.margin import MarginTerms

LOT = D("0.001")
FEE = D("0.001")


def reserve_at(price: D):  # type: ignore[no-untyped-def]
    def required(quantity: D) -> D:
        held = quantity * price
        return held + (held * FEE).quantize(D("1e-18"), rounding=ROUND_UP)
    return required


def context(**changes: object) -> PreTradeContext:
    base = PreTradeContext(
        user_id=1, symbol="BTC-USDT", side="buy", quantity=D(0), price=D("100"),
        is_limit=True, trading=True, required_asset="USDT", required_amount=D(0),
        available_amount=D(0), reference_price=D("100"))
    return replace(base, **changes)  # type: ignore[arg-type]


def funds(c: PreTradeContext, quote: str, base: str) -> tuple[Funds, Funds]:
    assert c.price is not None
    return Funds(D(quote), reserve_at(c.price)), Funds(D(base), lambda q: q)


def agrees(c: PreTradeContext, buy: Funds, sell: Funds, margin: MarginTerms | None = None
           ) -> Headroom:
    """Assert the headroom's promise against `decide`, on both sides; return it."""
    room = headroom(c, lot=LOT, buy=buy, sell=sell, margin=margin)
    for side, side_funds, asset in (("buy", buy, "USDT"), ("sell", sell, "BTC")):
        whole = room.side(side)
        assert whole.most is not None, "funds always bound the size"

        def code(quantity: D, side: str = side, side_funds: Funds = side_funds,
                 asset: str = asset) -> str:
            decision = decide_order(c, side=side, quantity=quantity, funds=side_funds,
                                    required_asset=asset, margin=margin)
            return "" if decision.accepted else decision.code

        if whole.most >= LOT and whole.least <= whole.most:
            assert code(whole.most) == "", (side, whole)
            if whole.least > 0:
                assert code(max(whole.least, LOT)) == ""
                if whole.least - LOT > 0:
                    assert code(whole.least - LOT) != ""
        assert code(whole.most + LOT) == room.binding(side), (side, whole, room, c)
    return room


def test_the_tightest_rule_binds_and_each_rule_is_reported() -> None:
    c = context(limits=Limits(max_order_quantity=D("5"), max_position=D("3")),
                position=D("1"), open_buy_quantity=D("0.5"))
    room = agrees(c, *funds(c, "100000", "10"))
    assert [r.rule for r in room.rules] == list(RULES)
    by_rule = {r.rule: r for r in room.rules}
    assert by_rule["order_size"].buy.most == D("5")
    assert by_rule["position_limit"].buy.most == D("1.5")  # 3 - (1 + 0.5 working)
    assert by_rule["position_limit"].sell.most == D("4")  # 1 + 3
    assert (room.side("buy").most, room.binding("buy")) == (D("1.5"), "position_limit")
    assert (room.side("sell").most, room.binding("sell")) == (D("4"), "position_limit")
    assert by_rule["kill_switch"].buy.most is None


def test_funds_bind_to_the_last_fee_digit() -> None:
    c = context(price=D("33.33"))
    room = agrees(c, *funds(c, "1000", "0.25"))
    assert room.binding("buy") == room.binding("sell") == "insufficient_funds"
    assert room.side("sell").most == D("0.25")
    assert reserve_at(D("33.33"))(room.side("buy").most) <= D("1000")
    assert reserve_at(D("33.33"))(room.side("buy").most + LOT) > D("1000")


@pytest.mark.parametrize("changes", [
    {"kill_switch": True},
    {"trading": False},
    {"limits": Limits(max_open_orders=2), "open_orders": 2},
    {"limits": Limits(daily_loss=D("50")), "daily_pnl": D("-50")},
    {"limits": Limits(max_orders_per_second=3), "velocity": Velocity(orders_this_second=3)},
    {"limits": Limits(price_band=D("0.05")), "price": D("106")},
])
def test_rules_that_refuse_every_order_leave_no_room(changes: dict[str, object]) -> None:
    c = context(**changes)
    room = agrees(c, *funds(c, "100000", "10"))
    assert room.side("buy").most == room.side("sell").most == 0


def test_short_beyond_the_limit_may_only_buy_back_enough() -> None:
    c = context(limits=Limits(max_position=D("2")), position=D("-3"))
    room = agrees(c, *funds(c, "100000", "10"))
    assert (room.side("buy").least, room.side("buy").most) == (D("1"), D("5"))
    assert room.side("sell").most == 0


def test_notional_per_minute_and_concentration() -> None:
    c = context(limits=Limits(max_notional_per_minute=D("250"), concentration=D("0.5")),
                velocity=Velocity(notional_this_minute=D("50")),
                exposures={"ETH-USDT": D("300")}, position=D(0))
    room = agrees(c, *funds(c, "100000", "10"))
    assert {r.rule: r.buy.most for r in room.rules}["velocity"] == D("2")
    assert {r.rule: r.buy.most for r in room.rules}["concentration"] == D("3")


def test_a_leveraged_account_may_borrow_up_to_its_buying_power() -> None:
    account = AccountExposure(user_id=1, working={"BTC-USDT": WorkingOrders(
        orders=1, buy_quantity=D("1"), buy_notional=D("100"))}, holdings={"USDT": D("1000")})
    c = context(account=account, open_orders=1, open_buy_quantity=D("1"))
    margin = MarginTerms(leverage=D("3"), initial_margins={"BTC-USDT": D("0.1")},
                         equity=D("1000"))
    room = agrees(c, *funds(c, "900", "0"), margin=margin)
    assert room.side("buy").most == D("29")  # (3000 - 100) / 100


amounts = st.decimals(min_value=D("0"), max_value=D("1000"), places=3)
optional = st.one_of(st.none(), st.decimals(min_value=D("0.001"), max_value=D("500"),
                                            places=3))


@settings(max_examples=300, deadline=None)
@given(price=st.decimals(min_value=D("0.5"), max_value=D("500"), places=2),
       reference=st.decimals(min_value=D("0.5"), max_value=D("500"), places=2),
       position=st.decimals(min_value=D("-50"), max_value=D("50"), places=3),
       open_buy=st.decimals(min_value=D("0"), max_value=D("20"), places=3),
       open_sell=st.decimals(min_value=D("0"), max_value=D("20"), places=3),
       max_position=optional, max_position_notional=optional, max_order_quantity=optional,
       max_order_notional=optional, notional_per_minute=optional,
       concentration=st.one_of(st.none(), st.decimals(min_value=D("0.05"),
                                                       max_value=D("0.95"), places=2)),
       other_exposure=amounts, quote=amounts, base=amounts,
       leverage=st.one_of(st.none(), st.sampled_from([D("2"), D("5")])))
def test_headroom_agrees_with_the_decision(
        price: D, reference: D, position: D, open_buy: D, open_sell: D,
        max_position: D | None, max_position_notional: D | None,
        max_order_quantity: D | None, max_order_notional: D | None,
        notional_per_minute: D | None, concentration: D | None, other_exposure: D,
        quote: D, base: D, leverage: D | None) -> None:
    account = AccountExposure(user_id=1, working={"BTC-USDT": WorkingOrders(
        orders=2, buy_quantity=open_buy, sell_quantity=open_sell,
        buy_notional=open_buy * price, sell_notional=open_sell * price)},
        holdings={"USDT": quote, "BTC": base})
    exposures = {"ETH-USDT": other_exposure}
    if position:
        exposures["BTC-USDT"] = abs(position) * reference
    c = context(price=price, reference_price=reference, position=position,
                open_buy_quantity=open_buy, open_sell_quantity=open_sell, open_orders=2,
                account=account, exposures=exposures,
                velocity=Velocity(notional_this_minute=D("100")),
                limits=Limits(max_position=max_position,
                              max_position_notional=max_position_notional,
                              max_order_quantity=max_order_quantity,
                              max_order_notional=max_order_notional,
                              max_notional_per_minute=notional_per_minute,
                              concentration=concentration))
    margin = None if leverage is None else MarginTerms(
        leverage=leverage, initial_margins={"BTC-USDT": D("0.1"), "ETH-USDT": D("0.3")},
        equity=quote + base * reference)
    agrees(c, *funds(c, str(quote), str(base)), margin=margin)
