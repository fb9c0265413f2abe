"""WebSocket fan-out: how many market data messages per second the `ws` role (daphne)
delivers to N clients subscribed to one symbol's `book` and `trades`, and how late, when
the events come from Kafka through the `ws-bridge` role - beside the same messages put on
the channel layer directly, in the same run.

Two paths, the same events at the same rate (`--rate` per second: book deltas and trades
of BTC-USDT in turn, with a book snapshot every 100 deltas as the processor sends them):

* `bridge`: published on `prices` with the project's producer; `manage.py run_ws_bridge`
  consumes them and `group_send`s each to `md.BTC-USDT.book` or `.trades` through the
  Redis channel layer; the `MarketDataConsumer`s in daphne queue and send them;
* `bare group_send` (the ceiling of this server): this process calls
  `channel_layer.group_send` with the very messages the bridge would send
  (`apps.marketdata.bridge.routes`), so Kafka and the bridge are left out.

The event schema is closed, so no send time travels in a payload: the publisher records
when it handed each event to its path, by book `sequence` and by `trade_id`, and each
client matches what it receives on those. Clients, publisher and clock share this process
(asyncio, `websockets`); latency is publish to receipt, including the client's own
JSON decoding. Events published inside the measured window count; receipts are awaited
`--drain` seconds after it. `delivered` is receipts over events x clients: anything
missing was dropped by a lagging connection's queue (trades are dropped with a notice,
book backlogs become one snapshot) or not delivered in time.

Runs under the launcher (`make bench-ws`): it migrates, loads the demo venue, starts
daphne and the ws-bridge on free ports, and stops them at the end. Everything shares the
machine, so the CPU each process used is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channels.layers import get_channel_layer
from confluent_kafka import KafkaError, Message
from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from apps.marketdata.bridge import routes
from apps.processing import events as executions
from benchmarks.harness import (
    HOST,
    Column,
    Window,
    cpu_used,
    format_cpu,
    free_port,
    percentile_ms,
    prepare_venue,
    print_table,
    process_cpu_seconds,
    setup_django,
    start_daphne,
    start_role,
    stop_process,
    wait_healthy,
)
from oms.events import Event, InvalidEvent, new_event
from oms.kafka.producer import EventProducer
from oms.kafka.topics import PRICES

SYMBOL = "BTC-USDT"
SNAPSHOT_EVERY = 100  # book deltas between two snapshots, as the processor publishes them
PRIME_SECONDS = 90.0
ORIGIN = Origin(f"http://{HOST}:8000")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.websocket_fanout",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="50,200",
                        help="comma-separated numbers of clients, one round each")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="events published per second (book and trades in turn)")
    parser.add_argument("--events", choices=["book+trades", "book"], default="book+trades",
                        help="what is published: book events and trades in turn, or the book")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per path")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="unmeasured publishing before each measurement")
    parser.add_argument("--drain", type=float, default=3.0,
                        help="seconds to wait for the last messages after publishing")
    return parser.parse_args(argv)


# ------------------------------------------------------------------------ the events


class MarketEvents:
    """Book events of one symbol (one sequence for the whole run) and its trades around
    60,000, each stamped with `perf_counter_ns` when `stamp` is called on it."""

    def __init__(self, *, trades: bool, symbol: str = SYMBOL) -> None:
        self.trades = trades
        self.symbol = symbol
        self.sequence = 0
        self.book_sent_ns: dict[int, int] = {}
        self.trade_sent_ns: dict[str, int] = {}
        self._turn = itertools.count()

    def snapshot(self, levels: int) -> Event:
        """A book of `levels` levels a side, one dollar apart around 60,000."""
        self.sequence += 1
        return new_event(executions.BOOK_SNAPSHOT, {
            "symbol": self.symbol, "sequence": self.sequence,
            "bids": [[str(59_999 - level), "0.5"] for level in range(levels)],
            "asks": [[str(60_001 + level), "0.5"] for level in range(levels)]})

    def trade(self) -> Event:
        return new_event(executions.TRADE, {
            "symbol": self.symbol, "trade_id": str(uuid.uuid4()), "price": "60000",
            "quantity": "0.01", "taker_side": "buy"})

    def next(self) -> Event:
        """Trades and book events in turn (or book events only); a book event is a delta,
        or after every 100 deltas a snapshot."""
        if self.trades and next(self._turn) % 2:
            return self.trade()
        if self.sequence % SNAPSHOT_EVERY == 0:
            return self.snapshot(levels=20)
        self.sequence += 1
        price = str(59_000 + self.sequence % 1000)
        return new_event(executions.BOOK_DELTA, {
            "symbol": self.symbol, "sequence": self.sequence, "bids": [[price, "0.1"]],
            "asks": []})

    def stamp(self, event: Event) -> None:
        now = time.perf_counter_ns()
        if event.type == executions.TRADE:
            self.trade_sent_ns[event.payload["trade_id"]] = now
        else:
            self.book_sent_ns[event.payload["sequence"]] = now

    def sent_ns(self, message: dict[str, Any]) -> int | None:
        """When the event a client message carries was published, if it was."""
        if message["type"] == "trade":
            return self.trade_sent_ns.get(message["trade_id"])
        if message["type"] in ("delta", "snapshot"):
            return self.book_sent_ns.get(message["sequence"])
        return None


# ------------------------------------------------------------------------ the clients


@dataclass(slots=True)
class Phase:
    """What the clients count now: receipts of events published inside `window`."""

    window: Window
    latencies_ns: list[int] = field(default_factory=list)
    dropped: int = 0  # announced by the server (`dropped` notices)
    receiving: set[int] = field(default_factory=set)  # clients that received anything


class Clients:
    def __init__(self, port: int, events: MarketEvents) -> None:
        self.port = port
        self.events = events
        self.phase = Phase(Window(0, 0))
        self.connections: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []

    async def connect(self, count: int) -> None:
        for index in range(count):
            connection = await connect(  # Origin: the venue's own page, as a browser sends
                f"ws://{HOST}:{self.port}/ws/market-data", origin=ORIGIN, max_size=None,
                ping_interval=None)
            for channel in ("book", "trades"):
                await connection.send(json.dumps({"action": "subscribe", "symbol": SYMBOL,
                                                  "channel": channel}))
            self.connections.append(connection)
            self.readers.append(asyncio.create_task(self._read(index, connection)))

    async def _read(self, index: int, connection: ClientConnection) -> None:
        try:
            async for raw in connection:
                received_ns = time.perf_counter_ns()
                message = json.loads(raw)
                if message["type"] == "ping":
                    await connection.send('{"type": "pong"}')
                    continue
                phase = self.phase
                if message["type"] == "dropped":
                    phase.dropped += message["count"]
                sent_ns = self.events.sent_ns(message)
                if sent_ns is None:
                    continue
                phase.receiving.add(index)
                if phase.window.start_ns <= sent_ns < phase.window.end_ns:
                    phase.latencies_ns.append(received_ns - sent_ns)
        except ConnectionClosed:
            pass  # closed at the end of the round

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()
        await asyncio.gather(*self.readers)


# -------------------------------------------------------------------------- the paths

Publish = Callable[[Event], Awaitable[None]]


def kafka_path() -> Publish:
    producer = EventProducer(settings.KAFKA_BOOTSTRAP_SERVERS)

    def failed(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            print(f"benchmarks.websocket_fanout: not published: {error}", file=sys.stderr)

    async def publish(event: Event) -> None:
        producer.send(PRICES, key=SYMBOL, event=event, on_delivery=failed)

    return publish


def group_send_path() -> Publish:
    layer = get_channel_layer()

    async def publish(event: Event) -> None:
        for group, message in routes(event):
            await layer.group_send(group, message)

    return publish


async def publish_paced(path: Publish, events: MarketEvents, rate: float, until_ns: int) -> int:
    """Publish at `rate` events per second until `until_ns`; return how many."""
    period_ns = round(1e9 / rate)
    due_ns = time.perf_counter_ns()
    sent = 0
    while due_ns < until_ns:
        await asyncio.sleep(max(0.0, (due_ns - time.perf_counter_ns()) / 1e9))
        event = events.next()
        events.stamp(event)
        await path(event)
        sent += 1
        due_ns += period_ns
    return sent


async def prime(path: Publish, clients: Clients, count: int) -> None:
    """Publish until every client receives (the bridge has joined its group, every
    subscription is live)."""
    clients.phase = Phase(Window(0, 0))
    deadline = time.monotonic() + PRIME_SECONDS
    while len(clients.phase.receiving) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(clients.phase.receiving)} of {count} clients "
                               f"received within {PRIME_SECONDS:.0f} s")
        await publish_paced(path, clients.events, 20.0, time.perf_counter_ns() + 200_000_000)


# ----------------------------------------------------------------------------- a round


@dataclass(frozen=True, slots=True)
class Result:
    label: str
    clients: int
    published: int
    seconds: float
    latencies_ns: list[int]  # sorted
    dropped: int
    daphne_cpu: float | None
    bridge_cpu: float | None
    client_cpu: float

    @property
    def rate(self) -> float:
        return len(self.latencies_ns) / self.seconds

    @property
    def delivered(self) -> float:
        return len(self.latencies_ns) / (self.published * self.clients or 1)


@dataclass(frozen=True, slots=True)
class Processes:
    daphne: int
    bridge: int


async def measure(label: str, path: Publish, clients: Clients, count: int,
                  processes: Processes, args: argparse.Namespace) -> Result:
    await prime(path, clients, count)
    start_ns = time.perf_counter_ns() + int(args.warmup * 1e9)
    window = Window(start_ns, start_ns + int(args.seconds * 1e9))
    await publish_paced(path, clients.events, args.rate, window.start_ns)
    clients.phase = phase = Phase(window)
    pids = (processes.daphne, processes.bridge)
    before = [process_cpu_seconds(pid) for pid in pids]
    client_before = time.process_time()
    published = await publish_paced(path, clients.events, args.rate, window.end_ns)
    after = [process_cpu_seconds(pid) for pid in pids]
    client_after = time.process_time()
    await asyncio.sleep(args.drain)
    daphne_cpu, bridge_cpu = (cpu_used(b, a, args.seconds) for b, a in zip(before, after,
                                                                           strict=True))
    return Result(label=label, clients=count, published=published, seconds=args.seconds,
                  latencies_ns=sorted(phase.latencies_ns), dropped=phase.dropped,
                  daphne_cpu=daphne_cpu, bridge_cpu=bridge_cpu,
                  client_cpu=(client_after - client_before) / args.seconds)


async def run_rounds(port: int, processes: Processes, args: argparse.Namespace) -> list[Result]:
    events = MarketEvents(trades=args.events == "book+trades")
    paths = [("bare group_send", group_send_path()), ("bridge (Kafka)", kafka_path())]
    results = []
    for count in (int(text) for text in args.clients.split(",")):
        clients = Clients(port, events)
        await clients.connect(count)
        for label, path in paths:
            results.append(await measure(label, path, clients, count, processes, args))
        await clients.close()
    return results


# ---------------------------------------------------------------------------- report

TABLE = (Column("path", 17, left=True), Column("clients", 8), Column("events/s", 9, ".0f"),
         Column("msgs/s", 9, ".0f"), Column("delivered", 10, ".1%"), Column("dropped", 8),
         Column("p50 ms", 8, ".2f"), Column("p99 ms", 8, ".2f"), Column("ratio", 7, ".2f"),
         Column("daphne", 7), Column("bridge", 7), Column("cli cpu", 8))


def print_report(results: list[Result], args: argparse.Namespace) -> None:
    print(f"\nOne daphne (ws role), clients subscribed to {SYMBOL} book + trades, "
          f"{args.rate:g} events/s published\n({args.events}), "
          f"{args.warmup:g} s warm-up then {args.seconds:g} s per path. Clients, publisher "
          f"and\nservers share this {os.cpu_count()}-CPU machine; cpu columns are cores used "
          "(bridge: run_ws_bridge, idle on the bare path).")
    ceilings = {result.clients: result.rate for result in results
                if result.label.startswith("bare")}
    print_table(TABLE, [
        [result.label, result.clients, result.published / result.seconds, result.rate,
         result.delivered, result.dropped, percentile_ms(result.latencies_ns, 50),
         percentile_ms(result.latencies_ns, 99),
         result.rate / (ceilings[result.clients] or math.nan),
         format_cpu(result.daphne_cpu), format_cpu(result.bridge_cpu),
         format_cpu(result.client_cpu)]
        for result in results])
    print("msgs/s = messages received by all clients together; latency from publish to "
          "receipt;\nratio = msgs/s over the bare group_send path with as many clients.")


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    prepare_venue()
    setup_django()
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="bench-ws-", suffix=".log", delete=False) as log:
        server = start_daphne(port, log)
        bridge = start_role("run_ws_bridge", log=log)
        try:
            wait_healthy(server, port)
            results = asyncio.run(run_rounds(port, Processes(server.pid, bridge.pid), args))
        except (RuntimeError, InvalidEvent) as exc:
            print(f"benchmarks.websocket_fanout: {exc}; the servers' log: {log.name}",
                  file=sys.stderr)
            return 1
        finally:
            stop_process(bridge)
            stop_process(server)
    print_report(results, args)
    Path(log.name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
