"""Stateful property test of the matching engine: Hypothesis drives random sequences of
limit (GTC/IOC/FOK/GTD, post-only), market and stop orders, cancels, amends and expiry, while
a model rebuilt only from the emitted events checks, after every step, that the book is never
crossed, that every order's lots are conserved, that time priority holds, that each taker hit
makers strictly in price-time order, and that every trade respects both orders' limits."""

from __future__ import annotations

from collections import defaultdict
from itertools import count

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from apps.processing.domain.matching import (
    Accepted,
    Amended,
    Cancelled,
    Event,
    MatchingEngine,
    OpenOrder,
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

sides = st.sampled_from(Side)
prices = st.integers(min_value=95, max_value=105)
quantities = st.integers(min_value=1, max_value=8)
accounts = st.sampled_from(["alice", "bob", "carol"])
stp_modes = st.sampled_from(SelfTradePrevention)


class MatchingMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.engine = MatchingEngine()
        self.now = 0
        self.ids = count()
        self.stamps = count()
        self.specs: dict[str, OrderSpec] = {}
        self.quantity: dict[str, int] = {}  # submitted lots, adjusted by amends
        self.filled: defaultdict[str, int] = defaultdict(int)
        self.cancelled: defaultdict[str, int] = defaultdict(int)
        self.limit: dict[str, int | None] = {}  # current limit price, None for market
        self.stamp: dict[str, int] = {}  # expected time priority

    # ------------------------------------------------------------------------------ rules

    @rule(
        target=orders,
        side=sides,
        price=prices,
        quantity=quantities,
        tif=st.sampled_from(
            [TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD]
        ),
        post_only=st.booleans(),
        account=accounts,
        stp=stp_modes,
        lifetime=st.integers(min_value=1, max_value=15),
    )
    def add_limit(
        self,
        side: Side,
        price: int,
        quantity: int,
        tif: TimeInForce,
        post_only: bool,
        account: str,
        stp: SelfTradePrevention,
        lifetime: int,
    ) -> str:
        spec = OrderSpec(
            f"L{next(self.ids)}",
            account,
            side,
            OrderType.LIMIT,
            quantity,
            price=price,
            tif=tif,
            post_only=post_only and tif in (TimeInForce.GTC, TimeInForce.GTD),
            stp=stp,
            expires_at=self.now + 1 + lifetime if tif is TimeInForce.GTD else None,
        )
        return self._submit(spec)

    @rule(
        target=orders,
        side=sides,
        quantity=st.integers(min_value=1, max_value=20),
        fok=st.booleans(),
        account=accounts,
        stp=stp_modes,
    )
    def add_market(
        self, side: Side, quantity: int, fok: bool, account: str, stp: SelfTradePrevention
    ) -> str:
        tif = TimeInForce.FOK if fok else TimeInForce.IOC
        spec = OrderSpec(
            f"M{next(self.ids)}", account, side, OrderType.MARKET, quantity, tif=tif, stp=stp
        )
        return self._submit(spec)

    @rule(
        target=orders,
        side=sides,
        stop_price=prices,
        price=st.none() | prices,
        quantity=quantities,
        account=accounts,
        stp=stp_modes,
    )
    def add_stop(
        self,
        side: Side,
        stop_price: int,
        price: int | None,
        quantity: int,
        account: str,
        stp: SelfTradePrevention,
    ) -> str:
        order_type = OrderType.STOP if price is None else OrderType.STOP_LIMIT
        spec = OrderSpec(
            f"S{next(self.ids)}",
            account,
            side,
            order_type,
            quantity,
            price=price,
            stop_price=stop_price,
            stp=stp,
        )
        return self._submit(spec)

    @rule(order_id=orders)
    def cancel(self, order_id: str) -> None:
        live = self.engine.open_order(order_id) is not None
        events = self.engine.cancel(order_id)
        if live:
            assert events == [Cancelled(order_id, self._open(order_id), "user")]
        else:
            assert events == [Rejected(order_id, "unknown_order")]
        self._apply(events)

    @rule(order_id=orders, new_price=st.none() | prices, new_quantity=st.none() | quantities)
    def amend(self, order_id: str, new_price: int | None, new_quantity: int | None) -> None:
        self.now += 1
        before = list(self.engine.resting_orders())
        events = self.engine.amend(
            order_id, new_price=new_price, new_quantity=new_quantity, now=self.now
        )
        self._apply(events)
        amended = [e for e in events if isinstance(e, Amended)]
        if amended and not amended[0].priority_kept:
            self._check_taker(order_id, events, before)

    @rule(elapsed=st.integers(min_value=0, max_value=10))
    def expire(self, elapsed: int) -> None:
        self.now += elapsed
        events = self.engine.expire(self.now)
        assert all(isinstance(e, Cancelled) and e.reason == "expired" for e in events)
        self._apply(events)

    # ------------------------------------------------------------------------- invariants

    @invariant()
    def book_is_not_crossed(self) -> None:
        bid, ask = self.engine.best_bid(), self.engine.best_ask()
        if bid is not None and ask is not None:
            assert bid < ask

    @invariant()
    def lots_are_conserved_per_order(self) -> None:
        for order_id, quantity in self.quantity.items():
            snapshot = self.engine.open_order(order_id)
            open_lots = 0 if snapshot is None else snapshot.remaining
            assert quantity == self.filled[order_id] + self.cancelled[order_id] + open_lots
            assert open_lots >= 0

    @invariant()
    def levels_are_price_ordered_fifo_and_never_empty(self) -> None:
        resting = list(self.engine.resting_orders())
        for side in Side:
            orders = [o for o in resting if o.side is side]
            levels: dict[int, list[OpenOrder]] = {}
            for order in orders:
                assert order.price is not None
                levels.setdefault(order.price, []).append(order)
            level_prices = list(levels)
            assert level_prices == sorted(level_prices, reverse=side is Side.BUY)
            for level in levels.values():
                stamps = [self.stamp[o.order_id] for o in level]
                assert stamps == sorted(stamps)
            expected = [(p, sum(o.remaining for o in lv), len(lv)) for p, lv in levels.items()]
            assert all(total > 0 for _, total, _ in expected)
            bids, asks = self.engine.depth(1_000)
            assert (bids if side is Side.BUY else asks) == expected

    @invariant()
    def no_pending_stop_is_already_reached(self) -> None:
        last = self.engine.last_trade_price
        for order in self.engine.pending_stops():
            assert order.stop_price is not None
            if last is not None:
                assert (
                    last < order.stop_price if order.side is Side.BUY else last > order.stop_price
                )

    # ---------------------------------------------------------------------------- helpers

    def _open(self, order_id: str) -> int:
        return self.quantity[order_id] - self.filled[order_id] - self.cancelled[order_id]

    def _submit(self, spec: OrderSpec) -> str:
        self.now += 1
        before = list(self.engine.resting_orders())
        events = self.engine.submit(spec, now=self.now)
        self.specs[spec.order_id] = spec
        self._apply(events)
        if events and isinstance(events[-1], Rejected) and events[-1].order_id == spec.order_id:
            assert events[-1].reason == "post_only_would_take"
            assert spec.post_only
            assert self._crossing(spec, before)
        elif spec.order_type in (OrderType.LIMIT, OrderType.MARKET):
            self._check_taker(spec.order_id, events, before)
        return spec.order_id

    def _crossing(self, spec: OrderSpec, book: list[OpenOrder]) -> list[OpenOrder]:
        """Opposite orders ``spec`` may trade with, in the order it must meet them."""
        opposite = [o for o in book if o.side is not spec.side]
        limit = self.limit.get(spec.order_id, spec.price)
        if limit is None:
            return opposite
        buy = spec.side is Side.BUY
        return [
            o
            for o in opposite
            if o.price is not None and (o.price <= limit if buy else o.price >= limit)
        ]

    def _check_taker(self, taker_id: str, events: list[Event], before: list[OpenOrder]) -> None:
        """The taker's own part of the events (up to any stop trigger) obeys price-time order."""
        spec = self.specs[taker_id]
        expired = {e.order_id for e in events if isinstance(e, Cancelled) and e.reason == "expired"}
        crossing = [o for o in self._crossing(spec, before) if o.order_id not in expired]
        own: list[Event] = []
        for event in events:
            if isinstance(event, Triggered):
                break
            own.append(event)
        touched = [
            e.maker_order_id if isinstance(e, Trade) else e.order_id
            for e in own
            if (isinstance(e, Trade) and e.taker_order_id == taker_id)
            or (
                isinstance(e, Cancelled)
                and e.order_id != taker_id
                and e.reason == "self_trade_prevention"
            )
        ]
        assert touched == [o.order_id for o in crossing[: len(touched)]]
        finished = {
            e.maker_order_id for e in own if isinstance(e, Trade) and e.maker_remaining == 0
        } | {e.order_id for e in own if isinstance(e, Cancelled)}
        assert all(order_id in finished for order_id in touched[:-1])

        outcome = [e for e in own if isinstance(e, Cancelled) and e.order_id == taker_id]
        if spec.tif is TimeInForce.FOK:
            fillable = self._fok_fillable(spec, crossing)
            assert (
                outcome == [Cancelled(taker_id, spec.quantity, "fok_unfillable")]
            ) is not fillable
        remainder = outcome and outcome[0].reason in ("ioc_remainder", "market_remainder")
        if remainder and len(own) == len(events):  # no stop fired and rested since
            after = list(self.engine.resting_orders())
            assert self._crossing(spec, after) == []
        if spec.post_only:
            assert not any(isinstance(e, Trade) and e.taker_order_id == taker_id for e in own)

    @staticmethod
    def _fok_fillable(spec: OrderSpec, crossing: list[OpenOrder]) -> bool:
        available = 0
        for order in crossing:
            if order.account == spec.account and spec.stp is not SelfTradePrevention.NONE:
                if spec.stp is SelfTradePrevention.CANCEL_RESTING:
                    continue
                break
            available += order.remaining
        return available >= spec.quantity

    def _apply(self, events: list[Event]) -> None:
        """Update the model from the events, checking each against it."""
        for event in events:
            if isinstance(event, Accepted):
                spec = self.specs[event.order_id]
                assert event.order_id not in self.quantity
                self.quantity[event.order_id] = spec.quantity
                self.limit[event.order_id] = spec.price
                self.stamp[event.order_id] = next(self.stamps)
            elif isinstance(event, Rested):
                assert event.remaining == self._open(event.order_id) > 0
                assert event.price == self.limit[event.order_id]
            elif isinstance(event, Trade):
                self._check_trade(event)
            elif isinstance(event, Cancelled):
                assert 0 < event.remaining == self._open(event.order_id)
                self.cancelled[event.order_id] += event.remaining
            elif isinstance(event, Triggered):
                spec = self.specs[event.order_id]
                assert spec.stop_price is not None
                if spec.side is Side.BUY:
                    assert event.trade_price >= spec.stop_price
                else:
                    assert event.trade_price <= spec.stop_price
                self.stamp[event.order_id] = next(self.stamps)
            elif isinstance(event, Amended):
                self.quantity[event.order_id] += event.remaining - self._open(event.order_id)
                self.limit[event.order_id] = event.price
                if not event.priority_kept:
                    self.stamp[event.order_id] = next(self.stamps)

    def _check_trade(self, trade: Trade) -> None:
        maker, taker = trade.maker_order_id, trade.taker_order_id
        taker_spec = self.specs[taker]
        assert trade.quantity > 0
        assert trade.taker_side is taker_spec.side
        assert self.specs[maker].side is not taker_spec.side
        assert trade.maker_account == self.specs[maker].account
        assert trade.taker_account == taker_spec.account
        if trade.maker_account == trade.taker_account:
            assert taker_spec.stp is SelfTradePrevention.NONE
        assert trade.price == self.limit[maker]  # at the resting order's price
        taker_limit = self.limit[taker]
        if taker_limit is not None:
            if taker_spec.side is Side.BUY:
                assert trade.price <= taker_limit
            else:
                assert trade.price >= taker_limit
        self.filled[maker] += trade.quantity
        self.filled[taker] += trade.quantity
        assert trade.maker_remaining == self._open(maker) >= 0
        assert trade.taker_remaining == self._open(taker) >= 0
        assert self.engine.last_trade_price is not None


MatchingMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMatchingEngineProperties = MatchingMachine.TestCase
