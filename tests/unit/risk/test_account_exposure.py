"""Buying power over the whole account, on the pure functions: working orders and positions
of every symbol count, loans reduce equity, the effective leverage never exceeds the
account's setting, and an amend is decided with the order's own exposure released."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from apps.risk.domain.checks import Limits, PreTradeContext, decide
from apps.risk.domain.exposure import AccountExposure, RestingOrder, WorkingOrders, for_amend
from apps.risk.domain.margin import MarginTerms

MARKS = {"BTC-USDT": D("50000"), "ETH-USDT": D("3000"), "SOL-USDT": D("150")}


def order(symbol: str, notional: str, *, account: AccountExposure,
          equity: str = "10000", leverage: str = "5") -> PreTradeContext:
    """A buy of `notional` USDT that needs more than the account has available."""
    price = MARKS[symbol]
    return PreTradeContext(
        user_id=1, symbol=symbol, side="buy", quantity=D(notional) / price, price=price,
        is_limit=True, trading=True, required_asset="USDT", required_amount=D(notional),
        available_amount=D(0), reference_price=price, marks=MARKS, account=account,
        margin=MarginTerms(leverage=D(leverage), initial_margins={}, equity=D(equity)))


def working(symbol: str, notional: str) -> dict[str, WorkingOrders]:
    quantity = D(notional) / MARKS[symbol]
    return {symbol: WorkingOrders(orders=1, buy_quantity=quantity, buy_notional=D(notional))}


def test_three_symbols_just_under_the_limit_do_not_borrow_past_it() -> None:
    # 10k of equity at 5x: 50k of gross exposure in all, not 45k in each symbol.
    empty = AccountExposure(user_id=1)
    assert decide(order("BTC-USDT", "45000", account=empty)).accepted
    one = AccountExposure(user_id=1, working=working("BTC-USDT", "45000"))
    second = decide(order("ETH-USDT", "45000", account=one))
    assert (second.accepted, second.code) == (False, "insufficient_funds")
    assert decide(order("ETH-USDT", "5000", account=one)).accepted
    assert not decide(order("SOL-USDT", "5000.01", account=one)).accepted


def test_positions_of_every_symbol_count_at_their_marks() -> None:
    # Long 0.5 BTC (25k at the mark) and short 5 ETH (15k), as risk fills them in from its
    # positions: 10k of room is left at 5x.
    context = replace(order("SOL-USDT", "10000", account=AccountExposure(user_id=1)),
                      exposures={"BTC-USDT": D("25000"), "ETH-USDT": D("15000")})
    assert decide(context).accepted
    assert not decide(replace(context, quantity=D("10000.15") / MARKS["SOL-USDT"])).accepted


def test_an_instrument_initial_margin_caps_its_share_of_the_leverage() -> None:
    # 5x asked; ETH's 50 % initial margin allows 2x there: 10k of ETH uses 25k of the 50k.
    one = AccountExposure(user_id=1, working=working("ETH-USDT", "10000"))
    terms = MarginTerms(leverage=D("5"), initial_margins={"ETH-USDT": D("0.5")},
                        equity=D("10000"))
    assert decide(replace(order("BTC-USDT", "25000", account=one), margin=terms)).accepted
    assert not decide(replace(order("BTC-USDT", "25000.01", account=one),
                              margin=terms)).accepted


def test_equity_is_holdings_at_prices_less_loans() -> None:
    account = AccountExposure(user_id=1, holdings={"USDT": D("45090"), "BTC": D("0.1"),
                                                   "DOGE": D("5")},
                              loans={"USDT": D("35090")})
    prices = {"USDT": D(1), "BTC": D("50000")}
    assert account.equity(prices) == D("15000")  # DOGE cannot be priced: it counts zero
    unpriced_debt = replace(account, loans={"XYZ": D("1")})
    assert unpriced_debt.equity(prices) == 0


def test_an_amend_releases_the_orders_own_reservation_and_exposure() -> None:
    # 1 BTC resting at 40000 (40080 reserved) amended to 1.1 at the same price.
    account = AccountExposure(user_id=1, working={"BTC-USDT": WorkingOrders(
        orders=2, buy_quantity=D("1.5"), buy_notional=D("60000"))})
    resting = RestingOrder(side="buy", quantity=D("1"), notional=D("40000"),
                           reserved=D("40080"), filled_quantity=D("0.2"))
    context = PreTradeContext(
        user_id=1, symbol="BTC-USDT", side="buy", quantity=D("1.1"), price=D("40000"),
        is_limit=True, trading=True, required_asset="USDT", required_amount=D("44088"),
        available_amount=D("5000"), reference_price=D("40000"),
        limits=Limits(max_order_quantity=D("1.3"), max_open_orders=2))
    amended, released = for_amend(context, account, resting)
    assert amended.available_amount == D("45080")
    assert amended.filled_quantity == D("0.2")
    assert released.working["BTC-USDT"] == WorkingOrders(
        orders=1, buy_quantity=D("0.5"), buy_notional=D("20000"))
    assert released.open_orders == 1
    # 1.1 still to trade and 0.2 filled: the order's size is 1.3, at the limit.
    assert decide(replace(amended, account=released, open_orders=released.open_orders)).accepted
    assert decide(replace(amended, quantity=D("1.11"), account=released,
                          open_orders=released.open_orders)).code == "order_size"
