"""WebSocket fan-out: how many messages per second the `ws` role (daphne, its in-process
hub fed from Kafka) delivers to 1,000 clients, how late, and how many are lost without a
`gap` marker - beside a bare `websockets` broadcast server in the same run.

Three rounds, each `--seconds` long after `--warmup`:

* `peer (bare websockets)`: a subprocess running `websockets.broadcast` to every client
  of each message one publisher connection sends it (no Kafka, no JSON per client, no
  sequencing): the ceiling of Python on this machine;
* `ours, public book`: the same clients subscribed to BTC-USDT's `book` on daphne;
  `book.delta` events (a snapshot every 100) published on `prices` at `--rate`;
* `ours, private fills`: `--clients` users, each on `/ws/orders` with its own ticket,
  `--fill-rate` `order.fill` events per second in total on `executions`, round robin.

Each client checks its stream by sequence: a book delta must follow the last delta or
snapshot, a fill the last fill; anything else without a `gap` marker in between counts as
`lost`. Latency is publish to receipt (publisher and clients share this process and its
clock), including the client's JSON decoding. Runs under the launcher (`make bench-ws`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, Message
from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from benchmarks.harness import (
    HOST,
    Column,
    cpu_used,
    format_cpu,
    free_port,
    percentile_ms,
    prepare_venue,
    print_table,
    process_cpu_seconds,
    setup_django,
    start_daphne,
    stop_process,
    wait_healthy,
)
from oms.events import Event, new_event
from oms.kafka.producer import EventProducer
from oms.kafka.topics import EXECUTIONS, PRICES

SYMBOL = "BTC-USDT"
SNAPSHOT_EVERY = 100  # book deltas between two snapshots, as the processor publishes them
CONNECT_BATCH = 50


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.websocket_fanout",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0,
                        help="public book events per second (x clients = messages/s)")
    parser.add_argument("--fill-rate", type=float, default=500.0,
                        help="private fills per second in total")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--drain", type=float, default=3.0)
    parser.add_argument("--peer-server", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------- the bare peer server


async def peer_server(port: int) -> None:
    """Every message any connection sends goes to all the others, as is."""
    clients: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        clients.add(connection)
        try:
            async for message in connection:
                broadcast(clients - {connection}, message)
        finally:
            clients.discard(connection)

    async with serve(handler, HOST, port, max_size=None, ping_interval=None):
        await asyncio.Future()


# ---------------------------------------------------------------------- the counting


@dataclass(slots=True)
class Tally:
    """What the clients received of messages published inside the measured window."""

    start_ns: int = 0
    end_ns: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    lost: int = 0  # sequences skipped with no gap marker and no snapshot
    gaps: int = 0  # gap markers received


class Stamps:
    """When each message was published, by its key (book sequence or fill id)."""

    def __init__(self) -> None:
        self.sent_ns: dict[Any, int] = {}
        self.tally = Tally()

    def stamp(self, key: Any) -> None:
        self.sent_ns[key] = time.perf_counter_ns()

    def receipt(self, key: Any, received_ns: int) -> None:
        sent = self.sent_ns.get(key)
        if sent is not None and self.tally.start_ns <= sent < self.tally.end_ns:
            self.tally.latencies_ns.append(received_ns - sent)


class Reader:
    """One client: reads, answers pings, checks its sequences."""

    def __init__(self, connection: ClientConnection, stamps: Stamps, private: bool) -> None:
        self.connection = connection
        self.stamps = stamps
        self.private = private
        self.last: int | None = None
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        try:
            async for raw in self.connection:
                received_ns = time.perf_counter_ns()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await self.connection.send('{"type":"pong"}')
                elif kind == "gap":
                    self.stamps.tally.gaps += 1
                    self.last = None
                elif kind in ("snapshot", "delta", "execution", "peer"):
                    self.check(message, kind)
                    key = message["payload"]["fill_id"] if kind == "execution" \
                        else message["sequence"]
                    self.stamps.receipt(key, received_ns)
        except ConnectionClosed:
            pass

    def check(self, message: dict[str, Any], kind: str) -> None:
        seq = message["seq"] if kind != "peer" else message["sequence"]
        if kind != "snapshot" and self.last is not None and seq != self.last + 1:
            self.stamps.tally.lost += max(seq - self.last - 1, 0)
        self.last = seq


async def open_clients(urls: list[str], stamps: Stamps, private: bool,
                       subscribe: str | None) -> list[Reader]:
    readers: list[Reader] = []
    for first in range(0, len(urls), CONNECT_BATCH):
        connections = await asyncio.gather(*(
            connect(url, max_size=None, ping_interval=None, open_timeout=60)
            for url in urls[first:first + CONNECT_BATCH]))
        for connection in connections:
            if subscribe:
                await connection.send(subscribe)
            readers.append(Reader(connection, stamps, private))
    return readers


async def close_clients(readers: list[Reader]) -> None:
    await asyncio.gather(*(reader.connection.close() for reader in readers))
    await asyncio.gather(*(reader.task for reader in readers))


# ---------------------------------------------------------------------- publishing

Publish = Callable[[], Awaitable[Any]]


async def paced(publish: Publish, rate: float, until_ns: int) -> int:
    period_ns = round(1e9 / rate)
    due_ns = time.perf_counter_ns()
    sent = 0
    while due_ns < until_ns:
        await asyncio.sleep(max(0.0, (due_ns - time.perf_counter_ns()) / 1e9))
        await publish()
        sent += 1
        due_ns += period_ns
    return sent


def _failed(error: KafkaError | None, _message: Message) -> None:
    if error is not None:
        print(f"benchmarks.websocket_fanout: not published: {error}", file=sys.stderr)


class BookEvents:
    """BTC-USDT book events, one sequence for the whole run."""

    def __init__(self, stamps: Stamps) -> None:
        self.stamps = stamps
        self.sequence = 0

    def next(self) -> Event:
        self.sequence += 1
        kind = "book.snapshot" if self.sequence % SNAPSHOT_EVERY == 1 else "book.delta"
        bids = ([[str(59_999 - level), "0.5"] for level in range(20)]
                if kind == "book.snapshot" else [[str(59_000 + self.sequence % 1000), "0.1"]])
        self.stamps.stamp(self.sequence)
        return new_event(kind, {"symbol": SYMBOL, "sequence": self.sequence, "bids": bids,
                                "asks": []})


# --------------------------------------------------------------------------- rounds


@dataclass(frozen=True, slots=True)
class Result:
    label: str
    clients: int
    published: int
    seconds: float
    tally: Tally
    server_cpu: float | None

    @property
    def rate(self) -> float:
        return len(self.tally.latencies_ns) / self.seconds

    @property
    def delivered(self) -> float:
        return len(self.tally.latencies_ns) / (self.published * self.clients or 1)


async def measure(label: str, publish: Publish, rate: float, clients: int, fanout: int,
                  stamps: Stamps, pid: int, args: argparse.Namespace) -> Result:
    """Warm up, then publish at `rate` for the window; each message reaches `fanout`
    clients."""
    await paced(publish, rate, time.perf_counter_ns() + int(args.warmup * 1e9))
    start = time.perf_counter_ns()
    stamps.tally = tally = Tally(start, start + int(args.seconds * 1e9))
    before = process_cpu_seconds(pid)
    published = await paced(publish, rate, tally.end_ns)
    after = process_cpu_seconds(pid)
    await asyncio.sleep(args.drain)
    tally.latencies_ns.sort()
    return Result(label, clients, published * fanout // clients, args.seconds, tally,
                  cpu_used(before, after, args.seconds))


async def peer_round(args: argparse.Namespace) -> Result:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m",  # noqa: S603 - this module, fixed args
                               "benchmarks.websocket_fanout", "--peer-server", str(port)])
    try:
        await asyncio.sleep(1.0)
        stamps = Stamps()
        url = f"ws://{HOST}:{port}/"
        readers = await open_clients([url] * args.clients, stamps, False, None)
        publisher = await connect(url, max_size=None, ping_interval=None)
        counter = iter(range(1, 10**9))

        async def publish() -> None:
            sequence = next(counter)
            stamps.stamp(sequence)
            await publisher.send(json.dumps({"type": "peer", "sequence": sequence,
                                             "bids": [[str(59_000 + sequence % 1000),
                                                       "0.1"]]}))

        result = await measure("peer (bare websockets)", publish, args.rate, args.clients,
                               args.clients, stamps, server.pid, args)
        await publisher.close()
        await close_clients(readers)
        return result
    finally:
        server.terminate()
        server.wait()


async def book_round(port: int, pid: int, args: argparse.Namespace) -> Result:
    stamps = Stamps()
    producer = EventProducer(settings.KAFKA_BOOTSTRAP_SERVERS)
    events = BookEvents(stamps)
    subscribe = json.dumps({"action": "subscribe", "symbol": SYMBOL, "channel": "book"})
    readers = await open_clients([f"ws://{HOST}:{port}/ws/market-data"] * args.clients,
                                 stamps, False, subscribe)

    async def publish() -> None:
        producer.send(PRICES, key=SYMBOL, event=events.next(), on_delivery=_failed)

    result = await measure("ours, public book", publish, args.rate, args.clients,
                           args.clients, stamps, pid, args)
    await close_clients(readers)
    producer.close()
    return result


def private_users(count: int) -> list[tuple[int, str]]:
    """`count` users (created once) and a fresh stream ticket for each."""
    from django.contrib.auth import get_user_model

    from apps.accounts import services as accounts

    users = get_user_model()
    names = [f"bench-ws-{index}" for index in range(count)]
    users.objects.bulk_create([users(username=name) for name in names], ignore_conflicts=True)
    ids = list(users.objects.filter(username__in=names).order_by("id")
               .values_list("id", flat=True))
    return [(user_id, accounts.issue_stream_ticket(user_id=user_id).ticket)
            for user_id in ids]


async def private_round(port: int, pid: int, args: argparse.Namespace) -> Result:
    stamps = Stamps()
    producer = EventProducer(settings.KAFKA_BOOTSTRAP_SERVERS)
    users = await asyncio.to_thread(private_users, args.clients)
    readers = await open_clients([f"ws://{HOST}:{port}/ws/orders?ticket={ticket}"
                                  for _, ticket in users], stamps, True, None)
    turn = iter(range(10**9))

    async def publish() -> None:
        user_id = users[next(turn) % len(users)][0]
        fill_id = str(uuid.uuid4())
        stamps.stamp(fill_id)
        producer.send(EXECUTIONS, key=SYMBOL, on_delivery=_failed, event=new_event(
            "order.fill", {
                "order_id": str(uuid.uuid4()), "user_id": user_id, "symbol": SYMBOL,
                "fill_id": fill_id, "trade_id": str(uuid.uuid4()), "side": "buy",
                "price": "60000", "quantity": "0.01", "fee": "0.6", "fee_asset": "USDT",
                "liquidity": "taker", "filled_quantity": "0.01",
                "remaining_quantity": "0", "average_fill_price": "60000",
                "status": "FILLED", "counterparty_order_id": str(uuid.uuid4())}))

    result = await measure("ours, private fills", publish, args.fill_rate, args.clients, 1,
                           stamps, pid, args)
    await close_clients(readers)
    producer.close()
    return result


# ---------------------------------------------------------------------------- report

TABLE = (Column("round", 22, left=True), Column("clients", 8), Column("msgs/s", 9, ".0f"),
         Column("delivered", 10, ".1%"), Column("lost", 6), Column("gaps", 6),
         Column("p50 ms", 8, ".2f"), Column("p99 ms", 8, ".2f"), Column("x peer", 7, ".2f"),
         Column("server", 7))


def print_report(results: list[Result], args: argparse.Namespace) -> None:
    print(f"\n{args.clients} clients; public: {args.rate:g} book events/s to every client; "
          f"private: {args.fill_rate:g} fills/s in total, each to its own user.\n"
          f"{args.warmup:g} s warm-up, {args.seconds:g} s measured. Clients, publisher and "
          f"servers share this {os.cpu_count()}-CPU machine; server = cores used.")
    peer = results[0].rate
    print_table(TABLE, [
        [r.label, r.clients, r.rate, r.delivered, r.tally.lost, r.tally.gaps,
         percentile_ms(r.tally.latencies_ns, 50), percentile_ms(r.tally.latencies_ns, 99),
         r.rate / peer if (peer and r.label.endswith("book")) or r is results[0]
         else float("nan"), format_cpu(r.server_cpu)]
        for r in results])
    print("msgs/s = messages received by all clients together; lost = sequences skipped "
          "without a gap\nmarker or snapshot; x peer = msgs/s over the bare server's.")


async def run_all(port: int, pid: int, args: argparse.Namespace) -> list[Result]:
    return [await peer_round(args), await book_round(port, pid, args),
            await private_round(port, pid, args)]


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.peer_server:
        asyncio.run(peer_server(args.peer_server))
        return 0
    prepare_venue()
    setup_django()
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="bench-ws-", suffix=".log", delete=False) as log:
        server = start_daphne(port, log)
        try:
            wait_healthy(server, port)
            results = asyncio.run(run_all(port, server.pid, args))
        finally:
            stop_process(server)
    print_report(results, args)
    Path(log.name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
