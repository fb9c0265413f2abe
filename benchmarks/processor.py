"""Order processor throughput: how many `order.submitted` events per second the processor
(`manage.py run_consumer processor`) turns into recorded, risk-checked, matched and settled
orders, beside the ceiling of consuming the same messages at all.

The processor (D5, D10) applies each consumed batch in one database transaction holding
the order state, the ledger postings, the outbox rows of every emitted event and the next
offset of each partition, in a fixed number of statements per batch. The goal is 5,000
orders/s sustained. To tell how much of the cost is the processing rather than Kafka and
the database, each run measures, over the same N messages:

* `bare consumer`: a plain `confluent_kafka.Consumer`, assigned to the partition (no group
  join) with the processor's consumer settings, that only JSON-decodes each message - the
  ceiling of consumption;
* `copy exactly-once`: the floor any exactly-once processor pays: the same consumer
  writing one row per order with `COPY` and its offset in the same transaction, per
  batch of the processor's size;
* `processor`: the real role as a subprocess, timed from its start until its stored
  offsets reach the end of the pre-loaded messages (a batch writes its orders already
  past NEW, in the transaction that stores its offsets; the statuses are checked after).
  `total` includes Python and Django start-up, the group join and the partition claim
  (book rebuild); `sustained` counts from the first committed batch, so it is the
  steady-state rate.

The N orders are pre-loaded onto `orders` before each run, built like
`apps.orders.services.place_order` builds them and sent asynchronously with one flush:
BTC-USDT limit orders around a mid price, about a third crossing, sells from one trader
and buys from another (so crossings trade instead of tripping self-trade prevention).
Each batch size runs on the same venue after the previous run, so later runs start with
the resting orders of earlier ones in the book (the table shows the depth at start).
The relay is not running: outbox rows accumulate, which costs the processor nothing.

After the runs, `manage.py replay` applies every request on the topic (all the runs', by
default 100,000) into a new database through the same pipelined processor and compares
the result with the live state; its rate counts toward the same goal (`--no-replay`
skips it).

Two options put the venue's size in the way: `--notional-limit` gives every account a
notional-per-minute limit nothing reaches (the minute's notionals are then kept and read
for every batch), and `--resting-accounts N` has N more accounts each rest one bid far
below the runs' prices before the first run (a batch that read every account of its book
would pay for them).

Runs under the launcher (`make bench-processor`).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from apps.orders import events
from benchmarks.harness import (
    ROOT,
    Column,
    batch_phases,
    cpu_used,
    create_trader,
    format_cpu,
    free_port,
    manage,
    postgres_cpu_seconds,
    prepare_venue,
    print_table,
    process_cpu_seconds,
    setup_django,
    start_role,
    stop_process,
)
from oms.events import new_event
from oms.kafka.config import consumer_config
from oms.kafka.shared import event_producer
from oms.kafka.topics import ORDERS

if TYPE_CHECKING:
    from apps.orders.selectors import InstrumentRules

SYMBOL = "BTC-USDT"
SELLER, BUYER = "maker", "taker"
TRADER_FUNDS = {"BTC": "100000000", "USDT": "1000000000000"}
GOAL_RATE = 5000.0
POLL_SECONDS = 0.02
STALL_SECONDS = 60.0  # start-up and group join included
HIGH_NOTIONAL_LIMIT = 10 ** 15  # `--notional-limit`: never reached by a run
QUOTE, RESTING_FUNDS = "USDT", "1000000"  # `--resting-accounts`: each account's funds
BARE_POLL_SIZE = 500


@dataclass(frozen=True, slots=True)
class Preloaded:
    """Where the pre-loaded orders landed: partition -> (first offset, count)."""

    ranges: dict[int, tuple[int, int]]
    seconds: float

    @property
    def count(self) -> int:
        return sum(count for _, count in self.ranges.values())


@dataclass(frozen=True, slots=True)
class BareRun:
    orders: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


@dataclass(frozen=True, slots=True)
class SteadyCpu:
    """CPU seconds of the processor and of PostgreSQL spent on the orders after the first
    batch: on a shared, noisy machine the work per order holds still where the rate does
    not."""

    processor: float | None
    postgres: float | None
    orders: int

    def per_order_us(self, seconds: float | None) -> float:
        return math.nan if seconds is None or not self.orders else seconds / self.orders * 1e6


@dataclass(frozen=True, slots=True)
class ProcessorRun:
    batch_size: int
    orders: int
    book_depth: int  # working orders when the run started
    startup_seconds: float  # processor start -> first batch committed
    total_seconds: float  # processor start -> every order recorded and past NEW
    first_batch: int  # orders seen at the first committed batch
    cpu: float | None  # cores the processor used over the run
    statuses: dict[str, int]
    steady_cpu: SteadyCpu  # CPU per order after the first batch: processor, PostgreSQL
    phases: dict[str, tuple[int, float]]  # pipelined phase -> (batches, seconds in all)

    @property
    def total_rate(self) -> float:
        return self.orders / self.total_seconds

    @property
    def sustained_rate(self) -> float:
        steady = self.total_seconds - self.startup_seconds
        return (self.orders - self.first_batch) / steady if steady > 0 else float("nan")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.processor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50_000, help="orders per run")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[500, 2000],
                        help="run_consumer processor --batch-size of each run")
    parser.add_argument("--no-replay", dest="replay", action="store_false",
                        help="skip `manage.py replay` of the topic after the runs")
    parser.add_argument("--mid", default="50000", help="mid price of the order stream")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--notional-limit", action="store_true",
                        help="give the venue a notional-per-minute limit too high to refuse "
                             "anything, so the runs pay for keeping the minutes' notionals")
    parser.add_argument("--resting-accounts", type=int, default=0, metavar="N",
                        help="N more accounts, each resting one bid far below the runs' "
                             "prices, sent before the first run's orders")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds a run may take before it is abandoned (default: no "
                             f"limit; a run is abandoned after {STALL_SECONDS:.0f} s without "
                             "progress)")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------- the order stream


def _instrument_rules() -> InstrumentRules:
    """The benchmark symbol's rules."""
    from apps.orders import selectors  # models: importable once Django is set up

    rules = selectors.instrument_rules(symbol=SYMBOL)
    if rules is None:
        sys.exit(f"{SYMBOL} is not an instrument; did seed_demo run?")
    return rules


def order_payloads(count: int, *, users: dict[str, int], mid: Decimal,
                   rng: random.Random) -> list[dict[str, object]]:
    """`order.submitted` payloads as order entry publishes them: limit GTC orders around
    `mid`, mostly passive, about a third crossing (the distribution of simulate_orders)."""
    rules = _instrument_rules()
    submitted_at = datetime.now(UTC).isoformat()
    payloads: list[dict[str, object]] = []
    for _ in range(count):
        side = rng.choice(["buy", "sell"])
        offset_ticks = rng.randint(-20, 40)
        ticks = -offset_ticks if side == "buy" else offset_ticks
        order_id = str(uuid.uuid4())
        payloads.append({
            "order_id": order_id, "user_id": users[BUYER if side == "buy" else SELLER],
            "client_order_id": order_id, "symbol": SYMBOL, "side": side, "type": "limit",
            "time_in_force": "GTC",
            "quantity": str(rules.lot_size * rng.randint(1000, 5000)),
            "price": str(mid + ticks * rules.tick_size * 10), "stop_price": None,
            "post_only": False, "expires_at": None, "submitted_at": submitted_at,
        })
    return payloads


def resting_bids(count: int, *, mid: Decimal) -> list[dict[str, object]]:
    """`--resting-accounts`: `count` more accounts, funded, each with one bid resting far
    below `mid` (5 %), which no order of the runs reaches: a processor whose batches read
    every account of the book pays for them, one that reads what its takers reach does
    not."""
    from django.db import transaction

    from apps.accounts import services as accounts
    from apps.processing import services
    from oms.auth.roles import Role

    rules = _instrument_rules()
    price = str((mid * Decimal("0.95")).quantize(rules.tick_size))
    submitted_at = datetime.now(UTC).isoformat()
    bids: list[dict[str, object]] = []
    for n in range(count):
        with transaction.atomic():
            user_id = accounts.ensure_user(username=f"bench-resting-{n}",
                                           role=Role.TRADER).user_id
            services.deposit(user_id=user_id, asset=QUOTE, amount=Decimal(RESTING_FUNDS),
                             reference=f"bench-resting-{n}")
        order_id = str(uuid.uuid4())
        bids.append({
            "order_id": order_id, "user_id": user_id, "client_order_id": order_id,
            "symbol": SYMBOL, "side": "buy", "type": "limit", "time_in_force": "GTC",
            "quantity": str(rules.lot_size * 1000), "price": price, "stop_price": None,
            "post_only": False, "expires_at": None, "submitted_at": submitted_at})
    return bids


def preload(payloads: list[dict[str, object]]) -> Preloaded:
    """Send every payload as an `order.submitted` event (validated, key = symbol) without
    waiting for each acknowledgement, then flush once; fail on any delivery error."""
    offsets: dict[int, list[int]] = {}
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            failures.append(error)
        else:
            offsets.setdefault(message.partition() or 0, []).append(message.offset() or 0)

    producer = event_producer()
    started = time.perf_counter()
    for payload in payloads:
        producer.send(ORDERS, key=SYMBOL, event=new_event(events.ORDER_SUBMITTED, payload),
                      on_delivery=delivered)
    undelivered = producer.flush(60)
    seconds = time.perf_counter() - started
    if undelivered or failures:
        sys.exit(f"pre-loading failed: {undelivered} undelivered, {failures[:1]}")
    return Preloaded({partition: (min(found), len(found)) for partition, found in offsets.items()},
                     seconds)


# ------------------------------------------------------------------------- the measures


def bare_consume(loaded: Preloaded) -> BareRun:
    """Read the pre-loaded messages with a bare consumer and JSON-decode each one."""
    consumer = Consumer(consumer_config(settings.KAFKA_BOOTSTRAP_SERVERS,
                                        f"bench-bare-{uuid.uuid4().hex[:8]}",
                                        settings.KAFKA_CLIENT_CONFIG))
    wanted = loaded.count
    seen = 0
    started = time.perf_counter()
    consumer.assign([TopicPartition(ORDERS, partition, first)
                     for partition, (first, _) in loaded.ranges.items()])
    try:
        while seen < wanted:
            for message in consumer.consume(BARE_POLL_SIZE, 1.0):
                if message.error() is None:
                    json.loads(message.value() or b"")
                    seen += 1
        return BareRun(orders=seen, seconds=time.perf_counter() - started)
    finally:
        consumer.close()


def copy_exactly_once(loaded: Preloaded, batch_size: int) -> BareRun:
    """Consume the pre-loaded messages in batches of `batch_size`; per batch, one
    transaction that `COPY`s one row per order (its id and body) and stores the offset:
    the least work any exactly-once processor does."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_copy_order (id uuid PRIMARY KEY, "
                       "body jsonb NOT NULL)")
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_copy_offset (part int PRIMARY KEY, "
                       "next_offset bigint NOT NULL)")
        cursor.execute("TRUNCATE bench_copy_order, bench_copy_offset")
        cursor.execute("INSERT INTO bench_copy_offset SELECT unnest(%s::int[]), 0",
                       [list(loaded.ranges)])
    consumer = Consumer(consumer_config(settings.KAFKA_BOOTSTRAP_SERVERS,
                                        f"bench-copy-{uuid.uuid4().hex[:8]}",
                                        settings.KAFKA_CLIENT_CONFIG))
    consumer.assign([TopicPartition(ORDERS, partition, first)
                     for partition, (first, _) in loaded.ranges.items()])
    seen = 0
    started = time.perf_counter()
    try:
        while seen < loaded.count:
            rows, offsets = [], {}
            for message in consumer.consume(batch_size, 1.0):
                if message.error() is None:
                    event = json.loads(message.value() or b"")
                    rows.append((event["payload"]["order_id"], message.value().decode()))
                    offsets[message.partition()] = message.offset() + 1
            if not rows:
                continue
            with transaction.atomic(), connection.cursor() as cursor:
                with cursor.cursor.copy("COPY bench_copy_order (id, body) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute("UPDATE bench_copy_offset AS o SET next_offset = v.o FROM "
                               "unnest(%s::int[], %s::bigint[]) AS v (p, o) WHERE o.part = v.p",
                               [list(offsets), list(offsets.values())])
            seen += len(rows)
        return BareRun(orders=seen, seconds=time.perf_counter() - started)
    finally:
        consumer.close()


def stored_offsets() -> dict[int, int]:
    """The processor's next offset per partition of `orders` (a tiny table: cheap to poll
    without slowing the database the processor writes to)."""
    from apps.processing.processor import PROCESSOR_GROUP  # models: once Django is set up

    with connection.cursor() as cursor:
        cursor.execute("SELECT partition, next_offset FROM processing_partitionownership "
                       "WHERE \"group\" = %s AND topic = %s", [PROCESSOR_GROUP, ORDERS])
        return {int(partition): int(offset) for partition, offset in cursor.fetchall()}


def order_counts() -> tuple[int, int]:
    """(orders recorded, of which still NEW), straight from the read model."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE status = 'NEW') "
                       "FROM orders_order")
        total, new = cursor.fetchone()
    return int(total), int(new)


def working_orders() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM processing_workingorder")
        return int(cursor.fetchone()[0])


def statuses_since(baseline_ids: int) -> dict[str, int]:
    """Order statuses of the orders this run recorded (the newest `baseline_ids`)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM (SELECT status FROM orders_order "
                       "ORDER BY created_at DESC LIMIT %s) AS run GROUP BY status",
                       [baseline_ids])
        return {status: int(count) for status, count in cursor.fetchall()}


def run_processor(batch_size: int, loaded: Preloaded, timeout: float | None,
                  log_dir: Path) -> ProcessorRun:
    """Start the processor, wait until its stored offsets pass the pre-loaded messages,
    check that every order is recorded and past NEW, and stop it."""
    baseline, _ = order_counts()
    depth = working_orders()
    with (log_dir / f"processor-{batch_size}.log").open("wb") as log:
        started = time.perf_counter()
        probe_port = free_port()
        process = start_role("run_consumer", "processor", "--batch-size", str(batch_size), log=log,
                             probe_port=probe_port)
        try:
            cpu_before = process_cpu_seconds(process.pid)
            first_at, first_count, first_cpu = _wait_for_offsets(process, loaded, started,
                                                                 timeout)
            finished = time.perf_counter()
            cpu_after = process_cpu_seconds(process.pid)
            pg_after = postgres_cpu_seconds()
            phases = batch_phases(probe_port)
        finally:
            stop_process(process)
    total, new = order_counts()
    if total - baseline != loaded.count or new:
        raise RuntimeError(f"{total - baseline} of {loaded.count} orders recorded, "
                           f"{new} still NEW")
    return ProcessorRun(
        batch_size=batch_size, orders=loaded.count, book_depth=depth,
        startup_seconds=first_at - started, total_seconds=finished - started,
        first_batch=first_count, cpu=cpu_used(cpu_before, cpu_after, finished - started),
        statuses=statuses_since(loaded.count),
        phases=phases,
        steady_cpu=SteadyCpu(
            processor=_spent(first_cpu[0], cpu_after), postgres=_spent(first_cpu[1], pg_after),
            orders=loaded.count - first_count),
    )


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _wait_for_offsets(process: subprocess.Popen[bytes], loaded: Preloaded, started: float,
                      timeout: float | None
                      ) -> tuple[float, int, tuple[float | None, float | None]]:
    """Poll the stored offsets until they pass every pre-loaded message; return when the
    first batch was committed, how many of the orders it held, and the CPU time of the
    processor and of PostgreSQL then."""
    ends = {p: first + count for p, (first, count) in loaded.ranges.items()}
    first: tuple[float, int, tuple[float | None, float | None]] | None = None
    progress = (started, 0)  # when the applied count last moved, and to what
    while True:
        offsets = stored_offsets()
        now = time.perf_counter()
        applied = sum(max(0, min(offsets.get(p, 0), end) - loaded.ranges[p][0])
                      for p, end in ends.items())
        if first is None and applied > 0:
            first = (now, applied, (process_cpu_seconds(process.pid), postgres_cpu_seconds()))
        if first is not None and applied >= loaded.count:
            return first
        if applied != progress[1]:
            progress = (now, applied)
        if process.poll() is not None:
            raise RuntimeError(f"the processor exited with status {process.returncode}")
        if now - progress[0] > STALL_SECONDS:
            raise RuntimeError(f"{applied} of {loaded.count} orders applied, none for "
                               f"{STALL_SECONDS:.0f} s (see the log)")
        if timeout is not None and now - started > timeout:
            raise RuntimeError(f"only {applied} of {loaded.count} orders after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)


# ----------------------------------------------------------------------------- report


TABLE = (Column("name", 18, left=True), Column("batch", 6), Column("depth", 7),
         Column("orders", 7), Column("startup s", 10, ".2f"), Column("seconds", 8, ".2f"),
         Column("total/s", 8, ".0f"), Column("sustained/s", 12, ".0f"),
         Column("ratio", 7, ".2f"), Column("cpu", 6), Column("µs cpu/order", 13),
         Column("µs db/order", 12))


def print_report(runs: list[tuple[BareRun, BareRun, ProcessorRun]]) -> None:
    rows: list[list[object]] = []
    for bare, floor, run in runs:
        rows.append(["bare consumer", BARE_POLL_SIZE, "-", bare.orders, 0.0, bare.seconds,
                     bare.rate, bare.rate, 1.0, "-", "-", "-"])
        rows.append(["copy exactly-once", run.batch_size, "-", floor.orders, 0.0,
                     floor.seconds, floor.rate, floor.rate, floor.rate / bare.rate, "-", "-",
                     "-"])
        steady = run.steady_cpu
        rows.append(["processor", run.batch_size, run.book_depth, run.orders,
                     run.startup_seconds, run.total_seconds, run.total_rate,
                     run.sustained_rate, run.sustained_rate / bare.rate, format_cpu(run.cpu),
                     f"{steady.per_order_us(steady.processor):.0f}",
                     f"{steady.per_order_us(steady.postgres):.0f}"])
    print("\nOrder processor, one symbol (BTC-USDT, one partition), each batch one transaction.")
    print_table(TABLE, rows)
    print("depth = working orders in the book when the run started; startup s = processor\n"
          "start to first committed batch (Python and Django start-up, group join, partition\n"
          "claim); total/s includes it, sustained/s does not; ratio = sustained/s over the\n"
          "bare consumer's rate; cpu = cores the processor process used over the run;\n"
          "µs cpu/order and µs db/order = CPU time of the processor and of PostgreSQL per\n"
          "order after the first batch (what holds still on a busy machine: 2 cores are\n"
          "5,000 orders/s only if they stay under 400 together).")
    for _, floor, run in runs:
        print(f"batch {run.batch_size}: processor / copy exactly-once = "
              f"{run.sustained_rate / floor.rate:.2f}")
    for _, _, run in runs:
        phases = ", ".join(f"{phase} {seconds / count * 1000:.1f} ms"
                           for phase, (count, seconds) in sorted(run.phases.items()) if count)
        batches = run.phases.get("compute", (0, 0.0))[0]
        print(f"batch {run.batch_size}: {batches} pipelined batches, mean per batch: {phases}")
    for _, _, run in runs:
        outcome = ", ".join(f"{status} {count}" for status, count in sorted(run.statuses.items()))
        print(f"batch {run.batch_size}: {outcome}")
    best = max(run.sustained_rate for _, _, run in runs)
    verdict = "met" if best >= GOAL_RATE else "NOT met"
    print(f"goal ({GOAL_RATE:,.0f} orders/s sustained): {verdict} "
          f"(best sustained {best:,.0f} orders/s, {best / GOAL_RATE:.0%} of the goal).")


REPLAYED = re.compile(r"replayed (\d+) order requests in ([\d.]+) s .*applying them ([\d.]+) s")


def replay_everything() -> bool:
    """`manage.py replay`: every request on the topic (all the runs') into a new database,
    compared with the live state; prints its rates (with and without its start: copying
    reference data, claiming the partitions), the second counted by the goal like a live
    run's sustained rate. False when it failed or differs."""
    result = subprocess.run([sys.executable, "manage.py", "replay"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    found = REPLAYED.search(result.stdout)
    if found is None:
        print(f"replay failed (exit {result.returncode}): {result.stdout[-500:]}"
              f"{result.stderr[-1500:]}")
        return False
    requests, seconds, applying = int(found[1]), float(found[2]), float(found[3])
    rate = requests / applying
    equal = "equal to the live state" if result.returncode == 0 else "DIFFERS from the live state"
    print(f"replay: {requests:,} requests in {seconds:.1f} s with its start "
          f"({requests / seconds:,.0f}/s), {applying:.1f} s applying them = {rate:,.0f} "
          f"orders/s sustained, {equal}; goal ({GOAL_RATE:,.0f}/s): "
          f"{'met' if rate >= GOAL_RATE else 'NOT met'}")
    return result.returncode == 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    prepare_venue()
    if args.notional_limit:
        manage("set_limits", f"max_notional_per_minute={HIGH_NOTIONAL_LIMIT}")
    for name in (SELLER, BUYER):
        create_trader(name, TRADER_FUNDS, f"bench-processor-{name}")
    setup_django()
    users = dict(get_user_model().objects.filter(username__in=[SELLER, BUYER])
                 .values_list("username", "pk"))
    rng = random.Random(args.seed)  # a reproducible workload
    log_dir = Path(tempfile.mkdtemp(prefix="bench-processor-"))
    runs: list[tuple[BareRun, BareRun, ProcessorRun]] = []
    try:
        resting = resting_bids(args.resting_accounts, mid=Decimal(args.mid))
        for batch_size in args.batch_sizes:
            loaded = preload(resting + order_payloads(args.orders, users=users,
                                                      mid=Decimal(args.mid), rng=rng))
            resting = []
            print(f"batch {batch_size}: pre-loaded {loaded.count} orders in "
                  f"{loaded.seconds:.2f} s ({loaded.count / loaded.seconds:,.0f}/s), "
                  f"partitions {sorted(loaded.ranges)}", flush=True)
            bare = bare_consume(loaded)
            floor = copy_exactly_once(loaded, batch_size)
            runs.append((bare, floor, run_processor(batch_size, loaded, args.timeout, log_dir)))
    except RuntimeError as exc:
        print(f"benchmarks.processor: {exc}; logs in {log_dir}", file=sys.stderr)
        if runs:
            print_report(runs)  # the runs that completed
        return 1
    print_report(runs)
    print(f"processor logs: {log_dir}")
    if args.replay and not replay_everything():
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
