"""The processor's pure money arithmetic and matching engine over the whole input domain
order entry accepts (issue 14, item 4): any tick and lot an instrument may have (multiples
of 1e-8), prices and quantities up to the global maximums, fee rates between -1 and 1, any
slippage. Nothing raises, and every conversion is exact. (In Python's default 28-digit
context, a fee on a large notional raised `InvalidOperation` and dead-lettered the order.)"""

from __future__ import annotations

from decimal import Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.processing.domain import funds
from apps.processing.domain.matching import (
    MatchingEngine,
    OrderSpec,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)
from oms.money import (
    DECIMAL_PLACES,
    MAX_FEE_RATE,
    MAX_PRICE,
    MAX_QUANTITY,
    MIN_STEP,
    MONEY_CONTEXT,
)

LEDGER_STEP = Decimal(1).scaleb(-DECIMAL_PLACES)
# Any positive multiple of the finest step, from 1e-8 to 100, with powers of ten favoured.
steps = st.one_of(
    st.sampled_from([Decimal(1).scaleb(exponent) for exponent in range(-8, 3)]),
    st.integers(min_value=1, max_value=10**10).map(lambda k: MIN_STEP * k),
)
rates = st.integers(min_value=-(10**DECIMAL_PLACES) + 1,
                    max_value=10**DECIMAL_PLACES - 1).map(lambda k: LEDGER_STEP * k)
slippages = st.integers(min_value=0, max_value=10**6 - 1).map(lambda k: Decimal(k).scaleb(-6))


@st.composite
def on_step(draw: st.DrawFn, step: Decimal, bound: Decimal) -> Decimal:
    """A positive amount on `step` and at most `bound`, often right at the edges."""
    most = int(bound / step)
    units = draw(st.one_of(st.integers(min_value=1, max_value=most),
                           st.sampled_from([1, most])))
    return step * units


@st.composite
def accepted_orders(draw: st.DrawFn) -> dict[str, Decimal]:
    tick, lot = draw(steps), draw(steps)
    return {"tick": tick, "lot": lot, "price": draw(on_step(tick, MAX_PRICE)),
            "quantity": draw(on_step(lot, MAX_QUANTITY)), "maker": draw(rates),
            "taker": draw(rates), "slippage": draw(slippages)}


@settings(max_examples=400, deadline=None)
@given(order=accepted_orders(), split=st.integers(min_value=1, max_value=1000))
def test_funds_and_matching_never_raise_over_the_accepted_domain(
    order: dict[str, Decimal], split: int
) -> None:
    tick, lot, price, quantity = order["tick"], order["lot"], order["price"], order["quantity"]
    maker, taker = order["maker"], order["taker"]
    assert -MAX_FEE_RATE < maker < MAX_FEE_RATE
    with localcontext() as caller:  # whatever the caller's context, the results are exact
        caller.prec = 28
        ticks, lots = funds.to_units(price, tick), funds.to_units(quantity, lot)
        assert funds.from_units(ticks, tick) == price
        assert funds.from_units(lots, lot) == quantity
        notional = funds.notional(price, quantity)
        assert notional == MONEY_CONTEXT.multiply(price, quantity)
        for rate in (maker, taker):
            fee = funds.fee_for(notional, rate)
            assert abs(MONEY_CONTEXT.subtract(fee, MONEY_CONTEXT.multiply(notional, rate))
                       ) < LEDGER_STEP
        reserved = funds.reservation_for(side="buy", remaining=quantity, reserve_price=price,
                                         maker_rate=maker, taker_rate=taker)
        assert reserved >= notional
        assert funds.reservation_for(side="sell", remaining=quantity, reserve_price=None,
                                     maker_rate=maker, taker_rate=taker) == quantity
        for side in ("buy", "sell"):
            bound = funds.protection_price(side=side, reference=price,
                                           slippage=order["slippage"], tick=tick)
            assert bound >= tick
            assert funds.to_units(bound, tick) >= 1
            assert (bound >= price) if side == "buy" else (bound <= price)

        engine = MatchingEngine()
        maker_lots = max(1, lots // split)
        engine.submit(OrderSpec("resting", "alice", Side.SELL, OrderType.LIMIT, maker_lots,
                                price=ticks), now=1)
        events = engine.submit(OrderSpec("taking", "bob", Side.BUY, OrderType.LIMIT, lots,
                                         price=ticks, tif=TimeInForce.IOC), now=2)
        [trade] = [event for event in events if isinstance(event, Trade)]
        trade_notional = funds.notional(funds.from_units(trade.price, tick),
                                        funds.from_units(trade.quantity, lot))
        assert trade.quantity == min(maker_lots, lots)
        funds.fee_for(trade_notional, maker)
        funds.fee_for(trade_notional, taker)
        funds.reservation_for(side="buy", remaining=funds.from_units(trade.taker_remaining, lot),
                              reserve_price=price, maker_rate=maker, taker_rate=taker)
