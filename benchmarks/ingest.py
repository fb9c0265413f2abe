"""Order entry throughput and latency: `POST /api/orders` under the web role's server,
beside two reference views, and the reference views under every candidate server, all in
one run.

Order entry (D6) checks the order, makes one Redis round trip (rate limits, the claims of
the idempotency key and the client order id, the entry cache), publishes it on Kafka and
waits for the acknowledgement, so its cost is DRF plus those round trips. To tell how much
of it is ours, the same load is sent, one workload after another, to:

* `bare Django` (`/bench/bare-django`): a plain Django JSON view behind the same middleware,
  no authentication, no database - the ceiling of a server;
* `bare DRF` (`/bench/bare-drf`): a DRF `APIView` with the same token authentication,
  answering a small JSON body - DRF's own cost;
* `orders` (`/api/orders`): real limit orders, each with a unique `client_order_id` so
  none is a duplicate; 202 is success.

First the two reference views run under each candidate server with the same number of
workers (one per CPU): daphne (its processes sharing one socket, as it has no workers of
its own), uvicorn with httptools and uvloop (ASGI), gunicorn with sync and with gthread
workers and granian (WSGI). That table is how the web role's server was chosen. Then the
web role as the Procfile runs it (`gunicorn -c python:config.gunicorn`) takes all three
workloads back to back, whose latency is mostly queueing; the goal (order entry at half
the bare DRF view's rate or more, p99 under 25 ms when offered half that rate) needs
latency at a given rate, so order entry is loaded once more, paced at half the bare DRF
view's measured rate, with latency counted from each scheduled send (no coordinated
omission). "Half of that ceiling" can also be read as half of what order entry itself
sustains: a last paced load at that rate prints that reading too (the verdict keeps the
first, stricter one).

Every workload gets the same request (a JSON limit order, `Authorization: Token ...`), the
same number of clients and the same duration after a warm-up. Each client is a thread with
one keep-alive `http.client.HTTPConnection` (it reconnects when a server closes it, as
gunicorn's sync workers do after every response); latency is taken with `perf_counter_ns`.
Requests answered outside the measured window are not counted; any non-2xx answer or
connection failure is an error. CPU is that of every process of the server (master and
workers) inside the window; `cpu ms/req` divides it by the requests answered, which for
order entry is the CPU per order.

Runs under the launcher (`make bench-ingest`): it migrates, loads the demo venue, creates a
funded trader, starts each server with the reference routes and raised rate limits on a
free port, and stops it before the next. The load generator and the servers share the
machine, so the CPU each used is printed with the figures.
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
from typing import IO

from benchmarks.harness import (
    HOST,
    PEER_SERVERS,
    WEB_ROLE,
    Column,
    HttpServer,
    Served,
    Window,
    client_clocks,
    format_cpu,
    free_port,
    percentile_ms,
    prepare_venue,
    print_table,
    sleep_until,
    start_server,
    wait_healthy,
)
from benchmarks.harness import create_trader as create_funded_trader

TRADER = "benchtrader"
GOAL_RATIO, GOAL_P99_MS, GOAL_SERVER_RATIO, GOAL_CPU_MS = 0.5, 25.0, 3.0, 3.0
REFERENCE_URLCONF = {"OMS_ROOT_URLCONF": "benchmarks.reference_views"}


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    path: str


CEILING = Workload("bare Django", "/bench/bare-django")
BARE_DRF = Workload("bare DRF", "/bench/bare-drf")
ORDERS = Workload("orders", "/api/orders")
REFERENCE_WORKLOADS = (CEILING, BARE_DRF)


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
    server_cpu: float  # CPU seconds per wall second of every server process (1.0 = a core)
    client_cpu: float
    server: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu * self.seconds * 1000 / self.requests if self.requests else 0.0

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
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="workers (processes) of every server; default one per CPU")
    parser.add_argument("--web-role-only", action="store_true",
                        help="skip the peer servers: only the web role's three workloads")
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


def run_workload(workload: Workload, *, served: Served, token: str, args: argparse.Namespace,
                 rate: float | None = None, method: str = "POST") -> Result:
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
                   served.port, workload.path, headers,
                   f"{run_id}-{index}" if method == "POST" else None, window, clock, tally))
               for index, (tally, clock) in enumerate(zip(tallies, clocks, strict=True))]
    for thread in threads:
        thread.start()
    sleep_until(window.start_ns)
    server_before, client_before = served.cpu_seconds(), time.process_time()
    sleep_until(window.end_ns)
    server_after, client_after = served.cpu_seconds(), time.process_time()
    for thread in threads:
        thread.join()
    latencies = sorted(ns for tally in tallies for ns in tally.latencies_ns)
    label = workload.name if rate is None else f"{workload.name} @{rate:.0f}/s"
    return Result(label=label, requests=len(latencies),
                  errors=sum(tally.errors for tally in tallies), seconds=args.seconds,
                  latencies_ns=latencies,
                  server_cpu=(server_after - server_before) / args.seconds,
                  client_cpu=(client_after - client_before) / args.seconds,
                  server=served.server.name)


TABLE = (Column("server", 19, left=True), Column("workload", 18, left=True),
         Column("requests", 9), Column("errors", 7), Column("req/s", 8, ".0f"),
         Column("p50 ms", 8, ".2f"), Column("p99 ms", 8, ".2f"), Column("ratio", 7, ".2f"),
         Column("srv cpu", 8), Column("cpu ms/req", 11, ".2f"), Column("cli cpu", 8))


def table_rows(results: list[Result], reference: dict[str, float]) -> list[list[object]]:
    """One line per result; `ratio` is req/s over `reference[workload]` (the same workload
    under daphne, or for order entry the bare DRF view under the same server)."""
    return [[result.server, result.label, result.requests, result.errors, result.rate,
             result.percentile_ms(50), result.percentile_ms(99),
             result.rate / reference[result.label.split(" @")[0]],
             format_cpu(result.server_cpu), result.cpu_ms_per_request,
             format_cpu(result.client_cpu)] for result in results]


def print_report(peers: list[Result], web: list[Result], args: argparse.Namespace) -> None:
    """The servers' table, then the web role's, then order entry against the goals."""
    print(f"\n{args.clients} clients (threads, keep-alive HTTP/1.1), {args.warmup:g} s warm-up "
          f"then {args.seconds:g} s per workload; {args.workers} workers per server.\n"
          f"Client and servers share this {os.cpu_count()}-CPU machine; srv cpu = cores used "
          "by every process of the server,\ncli cpu = by this load generator.")
    _ceiling, bare_drf, orders, paced, half_own = web
    daphne = {result.label: result.rate for result in peers if result.server == "daphne"}
    if peers:
        print("\nThe reference views under each server (ratio = req/s over daphne's):")
        print_table(TABLE, table_rows(peers, daphne))
    print("\nThe web role (ratio = req/s over its bare DRF view's). The first three send back "
          "to back,\nso their latency is mostly queueing; the last two send orders at "
          f"{GOAL_RATIO:g} x the bare DRF view's rate\nand at half their own, their latency "
          "counted from each scheduled send.")
    drf_rate = bare_drf.rate
    print_table(TABLE, table_rows(web, {"bare Django": drf_rate, "bare DRF": drf_rate,
                                        "orders": drf_rate}))
    to_drf = orders.rate / bare_drf.rate
    kept_pace = paced.rate >= 0.95 * GOAL_RATIO * bare_drf.rate
    errors = any(result.errors for result in [*peers, *web])
    lines = [
        f"orders / bare DRF = {to_drf:.2f} (goal >= {GOAL_RATIO:g})",
        f"p99 of orders offered at {paced.label.split('@')[1]} = {paced.percentile_ms(99):.1f}"
        f" ms{'' if kept_pace else ' (rate NOT sustained)'} (goal < {GOAL_P99_MS:g} ms)",
        f"p99 of orders offered at half their own rate ({half_own.label.split('@')[1]}) = "
        f"{half_own.percentile_ms(99):.1f} ms (the other reading of the goal)",
        f"CPU per order = {orders.cpu_ms_per_request:.2f} ms (goal <= {GOAL_CPU_MS:g} ms; the "
        f"bare DRF view: {bare_drf.cpu_ms_per_request:.2f} ms)",
    ]
    met = (to_drf >= GOAL_RATIO and kept_pace and paced.percentile_ms(99) < GOAL_P99_MS
           and orders.cpu_ms_per_request <= GOAL_CPU_MS and not errors)
    if "bare DRF" in daphne:
        server_ratio = bare_drf.rate / daphne["bare DRF"]
        lines.append(f"web role's bare DRF / daphne's = {server_ratio:.2f} "
                     f"(goal >= {GOAL_SERVER_RATIO:g})")
        met = met and server_ratio >= GOAL_SERVER_RATIO
    print("\n".join(lines))
    print(f"goals (and no errors): {'met' if met else 'NOT met'}.")


def measure(server: HttpServer, workloads: tuple[Workload, ...], *, token: str,
            args: argparse.Namespace, log: IO[bytes], paced_orders: bool = False
            ) -> list[Result]:
    """Start `server`, load each workload in turn (then, with `paced_orders`, orders at
    half the bare DRF view's rate and at half their own), and stop it."""
    port = free_port()
    served = start_server(server, port, args.workers, log, env=REFERENCE_URLCONF)
    try:
        wait_healthy(served, port)
        load = partial(run_workload, served=served, token=token, args=args)
        results = [load(workload) for workload in workloads]
        if paced_orders:
            drf = next(result for result in results if result.label == BARE_DRF.name)
            results.append(load(ORDERS, rate=GOAL_RATIO * drf.rate))
            orders = next(result for result in results if result.label == ORDERS.name)
            results.append(load(ORDERS, rate=orders.rate / 2))
        return results
    finally:
        served.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    prepare_venue()
    token = create_trader()
    with tempfile.NamedTemporaryFile(prefix="bench-ingest-", suffix=".log",
                                     delete=False) as log:
        try:
            peers = [] if args.web_role_only else [
                result for server in PEER_SERVERS
                for result in measure(server, REFERENCE_WORKLOADS, token=token, args=args,
                                      log=log)]
            web = measure(WEB_ROLE, (*REFERENCE_WORKLOADS, ORDERS), token=token, args=args,
                          log=log, paced_orders=True)
        except RuntimeError as exc:
            print(f"benchmarks.ingest: {exc}; the servers' log: {log.name}", file=sys.stderr)
            return 1
    print_report(peers, web, args)
    if any(result.errors for result in [*peers, *web]):
        print(f"Errors were counted; the servers' log: {log.name}", file=sys.stderr)
        return 1
    Path(log.name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
