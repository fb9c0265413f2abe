"""Benchmark of the matching engine against two open-source peers on one seeded workload.

The workload (default 200k operations: ~60% limit adds that rest near the mid, ~25% cancels
of resting orders, ~15% crossing orders - half marketable IOC limits, half market orders) is
generated once and replayed, in the same run, into:

* ``ours``: ``apps.processing.domain.matching.MatchingEngine`` (self-trade prevention off so
  every engine does the same trades);
* ``liquibook``: the C++ Liquibook engine through the ``liquibook`` PyPI bindings, once bare
  (no Python callbacks, nothing reported back) and once with a Python order listener that
  receives fills and cancels, which is the closer match to our event lists;
* ``nautilus``: ``nautilus_trader.model.book.OrderBook`` (L3, Rust core). The book does no
  matching, and Nautilus' ``OrderMatchingEngine`` is a backtest venue simulator that fills a
  strategy's own orders against a book built from market data (it needs the cache, message
  bus, clock and instrument machinery); we did not wire it up to match two counterparties.
  So the book is fed the equivalent deltas - add / update / delete of resting orders,
  precomputed from our engine's events - and the figure is book maintenance only.

Each engine runs the workload twice from scratch: once with one clock read around the whole
replay for throughput, once with ``perf_counter_ns`` around every operation for p50/p99
latency. Inputs (specs, order objects, deltas) are built before timing and frozen out of the
garbage collector. Traded lots are printed as a cross-check that the engines did the same
trades. Peers that are not installed are reported as such.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from apps.processing.domain.matching import (
    Cancelled,
    Event,
    MatchingEngine,
    OrderSpec,
    OrderType,
    Rested,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)

Thunk = Callable[[], Any]
Sink = Callable[[Any], None]
Runner = Callable[[], tuple[list[Thunk], Sink | None, Callable[[], int | None]]]
MID = 100_000
ADD, CANCEL, IOC, MARKET = "add", "cancel", "ioc", "market"


@dataclass(frozen=True, slots=True)
class Op:
    kind: str
    order_id: int
    is_buy: bool = False
    price: int = 0  # ticks; 0 for market orders and cancels
    quantity: int = 0  # lots


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    ops: int
    ops_per_s: float
    p50_ns: int
    p99_ns: int
    traded_lots: int | None
    note: str = ""


def _spec(op: Op) -> OrderSpec:
    side = Side.BUY if op.is_buy else Side.SELL
    account = f"acct-{op.order_id % 1000}"
    stp = SelfTradePrevention.NONE
    if op.kind == ADD:
        return OrderSpec(
            str(op.order_id), account, side, OrderType.LIMIT, op.quantity, price=op.price, stp=stp
        )
    if op.kind == IOC:
        return OrderSpec(
            str(op.order_id),
            account,
            side,
            OrderType.LIMIT,
            op.quantity,
            price=op.price,
            tif=TimeInForce.IOC,
            stp=stp,
        )
    return OrderSpec(str(op.order_id), account, side, OrderType.MARKET, op.quantity, stp=stp)


def generate(n_ops: int, seed: int) -> tuple[list[Op], int]:
    """The workload, and how many orders rest at its end; an engine tracks which orders still
    rest so that cancels hit live orders."""
    rng = random.Random(seed)
    engine = MatchingEngine()
    live: list[int] = []  # resting order ids, swap-removed through ``slot``
    slot: dict[int, int] = {}

    def forget(order_id: int) -> None:
        index = slot.pop(order_id)
        last = live.pop()
        if last != order_id:
            live[index] = last
            slot[last] = index

    ops: list[Op] = []
    for n in range(n_ops):
        roll = rng.random()
        if 0.60 <= roll < 0.85 and live:
            op = Op(CANCEL, live[rng.randrange(len(live))])
        elif roll >= 0.85:
            is_buy = rng.random() < 0.5
            if rng.random() < 0.5:
                price = MID + rng.randint(1, 8) if is_buy else MID - rng.randint(1, 8)
                op = Op(IOC, n, is_buy, price, rng.randint(1, 30))
            else:
                op = Op(MARKET, n, is_buy, 0, rng.randint(1, 30))
        else:
            is_buy = rng.random() < 0.5
            offset = rng.randint(1, 40)
            op = Op(ADD, n, is_buy, MID - offset if is_buy else MID + offset, rng.randint(1, 10))
        ops.append(op)
        events = (
            engine.cancel(str(op.order_id))
            if op.kind == CANCEL
            else engine.submit(_spec(op), now=n)
        )
        for event in events:
            if isinstance(event, Rested):
                slot[op.order_id] = len(live)
                live.append(op.order_id)
            elif isinstance(event, Trade) and event.maker_remaining == 0:
                forget(int(event.maker_order_id))
            elif isinstance(event, Cancelled) and op.kind == CANCEL:
                forget(op.order_id)
    return ops, len(live)


def _timed(thunks: list[Thunk], latencies: list[int] | None, sink: Sink | None) -> int:
    """Run the thunks, returning elapsed ns. With ``latencies`` each op is timed on its own and
    its result handed to ``sink`` outside the timed window. The pre-built inputs are frozen
    out of the GC first so that collections only scan what the engines allocate."""
    gc.collect()
    gc.freeze()
    try:
        clock = time.perf_counter_ns
        start = clock()
        if latencies is None:
            for thunk in thunks:
                thunk()
        else:
            for i, thunk in enumerate(thunks):
                t0 = clock()
                result = thunk()
                latencies[i] = clock() - t0
                if sink is not None:
                    sink(result)
        return clock() - start
    finally:
        gc.unfreeze()


def _measure(name: str, n_ops: int, make: Runner, note: str = "") -> Result:
    """``make()`` builds a fresh engine: one thunk per op, an optional sink for the thunks'
    results and a counter of traded lots. Run once for throughput, once for latency."""
    thunks, _, _ = make()
    elapsed = _timed(thunks, None, None)
    thunks, sink, traded = make()
    latencies = [0] * len(thunks)
    _timed(thunks, latencies, sink)
    latencies.sort()
    return Result(
        name,
        n_ops,
        n_ops / (elapsed / 1e9),
        latencies[len(latencies) // 2],
        latencies[len(latencies) * 99 // 100],
        traded(),
        note,
    )


def run_ours(ops: list[Op]) -> Result:
    def make() -> tuple[list[Thunk], Sink | None, Callable[[], int | None]]:
        engine = MatchingEngine()
        thunks: list[Thunk] = [
            partial(engine.cancel, str(op.order_id))
            if op.kind == CANCEL
            else partial(engine.submit, _spec(op), now=n)
            for n, op in enumerate(ops)
        ]
        lots = [0]

        def sink(events: list[Event]) -> None:
            lots[0] += sum(e.quantity for e in events if isinstance(e, Trade))

        return thunks, sink, lambda: lots[0]

    return _measure("ours (pure Python)", len(ops), make, "events as frozen dataclasses")


def run_liquibook(ops: list[Op], *, with_listener: bool) -> Result:
    import liquibook

    class Listener(liquibook.OrderListener):  # type: ignore[misc]
        """Receives every callback in Python, as a real caller would."""

        def __init__(self) -> None:
            liquibook.OrderListener.__init__(self)
            self.lots = 0
            self.cancels = 0

        def on_accept(self, order: Any) -> None:
            pass

        def on_reject(self, order: Any, reason: str) -> None:
            pass

        def on_fill(self, order: Any, matched: Any, qty: int, cost: int) -> None:
            self.lots += qty

        def on_cancel(self, order: Any) -> None:
            self.cancels += 1

        def on_cancel_reject(self, order: Any, reason: str) -> None:
            pass

        def on_replace(self, order: Any, size_delta: int, new_price: int) -> None:
            pass

        def on_replace_reject(self, order: Any, reason: str) -> None:
            pass

    ioc = liquibook.oc_immediate_or_cancel
    keep_alive: list[Any] = []

    def make() -> tuple[list[Thunk], Sink | None, Callable[[], int | None]]:
        book = liquibook.DepthOrderBook()
        book.set_symbol("BENCH")
        listener = Listener()
        keep_alive.append(listener)
        if with_listener:
            book.set_order_listener(listener)
        orders: dict[int, Any] = {}
        thunks: list[Thunk] = []
        for op in ops:
            if op.kind == CANCEL:
                thunks.append(partial(book.cancel, orders[op.order_id]))
                continue
            order = liquibook.SimpleOrder(op.is_buy, op.price, op.quantity)
            orders[op.order_id] = order
            if op.kind == ADD:
                thunks.append(partial(book.add, order))
            else:  # IOC limit, or market (price 0) - Liquibook rests an unfilled market order
                thunks.append(partial(book.add, order, ioc))
        keep_alive.append((book, orders))
        return thunks, None, lambda: listener.lots if with_listener else None

    if with_listener:
        return _measure("liquibook + py listener", len(ops), make, "C++ book, Python callbacks")
    return _measure("liquibook (bare)", len(ops), make, "C++ only, no events to Python")


def run_nautilus(ops: list[Op]) -> Result:
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.enums import BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    # Book deltas per op, from our engine's events (the book state all engines go through).
    engine = MatchingEngine()
    deltas: list[list[tuple[str, bool, int, int, int]]] = []  # (action, is_buy, px, qty, id)
    resting: dict[int, tuple[bool, int]] = {}
    for n, op in enumerate(ops):
        events = (
            engine.cancel(str(op.order_id))
            if op.kind == CANCEL
            else engine.submit(_spec(op), now=n)
        )
        step: list[tuple[str, bool, int, int, int]] = []
        for event in events:
            if isinstance(event, Rested):
                resting[op.order_id] = (op.is_buy, event.price)
                step.append(("add", op.is_buy, event.price, event.remaining, op.order_id))
            elif isinstance(event, Trade):
                maker = int(event.maker_order_id)
                is_buy, price = resting[maker]
                action = "delete" if event.maker_remaining == 0 else "update"
                step.append((action, is_buy, price, event.maker_remaining, maker))
            elif isinstance(event, Cancelled) and op.kind == CANCEL:
                is_buy, price = resting.pop(op.order_id)
                step.append(("delete", is_buy, price, 0, op.order_id))
        deltas.append(step)

    instrument_id = InstrumentId.from_str("BENCH-USD.SIM")

    def make() -> tuple[list[Thunk], Sink | None, Callable[[], int | None]]:
        book = OrderBook(instrument_id, BookType.L3_MBO)
        apply = {"add": book.add, "update": book.update, "delete": book.delete}
        thunks: list[Thunk] = []
        for n, step in enumerate(deltas):
            calls = [
                partial(
                    apply[action],
                    BookOrder(
                        OrderSide.BUY if is_buy else OrderSide.SELL,
                        Price(price, 0),
                        Quantity(qty, 0),
                        order_id,
                    ),
                    n,
                )
                for action, is_buy, price, qty, order_id in step
            ]
            # One delta (most ops) is called directly, several (a sweep) through a loop.
            thunks.append(calls[0] if len(calls) == 1 else partial(_call_all, calls))
        return thunks, None, lambda: None

    return _measure("nautilus OrderBook L3", len(ops), make, "deltas only, no matching")


def _call_all(calls: Sequence[Thunk]) -> None:
    for call in calls:
        call()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200_000, help="operations in the workload")
    parser.add_argument("--seed", type=int, default=7, help="workload random seed")
    args = parser.parse_args()

    ops, resting = generate(args.ops, args.seed)
    counts = {kind: sum(op.kind == kind for op in ops) for kind in (ADD, CANCEL, IOC, MARKET)}
    print(
        f"workload: {len(ops)} ops, seed {args.seed}: "
        + ", ".join(f"{kind} {count}" for kind, count in counts.items())
        + f"; {resting} orders resting at the end"
    )

    results = [run_ours(ops)]
    peers: list[tuple[str, Callable[[], Result]]] = [
        ("liquibook", lambda: run_liquibook(ops, with_listener=False)),
        ("liquibook", lambda: run_liquibook(ops, with_listener=True)),
        ("nautilus_trader", lambda: run_nautilus(ops)),
    ]
    missing: list[str] = []
    for package, run in peers:
        try:
            results.append(run())
        except ImportError:
            missing.append(package)

    ours = results[0].ops_per_s
    print(
        f"{'engine':<26}{'ops':>8}{'ops/s':>11}{'p50 ns':>9}{'p99 ns':>9}{'lots':>10}"
        f"{'ours/peer':>11}  note"
    )
    for r in results:
        lots = "-" if r.traded_lots is None else str(r.traded_lots)
        print(
            f"{r.name:<26}{r.ops:>8}{r.ops_per_s:>11,.0f}{r.p50_ns:>9}{r.p99_ns:>9}"
            f"{lots:>10}{ours / r.ops_per_s:>11.2f}  {r.note}"
        )
    for package in sorted(set(missing)):
        print(f"{package}: not installed, not measured")


if __name__ == "__main__":
    main()
