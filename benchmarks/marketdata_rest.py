"""Market data REST throughput: `GET /api/market-data/prices/{symbol}` and
`orderbook/{symbol}` on the web role as the Procfile runs it (gunicorn, `config.gunicorn`,
one worker per CPU), beside the reference views of `benchmarks.reference_views` under the
same server process, measured the same way in the same run.

Both market data views are public (no authentication). `orderbook` reads the book the
marketdata role caches in Redis (`orderbook:{symbol}`, here 50 levels a side, rendered at
the default depth of 50); `prices` reads the price copy the same role caches
(`price:{symbol}`: the last `price.tick` with the last trade and the day's change and
volume). Each is one Redis round trip. To tell how much of that is ours, the same
load goes, one workload after another, to `bare Django` (the server's ceiling) and
`bare DRF` (a DRF view with token authentication and a small JSON body: DRF's own cost).

The marketdata role runs throughout (it keeps the Redis copies fresh, with their 1 s
TTL), fed one book snapshot on `prices`. Every workload: `--clients` threads, each with one
keep-alive connection sending GETs back to back for `--seconds` after a warm-up; answers
outside the measured window are not counted, anything but 200 is an error. The figures,
table and result types are those of `benchmarks.ingest`; `cpu ms/req` is the CPU of the
server's processes (master and workers) per request.

Runs under the launcher (`make bench-md-rest`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from django.conf import settings

from benchmarks.harness import (
    HOST,
    WEB_ROLE,
    Served,
    free_port,
    prepare_venue,
    print_table,
    setup_django,
    start_role,
    start_web,
    stop_process,
    wait_healthy,
)
from benchmarks.harness import create_trader as create_funded_trader
from benchmarks.ingest import (
    BARE_DRF,
    CEILING,
    TABLE,
    Result,
    Workload,
    run_workload,
    table_rows,
)
from benchmarks.websocket_fanout import SYMBOL, MarketEvents
from oms.kafka.producer import EventProducer
from oms.kafka.topics import PRICES

BOOK_LEVELS = 50
PRICES_VIEW = Workload("prices", f"/api/market-data/prices/{SYMBOL}")
ORDERBOOK_VIEW = Workload("orderbook", f"/api/market-data/orderbook/{SYMBOL}")
WORKLOADS = (CEILING, BARE_DRF, PRICES_VIEW, ORDERBOOK_VIEW)
READY_SECONDS = 60.0
GOAL_RATIO = 0.5


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.marketdata_rest",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="measured time per workload")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="unmeasured time before each workload's measurement")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="the web role's workers; default one per CPU")
    return parser.parse_args(argv)


def get_json(port: int, path: str) -> object:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def feed_book(port: int) -> None:
    """Publish a book snapshot on `prices` and wait for the marketdata role to cache it."""
    producer = EventProducer(settings.KAFKA_BOOTSTRAP_SERVERS)
    producer.publish(PRICES, key=SYMBOL, event=MarketEvents(trades=False).snapshot(BOOK_LEVELS))
    producer.close()
    deadline = time.monotonic() + READY_SECONDS
    while len(get_json(port, ORDERBOOK_VIEW.path)["bids"]) < BOOK_LEVELS:  # type: ignore[index]
        if time.monotonic() > deadline:
            raise RuntimeError(f"no cached book within {READY_SECONDS:.0f} s")
        time.sleep(0.5)


def print_report(results: list[Result], args: argparse.Namespace) -> None:
    _ceiling, bare_drf, *views = results
    print(f"\n{args.clients} clients (threads, keep-alive HTTP/1.1, GET back to back), "
          f"{args.warmup:g} s warm-up then {args.seconds:g} s per workload; the web role "
          f"(gunicorn, {args.workers} workers).\nClient, server and the marketdata role share "
          f"this {os.cpu_count()}-CPU machine; srv cpu = cores used by the web role's "
          "processes,\ncli cpu = by this load generator. ratio = req/s over the bare DRF "
          "view's; latency is mostly queueing.")
    drf_rate = bare_drf.rate
    print_table(TABLE, table_rows(results, {result.label: drf_rate for result in results}))
    ratios = {view.label: view.rate / drf_rate for view in views}
    print(", ".join(f"{label} / bare DRF = {ratio:.2f}" for label, ratio in ratios.items())
          + f" (goal >= {GOAL_RATIO:g})")
    met = all(ratio >= GOAL_RATIO for ratio in ratios.values())
    print(f"goal: {'met' if met else 'NOT met'}.")


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    prepare_venue()
    token = create_funded_trader("benchmdrest", {"USDT": "1"}, "bench-md-rest")
    setup_django()
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="bench-md-rest-", suffix=".log",
                                     delete=False) as log:
        server = start_web(port, log, workers=args.workers,
                           env={"OMS_ROOT_URLCONF": "benchmarks.reference_views"})
        served = Served(WEB_ROLE, [server], port)
        marketdata = start_role("run_consumer", "marketdata", log=log)
        try:
            wait_healthy(server, port)
            feed_book(port)
            load = partial(run_workload, served=served, token=token, args=args, method="GET")
            results = [load(workload) for workload in WORKLOADS]
        except RuntimeError as exc:
            print(f"benchmarks.marketdata_rest: {exc}; the servers' log: {log.name}",
                  file=sys.stderr)
            return 1
        finally:
            stop_process(marketdata)
            stop_process(server)
    print_report(results, args)
    if any(result.errors for result in results):
        print(f"Errors were counted; the servers' log: {log.name}", file=sys.stderr)
        return 1
    Path(log.name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
