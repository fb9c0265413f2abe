"""Order entry throughput and latency: `POST /api/orders` on a running web role, beside two
reference views measured the same way in the same run.

Order entry (D6) checks the order, claims its client order id in Redis, publishes it on
Kafka and waits for the acknowledgement, so its cost is DRF plus those round trips. To tell
how much of it is ours, the same load is sent, one workload after another, to:

* `bare Django` (`/bench/bare-django`): a plain Django JSON view behind the same middleware,
  no authentication, no database - the ceiling of this server;
* `bare DRF` (`/bench/bare-drf`): a DRF `APIView` with the same token authentication,
  answering a small JSON body - DRF's own cost;
* `orders` (`/api/orders`): real limit orders, each with a unique `client_order_id` so
  none is a duplicate; 202 is success.

Those three send back to back, so their latency is mostly queueing. The goal (order entry
at half the ceiling's rate or more, with p99 under 25 ms at that rate) needs latency at a
given rate, so order entry is then loaded once more, paced at half the ceiling's measured
rate, with latency counted from each scheduled send (no coordinated omission).

Every workload gets the same request (a JSON limit order, `Authorization: Token ...`), the
same number of clients and the same duration after a warm-up. Each client is a thread with
one keep-alive `http.client.HTTPConnection`; latency is taken with `perf_counter_ns`.
Requests answered outside the measured window are not counted; any non-2xx answer or
connection failure is an error. (Threads suffice: the load generator uses about 0.05 of a
core while the server is saturated.)

Runs under the launcher (`make bench-ingest`): it migrates, loads the demo venue, creates a
funded trader, starts daphne with the reference routes and raised rate limits on a free
port, and stops it at the end. The load generator and the server share the machine, so the
CPU each used is printed with the figures.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from benchmarks.harness import (
    DEFAULT_ASGI_THREADS,
    HOST,
    Column,
    Window,
    client_clocks,
    cpu_used,
    format_cpu,
    free_port,
    percentile_ms,
    prepare_venue,
    print_table,
    process_cpu_seconds,
    sleep_until,
    start_daphne,
    stop_process,
    wait_healthy,
)
from benchmarks.harness import create_trader as create_funded_trader

TRADER = "benchtrader"
GOAL_RATIO, GOAL_P99_MS = 0.5, 25.0


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    path: str


CEILING = Workload("bare Django", "/bench/bare-django")
BARE_DRF = Workload("bare DRF", "/bench/bare-drf")
ORDERS = Workload("orders", "/api/orders")
WORKLOADS = (CEILING, BARE_DRF, ORDERS)


@dataclass(slots=True)
class Tally:
    """What one client saw inside the measured window."""

    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True, slots=True)
class Result:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies_ns: list[int]  # sorted
    server_cpu: float | None  # CPU seconds per wall second (1.0 = one core busy)
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, percent: float) -> float:
        return percentile_ms(self.latencies_ns, percent)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="measured time per workload")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="unmeasured time before each workload's measurement")
    parser.add_argument("--asgi-threads", type=int, default=DEFAULT_ASGI_THREADS,
                        help="ASGI_THREADS of the daphne under test")
    return parser.parse_args(argv)


def create_trader() -> str:
    """The API token of a well-funded trader."""
    return create_funded_trader(TRADER, {"USDT": "100000000"}, "bench-ingest")


def order_body(client_order_id: str, sequence: int) -> bytes:
    """A valid BTC-USDT limit buy; the price walks the 0.01 tick from 20000.00 to 20999.99."""
    cents = sequence % 100_000
    return (
        '{"symbol":"BTC-USDT","side":"buy","type":"limit","quantity":"0.001",'
        f'"price":"{20_000 + cents // 100}.{cents % 100:02d}",'
        f'"client_order_id":"{client_order_id}"}}'
    ).encode()


def run_client(port: int, path: str, headers: dict[str, str], id_prefix: str | None,
               window: Window, clock: Iterator[int], tally: Tally) -> None:
    """Send each request at the time `clock` gives (now, for back to back) until the window
    ends; tally those inside it. Latency counts from that time, so a paced client that
    falls behind reports the delay instead of hiding it."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    for sequence, started in enumerate(clock):
        if started >= window.end_ns:
            break
        # With an id prefix, each request places an order; without, it is a plain GET.
        body = None if id_prefix is None else order_body(f"{id_prefix}-{sequence}", sequence)
        sleep_until(started)
        try:
            connection.request("GET" if body is None else "POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            ok = 200 <= response.status < 300
        except (OSError, http.client.HTTPException):
            connection.close()  # the next request reconnects
            ok = False
        finished = time.perf_counter_ns()
        if started >= window.start_ns and finished <= window.end_ns:
            if ok:
                tally.latencies_ns.append(finished - started)
            else:
                tally.errors += 1
    connection.close()


def run_workload(workload: Workload, *, port: int, server_pid: int, token: str,
                 args: argparse.Namespace, rate: float | None = None,
                 method: str = "POST") -> Result:
    """Load one workload (orders POSTed, or a plain GET): closed loop, or paced at `rate`
    requests per second."""
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "Authorization": f"Token {token}"}
    now_ns = time.perf_counter_ns()
    start_ns = now_ns + int(args.warmup * 1e9)
    window = Window(start_ns, start_ns + int(args.seconds * 1e9))
    run_id = uuid.uuid4().hex[:12]
    tallies = [Tally() for _ in range(args.clients)]
    clocks = client_clocks(args.clients, now_ns, rate)
    threads = [threading.Thread(target=run_client, args=(
                   port, workload.path, headers,
                   f"{run_id}-{index}" if method == "POST" else None, window, clock, tally))
               for index, (tally, clock) in enumerate(zip(tallies, clocks, strict=True))]
    for thread in threads:
        thread.start()
    sleep_until(window.start_ns)
    server_before, client_before = process_cpu_seconds(server_pid), time.process_time()
    sleep_until(window.end_ns)
    server_after, client_after = process_cpu_seconds(server_pid), time.process_time()
    for thread in threads:
        thread.join()
    latencies = sorted(ns for tally in tallies for ns in tally.latencies_ns)
    server_cpu = cpu_used(server_before, server_after, args.seconds)
    label = workload.name if rate is None else f"{workload.name} @{rate:.0f}/s"
    return Result(label=label, requests=len(latencies),
                  errors=sum(tally.errors for tally in tallies), seconds=args.seconds,
                  latencies_ns=latencies, server_cpu=server_cpu,
                  client_cpu=(client_after - client_before) / args.seconds)


TABLE = (Column("name", 20, left=True), Column("requests", 9), Column("errors", 7),
         Column("req/s", 8, ".0f"), Column("p50 ms", 8, ".2f"), Column("p95 ms", 8, ".2f"),
         Column("p99 ms", 8, ".2f"), Column("ratio", 7, ".2f"), Column("srv cpu", 8),
         Column("cli cpu", 8))


def print_report(results: list[Result], paced: Result, args: argparse.Namespace) -> None:
    """The table, then order entry against the reference views and against the goal."""
    ceiling, bare_drf, orders = results
    print(f"\n{args.clients} clients (threads, keep-alive HTTP/1.1), {args.warmup:g} s warm-up "
          f"then {args.seconds:g} s per workload; daphne with ASGI_THREADS={args.asgi_threads}.")
    print(f"Client and server share this {os.cpu_count()}-CPU machine; the cpu columns are "
          "cores used\n(srv = daphne, cli = this load generator).")
    print_table(TABLE, [
        [result.label, result.requests, result.errors, result.rate, result.percentile_ms(50),
         result.percentile_ms(95), result.percentile_ms(99), result.rate / ceiling.rate,
         format_cpu(result.server_cpu), format_cpu(result.client_cpu)]
        for result in [*results, paced]
    ])
    print("ratio = req/s over bare Django's. The first three rows send back to back, so their\n"
          "latency is mostly queueing (about clients / rate); the last sends orders at "
          f"{GOAL_RATIO:g} x the\nceiling's rate, its latency counted from each scheduled send.")
    to_ceiling, to_drf = orders.rate / ceiling.rate, orders.rate / bare_drf.rate
    kept_pace = paced.rate >= 0.95 * GOAL_RATIO * ceiling.rate
    met = (to_ceiling >= GOAL_RATIO and kept_pace and paced.percentile_ms(99) < GOAL_P99_MS
           and not any(result.errors for result in [*results, paced]))
    print(f"orders / ceiling = {to_ceiling:.2f}, orders / bare DRF = {to_drf:.2f}\n"
          f"goal (>= {GOAL_RATIO:g} x the ceiling's rate, p99 < {GOAL_P99_MS:g} ms at that rate, "
          f"no errors): {'met' if met else 'NOT met'}.")


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    prepare_venue()
    token = create_trader()
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="bench-ingest-daphne-", suffix=".log",
                                     delete=False) as log:
        server = start_daphne(port, log, asgi_threads=args.asgi_threads,
                              env={"OMS_ROOT_URLCONF": "benchmarks.reference_views"})
        try:
            wait_healthy(server, port)
            load = partial(run_workload, port=port, server_pid=server.pid, token=token,
                           args=args)
            results = [load(workload) for workload in WORKLOADS]
            paced = load(ORDERS, rate=GOAL_RATIO * results[0].rate)
        except RuntimeError as exc:
            print(f"benchmarks.ingest: {exc}; daphne's log: {log.name}", file=sys.stderr)
            return 1
        finally:
            stop_process(server)
    print_report(results, paced, args)
    if any(result.errors for result in [*results, paced]):
        print(f"Errors were counted; daphne's log: {log.name}", file=sys.stderr)
        return 1
    Path(log.name).unlink()
    return 0

if __name__ == "__main__":
    sys.exit(main())
