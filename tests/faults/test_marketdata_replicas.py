"""Two `marketdata` replicas share the symbols (issue 14, item 14): each symbol's ticks and
Redis copies come from one replica at a time, under a fencing epoch that only grows; when
a replica freezes (SIGSTOP) or dies (SIGKILL) the other takes its symbols over within
seconds, and a frozen replica, thawed, never writes again under the claim it lost.

The replicas are real `manage.py run_consumer marketdata` processes on the simulator
feeds, against a fresh PostgreSQL, Redis and broker; the test reads every `price.tick` on
`prices` (the writer is in the `md_replica` and `md_epoch` headers) and samples the
`price:{symbol}` copies in Redis (their `writer` field)."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as redis_lib
import requests
from confluent_kafka import Consumer, TopicPartition

from config.settings.marketdata import MARKETDATA_FEEDS
from oms.kafka.topics import PRICES, partition_for_key
from oms.launcher import ServiceStack
from oms.launcher.stack import KAFKA_BOOTSTRAP_SERVERS, REDIS_URL
from tests.faults.conftest import Venue, wait_until

SYMBOLS = sorted(MARKETDATA_FEEDS)
# The group notices a dead or frozen member after `session.timeout.ms` (6 s), then
# rebalances (about 6-9 s here); the new owner writes at its next publish step.
TAKEOVER_SECONDS = 15.0


@dataclass(frozen=True)
class Tick:
    symbol: str
    replica: str
    epoch: int
    partition: int
    created: datetime  # the event's occurred_at: when its writer decided to write it
    received: float  # time.monotonic() in this test


class TickReader:
    """Every `price.tick` on `prices` from the first record on, with its writer."""

    def __init__(self, bootstrap: str) -> None:
        self.ticks: list[Tick] = []
        self.partitions = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "replica-test",
                                   "enable.auto.commit": False, "log_level": 0})
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TickReader:
        topic = self._consumer.list_topics(PRICES, timeout=10).topics[PRICES]
        self.partitions = len(topic.partitions)
        self._consumer.assign([TopicPartition(PRICES, p, 0) for p in topic.partitions])
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._consumer.poll(0.1)
            if message is None or message.error() is not None:
                continue
            headers = {key: (value or b"").decode() for key, value in message.headers() or []}
            if headers.get("event_type") != "price.tick":
                continue
            event = json.loads(message.value() or b"{}")
            tick = Tick(symbol=event["payload"]["symbol"],
                        replica=headers.get("md_replica", ""),
                        epoch=int(headers.get("md_epoch", "-1")),
                        partition=message.partition() or 0,
                        created=datetime.fromisoformat(event["occurred_at"]),
                        received=time.monotonic())
            with self._lock:
                self.ticks.append(tick)

    def since(self, moment: float) -> list[Tick]:
        with self._lock:
            return [tick for tick in self.ticks if tick.received >= moment]

    def writers_since(self, moment: float) -> dict[str, set[str]]:
        """For each symbol, the replicas whose ticks arrived since `moment`."""
        writers: dict[str, set[str]] = {}
        for tick in self.since(moment):
            writers.setdefault(tick.symbol, set()).add(tick.replica)
        return writers


def replica_of(process: subprocess.Popen[bytes]) -> str:
    """What a replica writes as its id ends with its process id (`ownership.replica_id`)."""
    return f":{process.pid}"


def written_by(replica: str, process: subprocess.Popen[bytes]) -> bool:
    return replica.endswith(replica_of(process))


def assert_fenced(ticks: list[Tick]) -> None:
    """Per symbol, in the order the ticks were made: the epoch never goes back, and each
    epoch has one writer."""
    for symbol in SYMBOLS:
        made = sorted((tick for tick in ticks if tick.symbol == symbol),
                      key=lambda tick: tick.created)
        writers: dict[int, set[str]] = {}
        for earlier, later in itertools.pairwise(made):
            assert later.epoch >= earlier.epoch, f"{symbol}: {later} after {earlier}"
        for tick in made:
            writers.setdefault(tick.epoch, set()).add(tick.replica)
        assert all(len(names) == 1 for names in writers.values()), (symbol, writers)


def takes_over(reader: TickReader, process: subprocess.Popen[bytes], symbols: set[str],
               after: float) -> float:
    """Wait until `process` ticks every one of `symbols`; return how long that took."""
    def done() -> bool:
        writers = reader.writers_since(after)
        return all(any(written_by(name, process) for name in writers.get(symbol, ()))
                   for symbol in symbols)

    wait_until(done, seconds=TAKEOVER_SECONDS, what=f"{sorted(symbols)} to move", every=0.1)
    return time.monotonic() - after


@pytest.fixture
def market(tmp_path: Path) -> Iterator[Venue]:
    stack = ServiceStack(tmp_path / "services", durable=False, environ={})
    env = stack.start()
    try:
        venue = Venue(stack, env, tmp_path)
        venue.env.update(MARKETDATA_SIMULATOR_STEP_SECONDS="0.2",
                         MARKETDATA_PUBLISH_SECONDS="0.1")
        result = venue.manage("migrate", "-v0")
        assert result.returncode == 0, result.stderr
        yield venue
        venue.stop_roles()
    finally:
        stack.stop()


def test_each_symbol_has_one_writer_and_moves_when_its_replica_freezes_or_dies(
        market: Venue) -> None:
    cache = redis_lib.Redis.from_url(market.env[REDIS_URL])
    with TickReader(market.env[KAFKA_BOOTSTRAP_SERVERS]) as reader:
        first = market.start("run_consumer", "marketdata")
        started = time.monotonic()
        wait_until(lambda: set(reader.writers_since(started)) == set(SYMBOLS)
                   and all(written_by(name, first) for names in
                           reader.writers_since(started).values() for name in names),
                   seconds=60, what="the first replica to tick every symbol")

        second = market.start("run_consumer", "marketdata")
        joined = time.monotonic()
        wait_until(lambda: any(written_by(name, second) for names in
                               reader.writers_since(joined).values() for name in names),
                   seconds=60, what="the second replica to take some symbols")
        time.sleep(1.0)
        steady = time.monotonic()
        time.sleep(1.5)
        writers = reader.writers_since(steady)
        assert set(writers) == set(SYMBOLS)
        assert all(len(names) == 1 for names in writers.values()), writers
        owned = {process: {symbol for symbol, names in writers.items()
                           if written_by(next(iter(names)), process)}
                 for process in (first, second)}
        assert owned[first], f"the work is not shared: {writers}"
        assert owned[second], f"the work is not shared: {writers}"

        # Freeze one replica: the other takes its symbols within seconds.
        frozen, survivor = first, second
        frozen.send_signal(signal.SIGSTOP)
        stopped, stopped_at = time.monotonic(), datetime.now(UTC)
        moved = takes_over(reader, survivor, owned[frozen], stopped)
        assert moved <= TAKEOVER_SECONDS
        taken = {symbol: max(tick.epoch for tick in reader.since(stopped)
                             if tick.symbol == symbol and written_by(tick.replica, survivor))
                 for symbol in owned[frozen]}

        # Thawed, it must not write under the claim it lost: neither a tick nor a copy.
        frozen.send_signal(signal.SIGCONT)
        thawed = time.monotonic()
        while time.monotonic() - thawed < 3.0:
            for symbol in owned[frozen]:
                raw = cache.get(f"price:{symbol}")
                if raw is not None:
                    writer = json.loads(raw)["writer"]
                    assert writer["epoch"] >= taken[symbol] or not written_by(
                        writer["replica"], frozen), f"stale copy of {symbol}: {writer}"
            time.sleep(0.02)
        stale = [tick for tick in reader.since(stopped)
                 if written_by(tick.replica, frozen) and tick.created > stopped_at
                 and tick.epoch < taken.get(tick.symbol, 0)]
        assert not stale, f"the thawed replica wrote under its lost claim: {stale}"

        # Kill the other: the thawed one (back in the group) takes every symbol.
        survivor.send_signal(signal.SIGKILL)
        survivor.wait(timeout=10)
        killed = time.monotonic()
        moved = takes_over(reader, frozen, set(SYMBOLS), killed)
        assert moved <= TAKEOVER_SECONDS
        assert requests.get(market.ready_url(frozen), timeout=5).status_code == 200

        ticks = reader.since(0.0)
        assert all(tick.partition == partition_for_key(tick.symbol, reader.partitions)
                   for tick in ticks)
        assert_fenced(ticks)
