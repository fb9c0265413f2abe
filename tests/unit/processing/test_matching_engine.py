"""Example-based tests of the matching engine: one scenario per rule, asserting the exact
event lists a caller would persist and publish."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apps.processing.domain.matching import (
    Accepted,
    Amended,
    Cancelled,
    Event,
    MatchingEngine,
    OrderSpec,
    OrderType,
    Rejected,
    Rested,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
    Triggered,
)

BUY, SELL = Side.BUY, Side.SELL
STP = SelfTradePrevention


def limit(
    order_id: str,
    side: Side,
    quantity: int,
    price: int,
    *,
    account: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    post_only: bool = False,
    stp: SelfTradePrevention = STP.CANCEL_RESTING,
    expires_at: int | None = None,
) -> OrderSpec:
    return OrderSpec(
        order_id,
        account or f"acct-{order_id}",
        side,
        OrderType.LIMIT,
        quantity,
        price=price,
        tif=tif,
        post_only=post_only,
        stp=stp,
        expires_at=expires_at,
    )


def market(
    order_id: str,
    side: Side,
    quantity: int,
    *,
    account: str | None = None,
    tif: TimeInForce = TimeInForce.IOC,
) -> OrderSpec:
    return OrderSpec(
        order_id, account or f"acct-{order_id}", side, OrderType.MARKET, quantity, tif=tif
    )


def stop(
    order_id: str, side: Side, quantity: int, stop_price: int, price: int | None = None
) -> OrderSpec:
    order_type = OrderType.STOP if price is None else OrderType.STOP_LIMIT
    return OrderSpec(
        order_id, f"acct-{order_id}", side, order_type, quantity, price=price, stop_price=stop_price
    )


def trade(
    maker: str,
    taker: str,
    taker_side: Side,
    price: int,
    quantity: int,
    maker_rem: int,
    taker_rem: int,
) -> Trade:
    return Trade(
        maker,
        taker,
        f"acct-{maker}",
        f"acct-{taker}",
        taker_side,
        price,
        quantity,
        maker_rem,
        taker_rem,
    )


def book_with(*specs: OrderSpec) -> MatchingEngine:
    engine = MatchingEngine()
    for now, spec in enumerate(specs):
        events = engine.submit(spec, now=now)
        assert isinstance(events[-1], Rested), events
    return engine


def fifo(engine: MatchingEngine) -> list[tuple[str, int | None, int]]:
    return [(o.order_id, o.price, o.remaining) for o in engine.resting_orders()]


# ------------------------------------------------------------------------------ limit orders


def test_limit_order_rests_and_shows_in_depth() -> None:
    engine = MatchingEngine()
    assert engine.submit(limit("b1", BUY, 5, 100), now=1) == [Accepted("b1"), Rested("b1", 100, 5)]
    engine.submit(limit("b2", BUY, 3, 100), now=2)
    engine.submit(limit("b3", BUY, 2, 99), now=3)
    engine.submit(limit("s1", SELL, 4, 102), now=4)
    assert engine.best_bid() == 100
    assert engine.best_ask() == 102
    assert engine.depth(5) == ([(100, 8, 2), (99, 2, 1)], [(102, 4, 1)])
    assert engine.depth(1) == ([(100, 8, 2)], [(102, 4, 1)])
    assert engine.last_trade_price is None


def test_fifo_within_a_price_level() -> None:
    engine = book_with(limit("s1", SELL, 3, 100), limit("s2", SELL, 3, 100))
    assert engine.submit(limit("b", BUY, 4, 100), now=9) == [
        Accepted("b"),
        trade("s1", "b", BUY, 100, 3, 0, 1),
        trade("s2", "b", BUY, 100, 1, 2, 0),
    ]
    assert fifo(engine) == [("s2", 100, 2)]
    assert engine.last_trade_price == 100


def test_better_price_first_and_trade_at_maker_price() -> None:
    engine = book_with(limit("s101", SELL, 2, 101), limit("s100", SELL, 2, 100))
    events = engine.submit(limit("b", BUY, 3, 105), now=9)
    assert events == [
        Accepted("b"),
        trade("s100", "b", BUY, 100, 2, 0, 1),
        trade("s101", "b", BUY, 101, 1, 1, 0),
    ]


def test_partial_fill_rests_the_taker_remainder() -> None:
    engine = book_with(limit("b1", BUY, 2, 100))
    assert engine.submit(limit("s", SELL, 5, 99), now=9) == [
        Accepted("s"),
        trade("b1", "s", SELL, 100, 2, 0, 3),
        Rested("s", 99, 3),
    ]
    assert engine.depth(5) == ([], [(99, 3, 1)])


def test_limit_does_not_trade_through_its_price() -> None:
    engine = book_with(limit("s1", SELL, 2, 100), limit("s2", SELL, 2, 102))
    events = engine.submit(limit("b", BUY, 5, 101), now=9)
    assert events == [Accepted("b"), trade("s1", "b", BUY, 100, 2, 0, 3), Rested("b", 101, 3)]
    assert engine.best_bid() == 101
    assert engine.best_ask() == 102


# ------------------------------------------------------------------------------ IOC / FOK


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    engine = book_with(limit("s1", SELL, 2, 100))
    assert engine.submit(limit("b", BUY, 5, 100, tif=TimeInForce.IOC), now=9) == [
        Accepted("b"),
        trade("s1", "b", BUY, 100, 2, 0, 3),
        Cancelled("b", 3, "ioc_remainder"),
    ]
    assert engine.depth(5) == ([], [])


def test_ioc_without_cross_is_cancelled_whole() -> None:
    engine = book_with(limit("s1", SELL, 2, 101))
    assert engine.submit(limit("b", BUY, 5, 100, tif=TimeInForce.IOC), now=9) == [
        Accepted("b"),
        Cancelled("b", 5, "ioc_remainder"),
    ]


def test_fok_unfillable_is_cancelled_without_any_trade() -> None:
    engine = book_with(
        limit("s1", SELL, 2, 100), limit("s2", SELL, 2, 101), limit("s3", SELL, 9, 102)
    )
    before = fifo(engine)
    events = engine.submit(limit("b", BUY, 5, 101, tif=TimeInForce.FOK), now=9)
    assert events == [Accepted("b"), Cancelled("b", 5, "fok_unfillable")]
    assert fifo(engine) == before
    assert engine.last_trade_price is None


def test_fok_fillable_fills_completely_across_levels() -> None:
    engine = book_with(limit("s1", SELL, 2, 100), limit("s2", SELL, 4, 101))
    assert engine.submit(limit("b", BUY, 5, 101, tif=TimeInForce.FOK), now=9) == [
        Accepted("b"),
        trade("s1", "b", BUY, 100, 2, 0, 3),
        trade("s2", "b", BUY, 101, 3, 1, 0),
    ]


def test_fok_does_not_count_own_orders_that_stp_would_cancel() -> None:
    engine = book_with(
        limit("own", SELL, 4, 100, account="me"), limit("other", SELL, 2, 100, account="x")
    )
    events = engine.submit(limit("b", BUY, 5, 100, account="me", tif=TimeInForce.FOK), now=9)
    assert events == [Accepted("b"), Cancelled("b", 5, "fok_unfillable")]
    # Nothing happened, not even the self-trade cancel.
    assert [o.order_id for o in engine.resting_orders()] == ["own", "other"]


def test_fok_with_cancel_incoming_stops_counting_at_own_order() -> None:
    engine = book_with(
        limit("x1", SELL, 2, 100, account="x"),
        limit("own", SELL, 4, 100, account="me"),
        limit("x2", SELL, 9, 100, account="x"),
    )
    spec = limit("b", BUY, 3, 100, account="me", tif=TimeInForce.FOK, stp=STP.CANCEL_INCOMING)
    assert engine.submit(spec, now=9) == [Accepted("b"), Cancelled("b", 3, "fok_unfillable")]
    spec = limit("b2", BUY, 2, 100, account="me", tif=TimeInForce.FOK, stp=STP.CANCEL_INCOMING)
    events = engine.submit(spec, now=10)
    assert [type(e) for e in events] == [Accepted, Trade]


def test_fok_counts_own_orders_when_self_trade_is_allowed() -> None:
    engine = book_with(limit("own", SELL, 4, 100, account="me"))
    spec = limit("b", BUY, 4, 100, account="me", tif=TimeInForce.FOK, stp=STP.NONE)
    events = engine.submit(spec, now=9)
    assert events[1] == Trade("own", "b", "me", "me", BUY, 100, 4, 0, 0)


# ------------------------------------------------------------------------------ market orders


def test_market_order_sweeps_levels_and_cancels_the_remainder() -> None:
    engine = book_with(limit("b1", BUY, 2, 100), limit("b2", BUY, 2, 98))
    assert engine.submit(market("m", SELL, 10), now=9) == [
        Accepted("m"),
        trade("b1", "m", SELL, 100, 2, 0, 8),
        trade("b2", "m", SELL, 98, 2, 0, 6),
        Cancelled("m", 6, "market_remainder"),
    ]
    assert engine.depth(5) == ([], [])
    assert engine.last_trade_price == 98


def test_market_order_on_empty_book_is_cancelled() -> None:
    engine = MatchingEngine()
    assert engine.submit(market("m", BUY, 3), now=1) == [
        Accepted("m"),
        Cancelled("m", 3, "market_remainder"),
    ]


def test_market_fok_is_all_or_nothing() -> None:
    engine = book_with(limit("s1", SELL, 2, 100))
    events = engine.submit(market("m", BUY, 3, tif=TimeInForce.FOK), now=9)
    assert events == [Accepted("m"), Cancelled("m", 3, "fok_unfillable")]


# ------------------------------------------------------------------------------ post-only


def test_post_only_that_would_take_is_rejected_and_changes_nothing() -> None:
    engine = book_with(limit("s1", SELL, 2, 100))
    events = engine.submit(limit("b", BUY, 1, 100, post_only=True), now=9)
    assert events == [Rejected("b", "post_only_would_take")]
    assert fifo(engine) == [("s1", 100, 2)]
    assert engine.open_order("b") is None


def test_post_only_that_does_not_cross_rests() -> None:
    engine = book_with(limit("s1", SELL, 2, 100))
    events = engine.submit(limit("b", BUY, 1, 99, post_only=True), now=9)
    assert events == [Accepted("b"), Rested("b", 99, 1)]


# ------------------------------------------------------------------------------ self-trade


def test_stp_cancel_resting_cancels_own_order_and_keeps_matching() -> None:
    engine = book_with(
        limit("own", SELL, 2, 100, account="me"), limit("other", SELL, 2, 100, account="x")
    )
    events = engine.submit(limit("b", BUY, 3, 100, account="me"), now=9)
    assert events == [
        Accepted("b"),
        Cancelled("own", 2, "self_trade_prevention"),
        Trade("other", "b", "x", "me", BUY, 100, 2, 0, 1),
        Rested("b", 100, 1),
    ]


def test_stp_cancel_incoming_keeps_earlier_fills_and_the_resting_order() -> None:
    engine = book_with(
        limit("other", SELL, 1, 100, account="x"), limit("own", SELL, 2, 101, account="me")
    )
    spec = limit("b", BUY, 3, 101, account="me", stp=STP.CANCEL_INCOMING)
    assert engine.submit(spec, now=9) == [
        Accepted("b"),
        Trade("other", "b", "x", "me", BUY, 100, 1, 0, 2),
        Cancelled("b", 2, "self_trade_prevention"),
    ]
    assert fifo(engine) == [("own", 101, 2)]


def test_stp_cancel_both() -> None:
    engine = book_with(limit("own", SELL, 2, 100, account="me"))
    spec = limit("b", BUY, 3, 100, account="me", stp=STP.CANCEL_BOTH)
    assert engine.submit(spec, now=9) == [
        Accepted("b"),
        Cancelled("own", 2, "self_trade_prevention"),
        Cancelled("b", 3, "self_trade_prevention"),
    ]
    assert engine.depth(5) == ([], [])


def test_stp_none_allows_self_trade() -> None:
    engine = book_with(limit("own", SELL, 2, 100, account="me"))
    events = engine.submit(limit("b", BUY, 2, 100, account="me", stp=STP.NONE), now=9)
    assert events == [Accepted("b"), Trade("own", "b", "me", "me", BUY, 100, 2, 0, 0)]


# ------------------------------------------------------------------------------ stops


def test_buy_stop_waits_then_triggers_after_the_trade_that_reaches_it() -> None:
    engine = book_with(limit("s1", SELL, 1, 100), limit("s2", SELL, 5, 101))
    assert engine.submit(stop("st", BUY, 2, 101), now=5) == [Accepted("st")]
    engine.submit(limit("b1", BUY, 1, 100), now=6)  # prints 100: below the stop
    assert engine.open_order("st") is not None
    assert engine.submit(limit("b2", BUY, 1, 101), now=7) == [
        Accepted("b2"),
        trade("s2", "b2", BUY, 101, 1, 4, 0),
        Triggered("st", 101),
        trade("s2", "st", BUY, 101, 2, 2, 0),
    ]
    assert engine.open_order("st") is None


def test_sell_stop_limit_becomes_a_resting_limit() -> None:
    engine = book_with(limit("b1", BUY, 1, 100), limit("b2", BUY, 1, 95))
    engine.submit(stop("st", SELL, 3, 99, price=97), now=5)
    assert engine.submit(limit("s", SELL, 2, 95), now=6) == [
        Accepted("s"),
        trade("b1", "s", SELL, 100, 1, 0, 1),
        trade("b2", "s", SELL, 95, 1, 0, 0),
        Triggered("st", 95),
        Rested("st", 97, 3),
    ]
    resting = engine.open_order("st")
    assert resting is not None
    assert resting.order_type is OrderType.LIMIT
    assert resting.stop_price is None


def test_stop_cascade_is_processed_in_order() -> None:
    engine = book_with(
        limit("s1", SELL, 1, 100), limit("s2", SELL, 1, 102), limit("s3", SELL, 1, 104)
    )
    engine.submit(stop("st1", BUY, 1, 100), now=5)  # fired by b's print at 100
    engine.submit(stop("st2", BUY, 1, 102), now=6)  # fired by st1's print at 102
    engine.submit(stop("st3", BUY, 1, 104), now=7)  # fired by st2's print at 104
    assert engine.submit(limit("b", BUY, 1, 100), now=8) == [
        Accepted("b"),
        trade("s1", "b", BUY, 100, 1, 0, 0),
        Triggered("st1", 100),
        trade("s2", "st1", BUY, 102, 1, 0, 0),
        Triggered("st2", 102),
        trade("s3", "st2", BUY, 104, 1, 0, 0),
        Triggered("st3", 104),
        Cancelled("st3", 1, "market_remainder"),
    ]
    assert engine.pending_stops() == []


def test_sell_stop_fires_on_the_low_of_a_buy_sweep() -> None:
    engine = book_with(
        limit("s1", SELL, 1, 99), limit("s2", SELL, 1, 103), limit("bid", BUY, 1, 90)
    )
    engine.submit(stop("st", SELL, 1, 99), now=4)
    # The sweep prints 99 (reaching the sell stop) and then 103.
    events = engine.submit(limit("b", BUY, 2, 103), now=5)
    assert events[-2:] == [Triggered("st", 99), trade("bid", "st", SELL, 90, 1, 0, 0)]


def test_stop_already_reached_on_arrival_triggers_at_once() -> None:
    engine = book_with(limit("s1", SELL, 1, 100), limit("s2", SELL, 3, 101))
    engine.submit(limit("b", BUY, 1, 100), now=3)
    assert engine.submit(stop("st", BUY, 2, 99), now=4) == [
        Accepted("st"),
        Triggered("st", 100),
        trade("s2", "st", BUY, 101, 2, 1, 0),
    ]


def test_last_trade_price_can_be_restored() -> None:
    engine = MatchingEngine(last_trade_price=100)
    assert engine.submit(stop("st", SELL, 1, 100), now=1) == [
        Accepted("st"),
        Triggered("st", 100),
        Cancelled("st", 1, "market_remainder"),
    ]


def test_cancelled_stops_never_fire() -> None:
    engine = book_with(limit("s1", SELL, 1, 100))
    for i in range(200):  # enough to compact the trigger heap
        engine.submit(stop(f"st{i}", BUY, 1, 100), now=2)
        assert engine.cancel(f"st{i}") == [Cancelled(f"st{i}", 1, "user")]
    engine.submit(stop("keep", BUY, 1, 100), now=3)
    events = engine.submit(limit("b", BUY, 1, 100), now=4)
    assert [e.order_id for e in events if isinstance(e, Triggered)] == ["keep"]


# ------------------------------------------------------------------------------ cancel


def test_cancel_resting_order() -> None:
    engine = book_with(limit("b1", BUY, 2, 100), limit("b2", BUY, 2, 100))
    assert engine.cancel("b1") == [Cancelled("b1", 2, "user")]
    assert fifo(engine) == [("b2", 100, 2)]
    assert engine.cancel("b2", reason="risk") == [Cancelled("b2", 2, "risk")]
    assert engine.depth(5) == ([], [])


def test_cancel_unknown_or_finished_order_is_rejected() -> None:
    engine = book_with(limit("s1", SELL, 1, 100))
    engine.submit(limit("b", BUY, 1, 100), now=9)
    assert engine.cancel("s1") == [Rejected("s1", "unknown_order")]
    assert engine.cancel("nope") == [Rejected("nope", "unknown_order")]


# ------------------------------------------------------------------------------ amend


def test_amend_quantity_down_keeps_priority() -> None:
    engine = book_with(limit("b1", BUY, 5, 100), limit("b2", BUY, 5, 100))
    assert engine.amend("b1", new_quantity=2, now=9) == [Amended("b1", 100, 2, True)]
    assert fifo(engine) == [("b1", 100, 2), ("b2", 100, 5)]
    assert engine.depth(1) == ([(100, 7, 2)], [])


@pytest.mark.parametrize(
    ("new_price", "new_quantity", "expected"),
    [(None, 6, ("b1", 100, 6)), (101, None, ("b1", 101, 5)), (99, None, ("b1", 99, 5))],
)
def test_amend_price_change_or_quantity_up_loses_priority(
    new_price: int | None, new_quantity: int | None, expected: tuple[str, int, int]
) -> None:
    engine = book_with(limit("b1", BUY, 5, 100), limit("b2", BUY, 5, 100), limit("b3", BUY, 5, 101))
    events = engine.amend("b1", new_price=new_price, new_quantity=new_quantity, now=9)
    _, price, quantity = expected
    assert events == [Amended("b1", price, quantity, False), Rested("b1", price, quantity)]
    order = engine.open_order("b1")
    assert order is not None
    assert order.timestamp == 9
    same_level = [o.order_id for o in engine.resting_orders() if o.price == price]
    assert same_level[-1] == "b1"  # behind everyone already at that price


def test_amend_that_crosses_matches_like_a_new_order() -> None:
    engine = book_with(limit("s1", SELL, 2, 101), limit("b1", BUY, 5, 100))
    assert engine.amend("b1", new_price=101, now=9) == [
        Amended("b1", 101, 5, False),
        trade("s1", "b1", BUY, 101, 2, 0, 3),
        Rested("b1", 101, 3),
    ]


def test_post_only_amend_that_would_cross_is_rejected_and_order_unchanged() -> None:
    engine = book_with(limit("s1", SELL, 2, 101), limit("b1", BUY, 5, 100, post_only=True))
    assert engine.amend("b1", new_price=101, now=9) == [Rejected("b1", "post_only_would_take")]
    assert fifo(engine) == [("b1", 100, 5), ("s1", 101, 2)]


@pytest.mark.parametrize(
    ("order_id", "kwargs", "reason"),
    [
        ("nope", {"new_quantity": 1}, "unknown_order"),
        ("b1", {"new_quantity": 0}, "invalid_amend"),
        ("b1", {"new_price": 0}, "invalid_amend"),
        ("st", {"new_quantity": 1}, "invalid_amend"),
    ],
)
def test_invalid_amends_are_rejected(order_id: str, kwargs: dict[str, int], reason: str) -> None:
    engine = book_with(limit("b1", BUY, 5, 100))
    engine.submit(stop("st", BUY, 1, 200), now=5)
    assert engine.amend(order_id, now=9, **kwargs) == [Rejected(order_id, reason)]
    assert fifo(engine) == [("b1", 100, 5)]


# ------------------------------------------------------------------------------ GTD


def test_expire_cancels_due_gtd_orders_only() -> None:
    gtd = TimeInForce.GTD
    engine = book_with(
        limit("b1", BUY, 1, 100, tif=gtd, expires_at=50),
        limit("b2", BUY, 1, 99, tif=gtd, expires_at=60),
        limit("b3", BUY, 1, 98),
    )
    assert engine.expire(49) == []
    assert engine.expire(50) == [Cancelled("b1", 1, "expired")]
    assert engine.expire(100) == [Cancelled("b2", 1, "expired")]
    assert fifo(engine) == [("b3", 98, 1)]


def test_expired_order_never_trades_even_before_expire_is_called() -> None:
    engine = book_with(limit("s1", SELL, 1, 100, tif=TimeInForce.GTD, expires_at=50))
    assert engine.submit(limit("b", BUY, 1, 100), now=50) == [
        Cancelled("s1", 1, "expired"),
        Accepted("b"),
        Rested("b", 100, 1),
    ]


def test_gtd_already_expired_is_rejected() -> None:
    engine = MatchingEngine()
    spec = limit("b", BUY, 1, 100, tif=TimeInForce.GTD, expires_at=10)
    assert engine.submit(spec, now=10) == [Rejected("b", "already_expired")]


def test_pending_gtd_stop_expires() -> None:
    engine = MatchingEngine()
    spec = OrderSpec(
        "st", "a", BUY, OrderType.STOP, 1, stop_price=100, tif=TimeInForce.GTD, expires_at=10
    )
    engine.submit(spec, now=1)
    assert engine.expire(10) == [Cancelled("st", 1, "expired")]
    assert engine.pending_stops() == []


# ------------------------------------------------------------------------------ validation


def test_duplicate_live_order_id_is_rejected() -> None:
    engine = book_with(limit("b1", BUY, 1, 100))
    assert engine.submit(limit("b1", BUY, 1, 99), now=9) == [Rejected("b1", "duplicate_order_id")]
    assert fifo(engine) == [("b1", 100, 1)]


@pytest.mark.parametrize(
    "spec",
    [
        OrderSpec("x", "a", BUY, OrderType.LIMIT, 1),
        OrderSpec("x", "a", BUY, OrderType.LIMIT, 0, price=100),
        OrderSpec("x", "a", BUY, OrderType.MARKET, 1, price=100),
        OrderSpec("x", "a", BUY, OrderType.STOP, 1),
        OrderSpec("x", "a", BUY, OrderType.STOP_LIMIT, 1, stop_price=100),
        OrderSpec("x", "a", BUY, OrderType.LIMIT, 1, price=100, stop_price=100),
        OrderSpec("x", "a", BUY, OrderType.LIMIT, 1, price=100, tif=TimeInForce.GTD),
        OrderSpec("x", "a", BUY, OrderType.LIMIT, 1, price=100, expires_at=5),
        OrderSpec(
            "x", "a", BUY, OrderType.LIMIT, 1, price=100, tif=TimeInForce.IOC, post_only=True
        ),
        OrderSpec("x", "a", BUY, OrderType.MARKET, 1, post_only=True),
    ],
)
def test_malformed_specs_are_rejected(spec: OrderSpec) -> None:
    assert MatchingEngine().submit(spec, now=1) == [Rejected("x", "invalid_order")]


# ------------------------------------------------------------------------------ snapshots


def test_resting_orders_rebuild_an_identical_book() -> None:
    engine = book_with(
        limit("b1", BUY, 5, 100),
        limit("b2", BUY, 3, 101),
        limit("b3", BUY, 2, 100, tif=TimeInForce.GTD, expires_at=1_000),
        limit("s1", SELL, 4, 103, post_only=True),
        limit("s2", SELL, 1, 102),
    )
    engine.submit(stop("st", SELL, 2, 90), now=20)
    engine.amend("b1", new_quantity=4, now=21)
    rebuilt = MatchingEngine(last_trade_price=engine.last_trade_price)
    events: list[Event] = []
    for now, order in enumerate([*engine.resting_orders(), *engine.pending_stops()]):
        events += rebuilt.submit(order.to_spec(), now=now)
    assert not any(isinstance(e, Trade | Rejected) for e in events)
    assert fifo(rebuilt) == fifo(engine)
    assert rebuilt.depth(10) == engine.depth(10)
    assert [o.order_id for o in rebuilt.pending_stops()] == ["st"]
    original, copy = engine.open_order("b3"), rebuilt.open_order("b3")
    assert original is not None
    assert copy is not None
    assert replace(copy, sequence=original.sequence, timestamp=original.timestamp) == original
