"""End-to-end latency: from `POST /api/orders` to the order's `order.fill` event on
`executions`, with the whole order path running as separate processes.

The path a trader waits on: the web role checks the order and publishes it on `orders`
(D6); the processor (`run_consumer processor`) consumes it, matches it and writes state,
ledger and outbox in one transaction per batch (D5); `run_relay` publishes the outbox to
`executions`. The goal is a p99 under 50 ms at 500 orders/s.

Load: pairs of crossing limit orders at a fixed rate (each of `--rates` orders/s in turn,
so half that in pairs), for `--seconds` after a `--warmup`. In each pair a maker sells,
then - once the sell is accepted (202) - a taker, another user, buys the same quantity at
the same price, so the buy trades at once. Pairs are scheduled evenly across `--clients`
threads (one keep-alive connection each) to the web role as production runs it
(gunicorn, `--workers` workers).

A consumer assigned to every partition of `executions` at its end offset before the load
starts (no group join) stamps the arrival of each `order.fill`; it uses the project's
consumer settings, as a downstream consumer would. Three latencies of each taker order:

* `POST -> 202`: the taker's request, as in `benchmarks.ingest`;
* `POST -> fill`: from sending the taker's POST to its fill arriving (the goal's measure);
* `schedule -> fill`: from when the pair was due; above `POST -> fill` when the web role
  cannot keep up and sends fall behind the schedule (no coordinated omission).

`POST -> fill` is split in three: up to the processor sealing the batch of the order (its
fill's outbox row is made then: POST, broker, the wait for a batch, the batch's read and
flow), from there to the relay's produce (the batch's write and commit, the relay's
read), and the last hop (the message's create time to its arrival).

Pairs sent inside the measured window whose taker was answered before it ended are
counted; fills are awaited up to `--drain` seconds after it. Everything shares this
machine (load generator, web, processor, relay, PostgreSQL, Redis and the broker), so
the CPU each process used is printed with the figures.

Runs under the launcher (`make bench-e2e`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from django.conf import settings
from django.db import connection

from benchmarks.harness import (
    HOST,
    WEB_ROLE,
    Column,
    Phases,
    Served,
    Window,
    batch_phases,
    client_clocks,
    cpu_used,
    create_trader,
    format_cpu,
    free_port,
    offset_gaps,
    percentile_ms,
    postgres_cpu_seconds,
    prepare_venue,
    print_table,
    process_cpu_seconds,
    setup_django,
    sleep_until,
    start_role,
    start_server,
    stop_process,
    wait_healthy,
)
from oms.kafka.config import consumer_config
from oms.kafka.topics import EXECUTIONS, ORDERS

MAKER, TAKER = "e2emaker", "e2etaker"
TRADER_FUNDS = {"BTC": "100000000", "USDT": "1000000000000"}
SYMBOL, PRICE, QUANTITY = "BTC-USDT", "50000.00", "0.001"
ORDER_FILL = "order.fill"
GOAL_RATE, GOAL_P99_MS = 500.0, 50.0
READY_SECONDS = 90.0


@dataclass(frozen=True, slots=True)
class SentPair:
    """One pair as a client saw it: when it was due and sent, and its taker's request."""

    scheduled_ns: int
    sent_ns: int  # the maker's POST
    taker_sent_ns: int
    taker_answered_ns: int
    taker_order_id: str


@dataclass(slots=True)
class Tally:
    pairs: list[SentPair] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True, slots=True)
class Traders:
    maker: dict[str, str]  # request headers
    taker: dict[str, str]


@dataclass(frozen=True, slots=True)
class Stack:
    """The processes of the order path, and each port a client may use."""

    web: Served  # the web role: its port, its processes' CPU
    processor: int
    processor_probes: int  # its `/metrics`: the batches' phases
    relay: int


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.end_to_end",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[100.0, GOAL_RATE, 1000.0],
                        help="orders per second (makers and takers together), one load each, "
                             "in turn on the same stack")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="unmeasured load before the measured time")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="seconds to wait for the last fills after the load")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="the web role's workers (default: one per CPU)")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- fills


class FillListener:
    """Stamps the first arrival of an `order.fill` for each order id, from the current
    end of `executions` on."""

    def __init__(self) -> None:
        self.arrivals: dict[str, int] = {}
        # From the relay's produce (the message's create time) to the arrival, per order:
        # the split of POST -> fill between the order path and the last hop.
        self.last_hop_ns: dict[str, int] = {}
        # Each order's fill event id and its produce time (wall clock, ms), to find when
        # the processor sealed it (its outbox row's `created_at`).
        self.fill_events: dict[str, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._consumer = Consumer(consumer_config(settings.KAFKA_BOOTSTRAP_SERVERS,
                                                  f"bench-e2e-{uuid.uuid4().hex[:8]}",
                                                  settings.KAFKA_CLIENT_CONFIG))
        metadata = self._consumer.list_topics(EXECUTIONS, timeout=10).topics[EXECUTIONS]
        ends = [TopicPartition(EXECUTIONS, partition,
                               self._consumer.get_watermark_offsets(
                                   TopicPartition(EXECUTIONS, partition), timeout=10)[1])
                for partition in metadata.partitions]
        self._consumer.assign(ends)
        self._thread = threading.Thread(target=self._listen, name="fills", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            # The first message as soon as it comes, then what arrived with it: waiting for
            # a full batch would add up to the timeout to every stamp.
            messages = self._consumer.consume(1, 0.05)
            arrived, arrived_wall = time.perf_counter_ns(), time.time_ns()
            if messages:
                messages.extend(self._consumer.consume(499, 0))
            for message in messages:
                if message.error() is not None:
                    continue
                event = json.loads(message.value() or b"")
                if event.get("type") == ORDER_FILL:
                    order_id = event["payload"]["order_id"]
                    if order_id not in self.arrivals:
                        self.arrivals[order_id] = arrived
                        _kind, produced_ms = message.timestamp()
                        self.last_hop_ns[order_id] = arrived_wall - produced_ms * 1_000_000
                        self.fill_events[order_id] = (event["event_id"], produced_ms)

    def wait_for(self, order_ids: list[str], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(o not in self.arrivals for o in order_ids):
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()


# ------------------------------------------------------------------------------- load


def _headers(token: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Accept": "application/json",
            "Authorization": f"Token {token}"}


def order_body(side: str, client_order_id: str) -> bytes:
    return json.dumps({"symbol": SYMBOL, "side": side, "type": "limit",
                       "quantity": QUANTITY, "price": PRICE,
                       "client_order_id": client_order_id}).encode()


def post_order(connection: http.client.HTTPConnection, headers: dict[str, str],
               body: bytes) -> str | None:
    """POST one order; its id when accepted (202), else None."""
    try:
        connection.request("POST", "/api/orders", body, headers)
        response = connection.getresponse()
        answer = response.read()
    except (OSError, http.client.HTTPException):
        connection.close()  # the next request reconnects
        return None
    if response.status != 202:
        return None
    order_id: str = json.loads(answer)["id"]
    return order_id


def send_pair(connection: http.client.HTTPConnection, traders: Traders,
              id_prefix: str, scheduled_ns: int) -> SentPair | None:
    """The maker's sell, then the taker's buy at the same price."""
    started = time.perf_counter_ns()
    if post_order(connection, traders.maker, order_body("sell", f"{id_prefix}-s")) is None:
        return None
    sent = time.perf_counter_ns()
    order_id = post_order(connection, traders.taker, order_body("buy", f"{id_prefix}-b"))
    answered = time.perf_counter_ns()
    return (None if order_id is None
            else SentPair(scheduled_ns, started, sent, answered, order_id))


def run_client(port: int, traders: Traders, id_prefix: str, window: Window,
               clock: Iterator[int], tally: Tally) -> None:
    """Send a pair each time `clock` says (at once when behind) until the window ends;
    tally the pairs sent inside it whose taker was answered before it ended. Counting by
    send time gives the rate the web role achieved; a client that falls behind its
    schedule shows up in `schedule -> fill`."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    for sequence, scheduled in enumerate(clock):
        started = time.perf_counter_ns()
        if scheduled >= window.end_ns or started >= window.end_ns:
            break
        sleep_until(scheduled)
        pair = send_pair(connection, traders, f"{id_prefix}-{sequence}", scheduled)
        if max(scheduled, started) < window.start_ns:
            continue
        if pair is None:
            tally.errors += 1
        elif pair.taker_answered_ns <= window.end_ns:
            tally.pairs.append(pair)
    connection.close()


def wait_ready(port: int, traders: Traders, fills: FillListener) -> None:
    """Send one pair and wait for its fill: web, processor (group joined, partitions
    claimed) and relay all work before the clock starts."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    pair = send_pair(connection, traders, f"ready-{uuid.uuid4().hex[:12]}",
                     time.perf_counter_ns())
    connection.close()
    if pair is None:
        raise RuntimeError("the first pair of orders was not accepted")
    fills.wait_for([pair.taker_order_id], READY_SECONDS)
    if pair.taker_order_id not in fills.arrivals:
        raise RuntimeError(f"no order.fill within {READY_SECONDS:.0f} s of the first pair")


def run_load(stack: Stack, traders: Traders, fills: FillListener, args: argparse.Namespace,
             rate: float) -> tuple[list[SentPair], int, dict[str, float | None], Phases]:
    """The paced load; the pairs counted, the errors, the cores each process used, and the
    processor's batches in the measured window."""
    now_ns = time.perf_counter_ns()
    start_ns = now_ns + int(args.warmup * 1e9)
    window = Window(start_ns, start_ns + int(args.seconds * 1e9))
    run_id = uuid.uuid4().hex[:12]
    tallies = [Tally() for _ in range(args.clients)]
    clocks = client_clocks(args.clients, now_ns, rate / 2)
    threads = [threading.Thread(target=run_client,
                                args=(stack.web.port, traders,
                                      f"{run_id}-{index}", window, clock, tally))
               for index, (tally, clock) in enumerate(zip(tallies, clocks, strict=True))]
    for thread in threads:
        thread.start()
    sleep_until(window.start_ns)
    before, phases_before = _cpu_seconds(stack), batch_phases(stack.processor_probes)
    client_before = time.process_time()
    sleep_until(window.end_ns)
    after, phases_after = _cpu_seconds(stack), batch_phases(stack.processor_probes)
    cpu = {name: cpu_used(before[name], after[name], args.seconds) for name in before}
    cpu["load generator"] = (time.process_time() - client_before) / args.seconds
    phases = {phase: (count - phases_before.get(phase, (0, 0.0))[0],
                      seconds - phases_before.get(phase, (0, 0.0))[1])
              for phase, (count, seconds) in phases_after.items()}
    for thread in threads:
        thread.join()
    pairs = [pair for tally in tallies for pair in tally.pairs]
    fills.wait_for([pair.taker_order_id for pair in pairs], args.drain)
    return pairs, sum(tally.errors for tally in tallies), cpu, phases


def _cpu_seconds(stack: Stack) -> dict[str, float | None]:
    return {"web role": stack.web.cpu_seconds(),
            "processor": process_cpu_seconds(stack.processor),
            "relay": process_cpu_seconds(stack.relay),
            "PostgreSQL": postgres_cpu_seconds()}


# ----------------------------------------------------------------------------- report


LATENCY_TABLE = (Column("taker order", 18, left=True), Column("count", 7),
                 Column("p50 ms", 9, ".2f"), Column("p95 ms", 9, ".2f"),
                 Column("p99 ms", 9, ".2f"), Column("max ms", 9, ".2f"))


def order_path_split(filled: list[SentPair], fills: FillListener) -> dict[str, list[int]]:
    """POST -> fill before the last hop, split where the processor seals the batch of the
    taker's order (its fill's outbox row is made then): up to it, the POST, the broker,
    the wait for a batch and the batch's read and flow; after it, the batch's write and
    commit and the relay's read and produce. Clocks: this machine's wall clock."""
    perf_to_wall = time.time_ns() - time.perf_counter_ns()
    event_ids = [fills.fill_events[pair.taker_order_id][0] for pair in filled]
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_id, created_at FROM processing_outboxevent "
                       "WHERE event_id = ANY(%s)", [event_ids])
        sealed_ns = {event_id: int(created_at.timestamp() * 1e9)
                     for event_id, created_at in cursor.fetchall()}
    to_seal, to_relay = [], []
    for pair in filled:
        event_id, produced_ms = fills.fill_events[pair.taker_order_id]
        if event_id in sealed_ns:
            to_seal.append(sealed_ns[event_id] - (pair.taker_sent_ns + perf_to_wall))
            to_relay.append(produced_ms * 1_000_000 - sealed_ns[event_id])
    return {"  POST -> sealed": sorted(to_seal), "  sealed -> relay": sorted(to_relay)}


@dataclass(frozen=True, slots=True)
class RateResult:
    """One offered rate's outcome: what was sent, POST -> fill, whether the web role kept
    up with the offered rate and whether every sent pair's fill arrived without errors
    (two facts: a slow sender with every fill is not a lost fill)."""

    rate: float
    p50_ms: float
    p99_ms: float
    kept_pace: bool
    every_fill: bool


def print_report(pairs: list[SentPair], errors: int, fills: FillListener,
                 cpu: dict[str, float | None], args: argparse.Namespace, target: float
                 ) -> RateResult:
    """Print one load's figures and return its outcome."""
    arrivals, last_hop = fills.arrivals, fills.last_hop_ns
    filled = [pair for pair in pairs if pair.taker_order_id in arrivals]
    orders = 2 * len(pairs)
    rate = orders / args.seconds
    measures = {
        "POST -> 202": sorted(p.taker_answered_ns - p.taker_sent_ns for p in pairs),
        "POST -> fill": sorted(arrivals[p.taker_order_id] - p.taker_sent_ns for p in filled),
        "schedule -> fill": sorted(arrivals[p.taker_order_id] - p.scheduled_ns for p in filled),
        **order_path_split(filled, fills),
        # The last hop (relay's produce -> arrival) on its own.
        "  relay -> fill": sorted(last_hop[p.taker_order_id] for p in filled),
    }
    print(f"\n{args.clients} clients (threads, keep-alive HTTP/1.1) to the web role "
          f"(gunicorn, {args.workers} workers), target {target:g} orders/s ({target / 2:g} "
          f"crossing pairs/s),\n{args.warmup:g} s warm-up then {args.seconds:g} s measured, "
          f"fills awaited up to {args.drain:g} s more. This {os.cpu_count()}-CPU machine runs "
          "all of it.")
    print(f"orders sent {orders} ({rate:.0f} orders/s, {rate / target:.0%} of the target), "
          f"pairs that failed {errors}, taker fills received {len(filled)} of {len(pairs)}")
    print_table(LATENCY_TABLE, [
        [name, len(samples), percentile_ms(samples, 50), percentile_ms(samples, 95),
         percentile_ms(samples, 99), percentile_ms(samples, 100)]
        for name, samples in measures.items()
    ])
    missing = [pair.taker_order_id for pair in pairs if pair.taker_order_id not in arrivals]
    if missing:
        print(f"{len(missing)} taker fills had not arrived {args.drain:g} s after the load ended, "
              "so the fill rows count only the\nfills received and understate the latency.")
        explain_missing(missing)
    print("cores used: " + ", ".join(f"{name} {format_cpu(value)}"
                                     for name, value in cpu.items()))
    kept_pace = rate >= 0.95 * target
    if not kept_pace:
        print(f"The web role did NOT sustain the target: {rate:.0f} of {target:g} orders/s "
              f"with {args.workers} web workers; the latencies hold at that rate.")
    return RateResult(rate, percentile_ms(measures["POST -> fill"], 50),
                      percentile_ms(measures["POST -> fill"], 99), kept_pace,
                      every_fill=not errors and len(filled) == len(pairs) > 0)


def explain_missing(order_ids: list[str]) -> None:
    """What became of the takers whose fill never came, as the processor recorded them,
    and how every order of the venue ended: a missing fill is a fact to explain."""
    from apps.orders.selectors import order_visible_to, orders_visible_to  # after setup

    on_the_log = _find_on_orders(set(order_ids[:10]))
    for order_id in order_ids[:10]:
        view = order_visible_to(order_id=uuid.UUID(order_id), user_id=0, sees_all=True)
        state = "not recorded" if view is None else f"{view.status} {view.reason_code}".strip()
        where = on_the_log.get(order_id, "not on the orders topic")
        print(f"  taker {order_id}: {state}; {where}")
    outcomes = Counter(orders_visible_to(user_id=0, sees_all=True)
                       .values_list("side", "status", "reason_code"))
    for (side, status, reason), count in sorted(outcomes.items()):
        print(f"  {count} {side} orders {status} {reason}".rstrip())


def _find_on_orders(order_ids: set[str]) -> dict[str, str]:
    """Where each order's `order.submitted` is on the `orders` topic, read from its start."""
    consumer = Consumer(consumer_config(settings.KAFKA_BOOTSTRAP_SERVERS,
                                        f"bench-e2e-{uuid.uuid4().hex[:8]}",
                                        settings.KAFKA_CLIENT_CONFIG))
    found: dict[str, str] = {}
    try:
        partitions = consumer.list_topics(ORDERS, timeout=10).topics[ORDERS].partitions
        ends = {partition: consumer.get_watermark_offsets(TopicPartition(ORDERS, partition),
                                                          timeout=10)[1]
                for partition in partitions}
        consumer.assign([TopicPartition(ORDERS, partition, 0) for partition in partitions])
        read = dict.fromkeys(partitions, 0)
        deadline = time.monotonic() + 30
        while any(read[p] < ends[p] for p in partitions) and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if message.error() is not None:
                    continue
                partition, offset = message.partition() or 0, message.offset() or 0
                read[partition] = offset + 1
                order_id = json.loads(message.value() or b"{}").get("payload", {}).get("order_id")
                if order_id in order_ids:
                    found[order_id] = f"on orders partition {partition} at offset {offset}"
    finally:
        consumer.close()
    return found


def print_batches(phases: Phases, *, orders: int) -> None:
    """The processor's batches in the measured window: how many, and their phases."""
    batches = phases.get("compute", (0, 0.0))[0]
    if not batches:
        return
    mean = {phase: seconds / count * 1000 for phase, (count, seconds) in phases.items() if count}
    print(f"processor: {batches} batches (about {orders / batches:.1f} orders each), mean per "
          f"batch: compute {mean['compute']:.1f} ms (read {mean.get('read', 0):.1f}, flow "
          f"{mean.get('flow', 0):.1f}, seal {mean.get('seal', 0):.1f}), waiting for the "
          f"previous write {mean.get('wait', 0):.1f} ms, write {mean.get('write', 0):.1f} ms")


SUMMARY_TABLE = (Column("target/s", 9, ".0f"), Column("sent/s", 8, ".0f"),
                 Column("fill p50 ms", 12, ".2f"), Column("fill p99 ms", 12, ".2f"),
                 Column("kept pace", 10), Column("all fills", 10))


def _yes(fact: bool) -> str:
    return "yes" if fact else "NO"


def print_summary(results: dict[float, RateResult]) -> None:
    """POST -> fill at each target rate, and the verdict on the goal's rate."""
    print("\nPOST -> fill by offered rate:")
    print_table(SUMMARY_TABLE, [[target, r.rate, r.p50_ms, r.p99_ms, _yes(r.kept_pace),
                                 _yes(r.every_fill)] for target, r in results.items()])
    if GOAL_RATE not in results:
        return
    goal = results[GOAL_RATE]
    met = goal.kept_pace and goal.every_fill and goal.p99_ms < GOAL_P99_MS
    print(f"goal (p99 POST -> fill < {GOAL_P99_MS:g} ms at {GOAL_RATE:g} orders/s, every fill, "
          f"no errors): {'met' if met else 'NOT met'} (p99 {goal.p99_ms:.1f} ms at "
          f"{goal.rate:.0f} orders/s).")


# ------------------------------------------------------------------------------- main


def start_stack(workers: int, log_dir: Path, exits: ExitStack) -> Stack:
    """The processor, the relay and the web role with `workers` workers, each logging to a
    file; `exits` stops them (SIGTERM) and closes their logs."""
    def start(name: str, launch: Callable[..., subprocess.Popen[bytes]]
              ) -> subprocess.Popen[bytes]:
        process = launch(log=exits.enter_context((log_dir / f"{name}.log").open("wb")))
        exits.callback(stop_process, process)
        return process

    processor_probes = free_port()
    processor = start("processor", partial(start_role, "run_consumer", "processor",
                                           probe_port=processor_probes))
    relay = start("relay", partial(start_role, "run_relay"))
    port = free_port()
    web = start_server(WEB_ROLE, port, workers,
                       exits.enter_context((log_dir / "web.log").open("wb")))
    exits.callback(web.stop)
    wait_healthy(web, port)
    return Stack(web, processor.pid, processor_probes, relay.pid)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    prepare_venue()
    traders = Traders(*(_headers(create_trader(name, TRADER_FUNDS, f"bench-e2e-{name}"))
                        for name in (MAKER, TAKER)))
    setup_django()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    with ExitStack() as exits:
        try:
            stack = start_stack(args.workers, log_dir, exits)
            fills = FillListener()
            exits.callback(fills.close)
            fills.start()
            wait_ready(stack.web.port, traders, fills)
            results: dict[float, RateResult] = {}
            for rate in args.rates:
                pairs, errors, cpu, phases = run_load(stack, traders, fills, args, rate)
                results[rate] = print_report(pairs, errors, fills, cpu, args, rate)
                print_batches(phases, orders=2 * len(pairs))
        except RuntimeError as exc:
            print(f"benchmarks.end_to_end: {exc}; logs in {log_dir}", file=sys.stderr)
            return 1
        gaps = offset_gaps(stack.processor_probes)
    print_summary(results)
    print(f"offset gaps the broker left on orders: {gaps.get('reread', 0):.0f} re-read, "
          f"{gaps.get('accepted', 0):.0f} taken as real")
    print(f"role logs: {log_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
