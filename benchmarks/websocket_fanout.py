"""WebSocket fan-out: how many messages per second the `ws` role (daphne, its in-process
hub fed from Kafka) delivers to 1,000 clients, how late, and how many are lost without a
`gap` marker - beside a bare `websockets` broadcast server in the same run, stepping the
publish rate to find where each server stops keeping up.

Rounds, each step `--seconds` long after `--warmup`, then `--drain` for late messages:

* `peer (bare websockets)`: a subprocess running `websockets.broadcast` to every client
  of each message one publisher connection sends it (no Kafka, no JSON per client, no
  sequencing, no compression): the ceiling of Python on this machine; at each `--rates`;
* `ours, public book`: the same clients subscribed to BTC-USDT's `book` on daphne;
  `book.delta` events (a snapshot every 100) published on `prices`, at each `--rates`;
* `ours, private fills`: `--clients` users, each on `/ws/orders` with its own ticket,
  `--fill-rate` `order.fill` events per second in total on `executions`, round robin.

The clients are spread over `--client-processes` processes, each with its own event loop
and a lean frame reader (no compression offered, one clock reading per socket read), so
that the benchmark's own reading is not what it measures; their CPU is printed beside the
server's. The publisher (this process) records when it sent each message; each client
process records when each arrived (one monotonic clock on one machine), and the delays of
messages published inside the window are gathered after the drain.

Each client checks its stream by sequence: a book delta must follow the last delta or
snapshot, a fill the last fill; anything else without a `gap` marker in between counts as
`lost`. Runs under the launcher (`make bench-ws`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from confluent_kafka import KafkaError, Message
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, broadcast, serve

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
KEPT_UP = 0.999  # delivered share at or above which a step counts as kept up ...
KEPT_UP_P99_MS = 100.0  # ... with a p99 under this


def _rates(text: str) -> list[float]:
    return [float(rate) for rate in text.split(",")]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.websocket_fanout",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rates", type=_rates, default=[20.0, 50.0, 100.0, 200.0],
                        help="public book events per second, one step each, comma-separated "
                             "(x clients = messages/s)")
    parser.add_argument("--fill-rate", type=float, default=500.0,
                        help="private fills per second in total")
    parser.add_argument("--client-processes", type=int, default=4)
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

    async with serve(handler, HOST, port, max_size=None, ping_interval=None,
                     compression=None):
        await asyncio.Future()


# ----------------------------------------------------------- the clients' processes

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
NO_MASK = b"\0\0\0\0"  # client frames must be masked; a zero key leaves the payload as is


def frame(opcode: int, payload: bytes) -> bytes:
    """One final client frame (masked, as RFC 6455 requires of a client)."""
    size = len(payload)
    if size < 126:
        length = bytes([0x80 | size])
    elif size < 65536:
        length = bytes([0xFE]) + size.to_bytes(2, "big")
    else:
        length = bytes([0xFF]) + size.to_bytes(8, "big")
    return bytes([0x80 | opcode]) + length + NO_MASK + payload


@dataclass(slots=True)
class Receipts:
    """What the clients of one process received since the last collection."""

    keys: list[Any] = field(default_factory=list)  # book sequence or fill id
    received_ns: list[int] = field(default_factory=list)
    lost: list[tuple[int, int]] = field(default_factory=list)  # (when noticed, how many)
    gaps: list[int] = field(default_factory=list)  # when each gap marker came

    def collect(self, start_ns: int, sent_ns: dict[Any, int]) -> tuple[list[int], int, int]:
        """The delays of messages published in the window (`sent_ns` holds only those),
        and the losses and gap markers noticed since `start_ns`; then forget them all."""
        delays = [received - sent for key, received in zip(self.keys, self.received_ns,
                                                             strict=True)
                  if (sent := sent_ns.get(key)) is not None]
        lost = sum(count for noticed, count in self.lost if noticed >= start_ns)
        gaps = sum(1 for noticed in self.gaps if noticed >= start_ns)
        self.keys.clear()
        self.received_ns.clear()
        self.lost.clear()
        self.gaps.clear()
        return delays, lost, gaps


class ClientStream(asyncio.Protocol):
    """One client: the upgrade, then unmasked server frames parsed in place (no
    compression offered, no fragments expected but joined if any); answers pings, checks
    its sequences, notes when each message arrived."""

    def __init__(self, url: str, subscribe: str | None, receipts: Receipts) -> None:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                        f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                        ).encode()
        self.subscribe = subscribe
        self.receipts = receipts
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.last: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - TCP, by construction
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the upgrade"))

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame(opcode, payload))

    def close(self) -> None:
        self.send(CLOSE, (1000).to_bytes(2, "big"))
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        received_ns = time.perf_counter_ns()
        buffer = self.buffer
        buffer += data
        if not self.upgraded and not self.upgrade():
            return
        position, size = 0, len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if size - position < 4:
                    break
                length, header = int.from_bytes(buffer[position + 2:position + 4]), 4
            elif length == 127:
                if size - position < 10:
                    break
                length, header = int.from_bytes(buffer[position + 2:position + 10]), 10
            end = position + header + length
            if end > size:
                break
            self.on_frame(first, bytes(buffer[position + header:end]), received_ns)
            position = end
        del buffer[:position]

    def upgrade(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        status = bytes(self.buffer[:self.buffer.find(b"\r\n")])
        if b" 101 " not in status:
            self.opened.set_exception(ConnectionError(status.decode(errors="replace")))
            self.close()
            return False
        del self.buffer[:end + 4]
        self.upgraded = True
        if self.subscribe:
            self.send(TEXT, self.subscribe.encode())
        self.opened.set_result(None)
        return True

    def on_frame(self, first: int, payload: bytes, received_ns: int) -> None:
        opcode = first & 0x0F
        if opcode == PING:
            self.send(PONG, payload)
        elif opcode == CLOSE:
            self.close()
        elif opcode < CLOSE:  # text, binary or a continuation
            if not first & 0x80:
                self.fragments.append(payload)
            elif self.fragments:
                self.fragments.append(payload)
                self.on_message(b"".join(self.fragments), received_ns)
                self.fragments.clear()
            else:
                self.on_message(payload, received_ns)

    def on_message(self, raw: bytes, received_ns: int) -> None:
        message = json.loads(raw)
        kind = message.get("type")
        receipts = self.receipts
        if kind == "ping":
            self.send(TEXT, b'{"type":"pong"}')
        elif kind == "gap":
            receipts.gaps.append(received_ns)
            self.last = None
        elif kind in ("snapshot", "delta", "execution", "peer"):
            seq = message["sequence"] if kind == "peer" else message["seq"]
            if kind != "snapshot" and self.last is not None and seq != self.last + 1:
                receipts.lost.append((received_ns, max(seq - self.last - 1, 0)))
            self.last = seq
            receipts.keys.append(message["payload"]["fill_id"] if kind == "execution"
                                 else message["sequence"])
            receipts.received_ns.append(received_ns)


async def serve_clients(urls: list[str], subscribe: str | None, pipe: Connection) -> None:
    """A client process: open its clients, report ready, then answer collections."""
    loop = asyncio.get_running_loop()
    receipts = Receipts()
    streams: list[ClientStream] = []
    for first in range(0, len(urls), CONNECT_BATCH):
        batch = [(url, ClientStream(url, subscribe, receipts))
                 for url in urls[first:first + CONNECT_BATCH]]
        await asyncio.gather(*(
            loop.create_connection(lambda stream=stream: stream,  # type: ignore[misc]
                                   urlsplit(url).hostname or HOST, urlsplit(url).port or 80)
            for url, stream in batch))
        await asyncio.wait_for(asyncio.gather(*(stream.opened for _, stream in batch)), 60)
        streams.extend(stream for _, stream in batch)
    pipe.send(len(streams))
    while True:
        command = await asyncio.to_thread(pipe.recv)
        if command[0] == "stop":
            break
        _, start_ns, sent_ns = command
        pipe.send(receipts.collect(start_ns, sent_ns))
    for stream in streams:
        stream.close()
    await asyncio.sleep(0.2)


def client_process(urls: list[str], subscribe: str | None, pipe: Connection) -> None:
    asyncio.run(serve_clients(urls, subscribe, pipe))


@dataclass(slots=True)
class Tally:
    """What the clients received of messages published inside the measured window."""

    latencies_ns: list[int] = field(default_factory=list)
    lost: int = 0  # sequences skipped with no gap marker and no snapshot
    gaps: int = 0  # gap markers received


class ClientPool:
    """The clients, spread evenly over processes of their own (spawned: no threads or
    event loop of this one inherited)."""

    def __init__(self, processes: list[BaseProcess], pipes: list[Connection]) -> None:
        self.processes = processes
        self.pipes = pipes

    @classmethod
    async def open(cls, urls: list[str], subscribe: str | None, count: int) -> ClientPool:
        context = multiprocessing.get_context("spawn")
        processes: list[BaseProcess] = []
        pipes: list[Connection] = []
        for index in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=client_process, daemon=True,
                                      args=(urls[index::count], subscribe, theirs))
            process.start()
            processes.append(process)
            pipes.append(ours)
        pool = cls(processes, pipes)
        opened = sum(await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in pipes)))
        if opened != len(urls):
            await pool.close()
            raise RuntimeError(f"{opened} of {len(urls)} clients connected")
        return pool

    def cpu_seconds(self) -> float | None:
        readings = [process_cpu_seconds(process.pid or 0) for process in self.processes]
        return None if None in readings else sum(r for r in readings if r is not None)

    async def collect(self, start_ns: int, sent_ns: dict[Any, int]) -> Tally:
        for pipe in self.pipes:
            pipe.send(("collect", start_ns, sent_ns))
        tally = Tally()
        for delays, lost, gaps in await asyncio.gather(*(asyncio.to_thread(pipe.recv)
                                                          for pipe in self.pipes)):
            tally.latencies_ns.extend(delays)
            tally.lost += lost
            tally.gaps += gaps
        tally.latencies_ns.sort()
        return tally

    async def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(("stop",))
        for process in self.processes:
            await asyncio.to_thread(process.join, 10)
            if process.is_alive():
                process.kill()


# ---------------------------------------------------------------------- publishing

Publish = Callable[[], Awaitable[Any]]


class Stamps:
    """When each message was published, by its key (book sequence or fill id)."""

    def __init__(self) -> None:
        self.sent_ns: dict[Any, int] = {}

    def stamp(self, key: Any) -> None:
        self.sent_ns[key] = time.perf_counter_ns()

    def window(self, start_ns: int, end_ns: int) -> dict[Any, int]:
        """The stamps of the window; all are forgotten."""
        inside = {key: sent for key, sent in self.sent_ns.items() if start_ns <= sent < end_ns}
        self.sent_ns.clear()
        return inside


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
    events_per_second: float
    clients: int
    expected: int  # messages published in the window x the clients each goes to
    seconds: float
    tally: Tally
    server_cpu: float | None
    client_cpu: float | None

    @property
    def rate(self) -> float:
        return len(self.tally.latencies_ns) / self.seconds

    @property
    def delivered(self) -> float:
        return len(self.tally.latencies_ns) / (self.expected or 1)

    @property
    def p99_ms(self) -> float:
        return percentile_ms(self.tally.latencies_ns, 99)

    @property
    def kept_up(self) -> bool:
        return (self.delivered >= KEPT_UP and self.tally.lost == 0
                and self.p99_ms < KEPT_UP_P99_MS)


async def measure(label: str, publish: Publish, rate: float, fanout: int, stamps: Stamps,
                  clients: ClientPool, pid: int, args: argparse.Namespace) -> Result:
    """Warm up, then publish at `rate` for the window; each message reaches `fanout`
    clients; then wait `--drain` and gather the clients' receipts."""
    await paced(publish, rate, time.perf_counter_ns() + int(args.warmup * 1e9))
    start_ns = time.perf_counter_ns()
    end_ns = start_ns + int(args.seconds * 1e9)
    server_before, clients_before = process_cpu_seconds(pid), clients.cpu_seconds()
    await paced(publish, rate, end_ns)
    server_after, clients_after = process_cpu_seconds(pid), clients.cpu_seconds()
    await asyncio.sleep(args.drain)
    sent_ns = stamps.window(start_ns, end_ns)
    tally = await clients.collect(start_ns, sent_ns)
    return Result(label, rate, args.clients, len(sent_ns) * fanout, args.seconds, tally,
                  cpu_used(server_before, server_after, args.seconds),
                  cpu_used(clients_before, clients_after, args.seconds))


async def peer_rounds(args: argparse.Namespace) -> list[Result]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m",  # noqa: S603 - this module, fixed args
                               "benchmarks.websocket_fanout", "--peer-server", str(port)])
    try:
        await asyncio.sleep(1.0)
        stamps = Stamps()
        url = f"ws://{HOST}:{port}/"
        clients = await ClientPool.open([url] * args.clients, None, args.client_processes)
        publisher = await connect(url, max_size=None, ping_interval=None, compression=None)
        counter = iter(range(1, 10**9))

        async def publish() -> None:
            sequence = next(counter)
            stamps.stamp(sequence)
            await publisher.send(json.dumps({"type": "peer", "sequence": sequence,
                                             "bids": [[str(59_000 + sequence % 1000),
                                                       "0.1"]]}))

        results = [await measure("peer (bare websockets)", publish, rate, args.clients,
                                 stamps, clients, server.pid, args) for rate in args.rates]
    finally:
        # Stopped before its clients: past its capacity it is still broadcasting a backlog,
        # and would log each write to a client that left.
        server.terminate()
        server.wait()
    await clients.close()
    return results


async def book_rounds(port: int, pid: int, args: argparse.Namespace) -> list[Result]:
    stamps = Stamps()
    producer = EventProducer(settings.KAFKA_BOOTSTRAP_SERVERS)
    events = BookEvents(stamps)
    subscribe = json.dumps({"action": "subscribe", "symbol": SYMBOL, "channel": "book"})
    clients = await ClientPool.open([f"ws://{HOST}:{port}/ws/market-data"] * args.clients,
                                    subscribe, args.client_processes)

    async def publish() -> None:
        producer.send(PRICES, key=SYMBOL, event=events.next(), on_delivery=_failed)

    results = [await measure("ours, public book", publish, rate, args.clients, stamps,
                             clients, pid, args) for rate in args.rates]
    await clients.close()
    producer.close()
    return results


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
    clients = await ClientPool.open([f"ws://{HOST}:{port}/ws/orders?ticket={ticket}"
                                     for _, ticket in users], None, args.client_processes)
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

    result = await measure("ours, private fills", publish, args.fill_rate, 1, stamps,
                           clients, pid, args)
    await clients.close()
    producer.close()
    return result


# ---------------------------------------------------------------------------- report

TABLE = (Column("round", 22, left=True), Column("ev/s", 6, ".0f"), Column("clients", 8),
         Column("msgs/s", 9, ".0f"), Column("delivered", 10, ".1%"), Column("lost", 6),
         Column("gaps", 6), Column("p50 ms", 8, ".2f"), Column("p99 ms", 8, ".2f"),
         Column("x peer", 7, ".2f"), Column("server", 7), Column("client", 7))


def capacity(results: list[Result]) -> tuple[float, float | None]:
    """The most messages/s delivered at any step, and the highest step's events/s kept
    up with (all delivered, none lost, p99 under 100 ms)."""
    kept = [r.events_per_second for r in results if r.kept_up]
    return max(r.rate for r in results), max(kept) if kept else None


def print_report(peer: list[Result], book: list[Result], private: Result,
                 args: argparse.Namespace, load: tuple[float, float]) -> None:
    print(f"\n{args.clients} clients over {args.client_processes} client processes; public: "
          f"{', '.join(f'{rate:g}' for rate in args.rates)} book events/s to every client; "
          f"private: {args.fill_rate:g} fills/s in total, each to its own user.\n"
          f"{args.warmup:g} s warm-up, {args.seconds:g} s measured, {args.drain:g} s drain "
          f"per step. Clients, publisher and servers share this {os.cpu_count()}-CPU "
          f"machine\n(load average {load[0]:.1f} before, {load[1]:.1f} after); server, "
          f"client = cores used by the server process and by all client processes.")
    peer_at = {r.events_per_second: r.rate for r in peer}

    def ratio(r: Result) -> float | str:
        base = peer_at.get(r.events_per_second) if r is not private else None
        return r.rate / base if base else ""

    print_table(TABLE, [
        [r.label, r.events_per_second, r.clients, r.rate, r.delivered, r.tally.lost,
         r.tally.gaps, percentile_ms(r.tally.latencies_ns, 50), r.p99_ms, ratio(r),
         format_cpu(r.server_cpu), format_cpu(r.client_cpu)]
        for r in [*peer, *book, private]])
    peer_most, peer_kept = capacity(peer)
    ours_most, ours_kept = capacity(book)

    def kept(rate: float | None) -> str:
        return "none" if rate is None else f"{rate:g} events/s ({rate * args.clients:,.0f} msgs/s)"

    print(f"msgs/s = messages received by all clients together; lost = sequences skipped "
          f"without a gap\nmarker or snapshot; x peer = msgs/s over the bare server's at "
          f"the same rate.\nCapacity (most msgs/s at any step): peer {peer_most:,.0f}, ours "
          f"{ours_most:,.0f} = {ours_most / peer_most if peer_most else math.nan:.2f} x peer."
          f"\nKept up (>= {KEPT_UP:.1%} delivered, none lost, p99 < {KEPT_UP_P99_MS:g} ms) "
          f"up to: peer {kept(peer_kept)}, ours {kept(ours_kept)}.")


async def run_all(port: int, pid: int, args: argparse.Namespace
                  ) -> tuple[list[Result], list[Result], Result]:
    return (await peer_rounds(args), await book_rounds(port, pid, args),
            await private_round(port, pid, args))


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.peer_server:
        asyncio.run(peer_server(args.peer_server))
        return 0
    prepare_venue()
    setup_django()
    port = free_port()
    load_before = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile(prefix="bench-ws-", suffix=".log", delete=False) as log:
        server = start_daphne(port, log)
        try:
            wait_healthy(server, port)
            peer, book, private = asyncio.run(run_all(port, server.pid, args))
        finally:
            stop_process(server)
    print_report(peer, book, private, args, (load_before, os.getloadavg()[0]))
    Path(log.name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
