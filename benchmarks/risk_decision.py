"""The pre-trade risk decision: how long `apps.risk` takes to accept or reject one order.

Two layers, each beside a peer that does the least the same work could:

* `decide` (pure): the nine checks of `apps.risk.domain.checks` over a complete context
  (every limit set, positions in three symbols, velocity counts, a leveraged account's
  margin terms), beside `bare compare`: one `required <= available` comparison on the same
  context, the cheapest decision there is.
* `RiskBatch.decide` (in batch): the decision as the processor makes it (D10), on a batch's
  risk state read once (limits, kill switches, positions, daily P&L, marks, velocity counts
  of 500 orders claimed in one script): completing the context in memory, then deciding;
  beside `bare compare`. The aim: p99 under 100 µs.
* `pre_trade_decision` (service): what a single request costs (a what-if), completing the
  context from PostgreSQL (limits per scope, kill switches, positions, daily P&L) and
  claiming the order's velocity slot in Redis in one MULTI/EXEC, then deciding; beside
  `bare I/O`: the same number of round trips (four `SELECT 1` and one Redis MULTI/EXEC
  with as many commands) that decide nothing, the floor of any decision reading that state.

Each sample is one decision timed with `perf_counter_ns`; the table shows throughput in a
single thread, p50 and p99, and each layer's ratio to its peer. The mean time of each check
(the decision's own timings, as exported on `oms_risk_check_seconds`) follows.

Runs under the launcher (`make bench-risk`).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from decimal import Decimal

from benchmarks.harness import Column, percentile_ms, prepare_venue, print_table, setup_django

BATCH = 500  # orders per processor batch


def timed(samples: int, step: Callable[[int], object]) -> list[int]:
    spent = []
    for i in range(samples):
        started = time.perf_counter_ns()
        step(i)
        spent.append(time.perf_counter_ns() - started)
    return sorted(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pure", type=int, default=50_000, help="pure decisions")
    parser.add_argument("--service", type=int, default=3_000, help="service decisions")
    parser.add_argument("--in-batch", type=int, default=20_000,
                        help="decisions on batches' state, 500 per batch")
    args = parser.parse_args()
    prepare_venue()
    setup_django()

    from django.contrib.auth import get_user_model
    from django.db import connection

    from apps.risk import services
    from apps.risk.domain.checks import Limits, PreTradeContext, Velocity, decide
    from apps.risk.domain.margin import MarginTerms
    from oms.redis import redis_client

    user, _ = get_user_model().objects.get_or_create(username="bench-risk")
    now = datetime.now(UTC)
    for symbol, side, quantity in (("BTC-USDT", "buy", "0.5"), ("ETH-USDT", "sell", "4"),
                                   ("SOL-USDT", "buy", "30")):
        services.record_fill(user_id=user.pk, symbol=symbol, side=side,
                             quantity=Decimal(quantity), price=Decimal("100"),
                             fee_in_quote=Decimal(0), when=now)
    limits = Limits(
        max_position=Decimal("1000"), max_position_notional=Decimal("1e9"),
        max_order_quantity=Decimal("100"), max_order_notional=Decimal("1e8"),
        max_open_orders=500, price_band=Decimal("0.1"), daily_loss=Decimal("1e6"),
        concentration=Decimal("0.99"), max_orders_per_second=1_000_000,
        max_orders_per_minute=10_000_000, max_notional_per_minute=Decimal("1e15"))
    services.set_limits(actor_id=None, user_id=user.pk, symbol="", values=asdict(limits))
    marks = {"BTC-USDT": Decimal("50000"), "ETH-USDT": Decimal("3000"),
             "SOL-USDT": Decimal("150")}
    order = PreTradeContext(
        user_id=user.pk, symbol="BTC-USDT", side="buy", quantity=Decimal("0.01"),
        price=Decimal("50010"), is_limit=True, trading=True, required_asset="USDT",
        required_amount=Decimal("500.2"), available_amount=Decimal("100000"),
        reference_price=Decimal("50000"), open_orders=12, open_buy_quantity=Decimal("0.2"),
        marks=marks)
    complete = replace(order, position=Decimal("0.5"), daily_pnl=Decimal("-120"),
                       exposures={"BTC-USDT": Decimal("25000"), "ETH-USDT": Decimal("12000"),
                                  "SOL-USDT": Decimal("4500")},
                       velocity=Velocity(3, 40, Decimal("12000")), limits=limits,
                       margin=MarginTerms(leverage=Decimal("3"), initial_margins={},
                                          equity=Decimal("90000")))
    per_check: dict[str, int] = defaultdict(int)

    def pure(_: int) -> None:
        decision = decide(complete, clock_ns=time.perf_counter_ns)
        if not decision.accepted:
            raise SystemExit(f"the benchmark order was rejected: {decision}")
        for check, spent in decision.timings_ns.items():
            per_check[check] += spent

    def bare_compare(_: int) -> bool:
        return complete.required_amount <= complete.available_amount

    def service(i: int) -> None:
        decision = services.pre_trade_decision(order, order_id=f"bench-{i}-{uuid.uuid4()}",
                                               now=datetime.now(UTC))
        if not decision.accepted:
            raise SystemExit(f"the benchmark order was rejected: {decision}")

    exposure = services.AccountExposure(user_id=user.pk, working={},
                                        holdings={"USDT": Decimal("100000")}, loans={})
    batch_orders: list[str] = []
    batches: list[services.RiskBatch] = []

    def in_batch(i: int) -> None:
        if i % BATCH == 0:  # a new batch's state, read and claimed outside the timing
            now = datetime.now(UTC)
            batch_orders[:] = [f"bench-b-{i + n}-{uuid.uuid4()}" for n in range(BATCH)]
            batches[:] = [services.risk_batch(
                user_ids=[user.pk], days=[now.date()],
                claims=[services.VelocityClaim(user.pk, order_id, now)
                        for order_id in batch_orders])]
        started = time.perf_counter_ns()
        decision = batches[0].decide(order, order_id=batch_orders[i % BATCH],
                                     now=datetime.now(UTC), exposure=exposure)
        in_batch_spent.append(time.perf_counter_ns() - started)
        if not decision.accepted:
            raise SystemExit(f"the benchmark order was rejected: {decision}")

    in_batch_spent: list[int] = []

    def decisions_in_batches(samples: int) -> list[int]:
        """Only the decisions are timed, not each batch's reads and claims."""
        in_batch_spent.clear()
        for i in range(samples):
            in_batch(i)
        return sorted(in_batch_spent)
    redis = redis_client()

    def bare_io(i: int) -> None:
        with connection.cursor() as cursor:
            for _ in range(4):
                cursor.execute("SELECT 1")
        pipe = redis.pipeline(transaction=True)
        for _ in range(5):
            pipe.exists(f"bench-risk:{i}")
        pipe.execute()

    timed(1000, pure)  # warm-up: caches, imports, connections
    timed(200, service)
    timed(200, bare_io)
    for i in range(BATCH):
        in_batch(i)
    per_check.clear()
    rows: list[list[object]] = []
    for layer, step, samples, peer_name, peer in (
        ("decide (pure)", pure, args.pure, "bare compare", bare_compare),
        ("RiskBatch.decide", in_batch, args.in_batch, "bare compare", bare_compare),
        ("pre_trade_decision", service, args.service, "bare I/O", bare_io),
    ):
        ours = decisions_in_batches(samples) if step is in_batch else timed(samples, step)
        theirs = timed(samples, peer)
        ours_rate = len(ours) / (sum(ours) / 1e9)
        theirs_rate = len(theirs) / (sum(theirs) / 1e9)
        for label, spent, rate in ((layer, ours, ours_rate), (peer_name, theirs, theirs_rate)):
            rows.append([label, len(spent), rate, percentile_ms(spent, 50) * 1000,
                         percentile_ms(spent, 99) * 1000, f"{ours_rate / rate:.2f}x"
                         if label == peer_name else ""])
    print_table([Column("layer", 22, left=True), Column("samples", 9, ","),
                 Column("per second", 13, ",.0f"), Column("p50 us", 10, ",.1f"),
                 Column("p99 us", 10, ",.1f"), Column("ours / peer", 13)], rows)
    print()
    print_table([Column("check", 22, left=True), Column("mean us", 10, ",.2f")],
                [[check, total / args.pure / 1000] for check, total in per_check.items()])


if __name__ == "__main__":
    main()
