"""What a pipelined batch reads of a book (D10): only the accounts its takers could
touch (`MatchingEngine.counterparties`), not every account resting in it. A property test
runs random batches of submissions, amends and cancels on random books (limit, GTD and
stop orders, self-trade prevention) and checks that every account a batch's events touch
is either one of the batch's own or one the bound named; examples check that the bound
stays near the top of the book."""

from __future__ import annotations

from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.processing.domain.matching import (
    Cancelled,
    Event,
    MatchingEngine,
    OrderSpec,
    OrderType,
    Reach,
    Rejected,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)

ACCOUNTS = [f"a{n}" for n in range(12)]
accounts = st.sampled_from(ACCOUNTS)
sides = st.sampled_from(Side)
prices = st.integers(min_value=95, max_value=105)
quantities = st.integers(min_value=1, max_value=8)


@st.composite
def resting_order(draw: st.DrawFn, order_id: str) -> OrderSpec:
    kind = draw(st.sampled_from(["gtc", "gtd", "stop", "stop_limit"]))
    side, quantity, account = draw(sides), draw(quantities), draw(accounts)
    stp = draw(st.sampled_from(SelfTradePrevention))
    if kind == "gtc":
        return OrderSpec(order_id, account, side, OrderType.LIMIT, quantity, price=draw(prices),
                         stp=stp)
    if kind == "gtd":
        return OrderSpec(order_id, account, side, OrderType.LIMIT, quantity, price=draw(prices),
                         tif=TimeInForce.GTD, expires_at=draw(st.integers(1, 20)), stp=stp)
    return OrderSpec(order_id, account, side,
                     OrderType.STOP if kind == "stop" else OrderType.STOP_LIMIT, quantity,
                     price=None if kind == "stop" else draw(prices), stop_price=draw(prices),
                     stp=stp)


@st.composite
def incoming(draw: st.DrawFn, order_id: str) -> OrderSpec:
    # Few takers among many makers: a taker then often meets its own resting orders.
    side, quantity, account = draw(sides), draw(quantities), draw(st.sampled_from(ACCOUNTS[:2]))
    stp = draw(st.sampled_from(SelfTradePrevention))
    if draw(st.booleans()):
        return OrderSpec(order_id, account, side, OrderType.MARKET, quantity,
                         tif=TimeInForce.IOC, stp=stp)
    return OrderSpec(order_id, account, side, OrderType.LIMIT, quantity, price=draw(prices),
                     tif=draw(st.sampled_from([TimeInForce.GTC, TimeInForce.IOC,
                                               TimeInForce.FOK])), stp=stp)


def touched_accounts(events: list[Event], owner: dict[str, str]) -> set[str]:
    touched: set[str] = set()
    for event in events:
        if isinstance(event, Trade):
            touched |= {event.maker_account, event.taker_account}
        elif not isinstance(event, Rejected):
            touched.add(owner[event.order_id])
    return touched


@settings(max_examples=1000, deadline=None)
@given(st.data())
def test_a_batch_touches_only_its_own_accounts_and_those_the_bound_names(
        data: st.DataObject) -> None:
    engine, owner, ids = MatchingEngine(), {}, count()
    for _ in range(data.draw(st.integers(0, 60), label="book size")):
        spec = data.draw(resting_order(f"r{next(ids)}"))
        owner[spec.order_id] = spec.account
        engine.submit(spec, now=0)
    live = [order.order_id for order in engine.resting_orders()]
    # The batch: (kind, account, request), in event time order.
    batch: list[tuple[str, str, object, int]] = []
    now = 0
    for _ in range(data.draw(st.integers(1, 4), label="batch size")):
        now += data.draw(st.integers(0, 4))
        kind = data.draw(st.sampled_from(["submit", "amend", "cancel"] if live else ["submit"]))
        if kind == "submit":
            spec = data.draw(incoming(f"n{next(ids)}"))
            owner[spec.order_id] = spec.account
            batch.append((kind, spec.account, spec, now))
        else:
            order_id = data.draw(st.sampled_from(live))
            change = (data.draw(st.one_of(st.none(), prices)),
                      data.draw(st.one_of(st.none(), quantities)))
            batch.append((kind, owner[order_id], (order_id, change), now))

    lots, takers, leaving = {Side.BUY: 0, Side.SELL: 0}, {Side.BUY: set(), Side.SELL: set()}, set()
    for kind, account, request, _ in batch:
        if isinstance(request, OrderSpec):
            lots[request.side] += request.quantity
            takers[request.side].add(account)
            continue
        order_id, (_, new_quantity) = request  # type: ignore[misc]
        leaving.add(order_id)
        resting = engine.open_order(order_id)
        if kind == "amend" and resting is not None:
            lots[resting.side] += new_quantity or resting.remaining
            takers[resting.side].add(account)
    bound = engine.counterparties(Reach(
        buy_lots=lots[Side.BUY], sell_lots=lots[Side.SELL], buyers=frozenset(takers[Side.BUY]),
        sellers=frozenset(takers[Side.SELL]), leaving=frozenset(leaving)), expiring_by=now)

    own = {account for _, account, _, _ in batch}
    for kind, _, request, at in batch:
        if isinstance(request, OrderSpec):
            events = engine.submit(request, now=at)
        elif kind == "cancel":
            events = engine.cancel(request[0])  # type: ignore[index]
        else:
            order_id, (price, quantity) = request  # type: ignore[misc]
            events = engine.amend(order_id, new_price=price, new_quantity=quantity, now=at)
        assert touched_accounts(events, owner) <= bound | own, (kind, request, events)


def book_of(*orders: tuple[str, Side, int, int]) -> MatchingEngine:
    engine = MatchingEngine()
    for n, (account, side, price, quantity) in enumerate(orders):
        engine.submit(OrderSpec(f"o{n}", account, side, OrderType.LIMIT, quantity, price=price),
                      now=0)
    return engine


def reach(buy: int = 0, sell: int = 0, *, buyers: tuple[str, ...] = (),
          sellers: tuple[str, ...] = (), leaving: tuple[str, ...] = ()) -> Reach:
    return Reach(buy_lots=buy, sell_lots=sell, buyers=frozenset(buyers),
                 sellers=frozenset(sellers), leaving=frozenset(leaving))


def test_the_bound_walks_only_as_deep_as_the_takers_quantity() -> None:
    engine = book_of(("m1", Side.SELL, 101, 3), ("m2", Side.SELL, 102, 3),
                     ("m3", Side.SELL, 103, 3), ("b1", Side.BUY, 99, 5))
    assert engine.counterparties(reach(buy=4), expiring_by=0) == {"m1", "m2"}
    assert engine.counterparties(reach(sell=5), expiring_by=0) == {"b1"}
    assert engine.counterparties(reach(), expiring_by=0) == set()


def test_orders_a_taker_may_pass_do_not_count_toward_its_reach() -> None:
    """The taker's own (self-trade prevention) and an order the batch cancels."""
    engine = book_of(("t", Side.SELL, 101, 3), ("m1", Side.SELL, 101, 3),
                     ("m2", Side.SELL, 102, 3), ("m3", Side.SELL, 103, 3))
    assert engine.counterparties(reach(buy=3, buyers=("t",), leaving=("o1",)),
                                 expiring_by=0) == {"t", "m1", "m2"}


def test_a_stop_the_batch_can_trigger_is_named_and_takes_in_turn() -> None:
    engine = book_of(("m1", Side.SELL, 101, 3), ("m2", Side.SELL, 102, 3),
                     ("m3", Side.SELL, 110, 3))
    engine.submit(OrderSpec("s", "stopper", Side.BUY, OrderType.STOP, 3, stop_price=101), now=0)
    engine.submit(OrderSpec("far", "far", Side.BUY, OrderType.STOP, 3, stop_price=120), now=0)
    # 3 lots reach m1 at 101, which triggers the stop; its 3 lots reach m2 at 102.
    assert engine.counterparties(reach(buy=3), expiring_by=0) == {"m1", "stopper", "m2"}
    assert engine.counterparties(reach(), expiring_by=0) == set()


def test_a_side_walked_to_its_end_may_trade_at_any_price() -> None:
    """The takers may then meet orders the batch itself rests beyond the book."""
    engine = book_of(("m1", Side.SELL, 101, 3))
    engine.submit(OrderSpec("far", "far", Side.BUY, OrderType.STOP, 3, stop_price=500), now=0)
    assert engine.counterparties(reach(buy=4), expiring_by=0) == {"m1", "far"}


def test_orders_due_to_expire_are_named() -> None:
    engine = book_of(("m1", Side.SELL, 101, 3))
    engine.submit(OrderSpec("g", "gtd", Side.BUY, OrderType.LIMIT, 1, price=90,
                            tif=TimeInForce.GTD, expires_at=5), now=0)
    assert engine.counterparties(reach(), expiring_by=4) == set()
    assert engine.counterparties(reach(), expiring_by=5) == {"gtd"}
    assert [type(e) for e in engine.expire(5)] == [Cancelled]
