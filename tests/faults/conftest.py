"""A whole venue of its own for fault tests: a fresh PostgreSQL, Redis and broker from the
launcher, migrated and seeded, with roles run as real processes that a test may kill, and
services that a test may take down and bring back in place (`Venue.outage`).

Also what the degradation and shutdown tests share: traders talking HTTP to a real web
role (gunicorn), a stream of crossing orders that records every answer, and the checks that
every accepted order reached the database, no refused one did, and the books reconcile."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests
from confluent_kafka import Consumer, TopicPartition

from oms.launcher import ServiceStack
from oms.launcher.process import free_port
from oms.launcher.stack import DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS

SYMBOL = "BTC-USDT"
PRICE = "100.00"  # maker sells and taker buys here, so every pair of orders trades
REQUEST_SECONDS = 30.0  # far above any answer the web role should give


@dataclass(frozen=True)
class WebRole:
    process: subprocess.Popen[bytes]
    url: str


class Venue:
    def __init__(self, stack: ServiceStack, env: dict[str, str], logs: Path) -> None:
        self.stack = stack
        # The fault tests' closed-loop order streams send as fast as the web role answers;
        # rate limits are not what they check (a 429 is a clean refusal, but not the
        # outage or drain under test), so the venue's web roles lift them.
        self.env = {**os.environ, **env, "OMS_ENV": "test",
                    "RATE_LIMIT_ORDERS_USER": "1000000/s", "RATE_LIMIT_ORDERS_IP": "1000000/s"}
        self.logs = logs
        self.roles: list[subprocess.Popen[bytes]] = []
        self.probe_ports: dict[int, int] = {}

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "manage.py", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}-{len(self.roles)}.log").open("wb")
        probe_port = free_port()
        process = subprocess.Popen(argv, env={**self.env, "OMS_PROBE_PORT": str(probe_port)},
                                   stdout=log, stderr=subprocess.STDOUT)
        self.roles.append(process)
        self.probe_ports[process.pid] = probe_port
        return process

    def ready_url(self, process: subprocess.Popen[bytes]) -> str:
        """`/ready` of a role started here (its probe server)."""
        return f"http://127.0.0.1:{self.probe_ports[process.pid]}/ready"

    def log_of(self, process: subprocess.Popen[bytes]) -> str:
        """What a role started here has written so far."""
        index = self.roles.index(process)
        [path] = self.logs.glob(f"*-{index}.log")
        return path.read_text(errors="replace")

    def start(self, command: str, *args: str) -> subprocess.Popen[bytes]:
        return self._spawn(command, [sys.executable, "manage.py", command, *args])

    def start_web(self, role: str = "web") -> WebRole:
        """The `web` role as production runs it (gunicorn with config/gunicorn.py serving
        the WSGI app), or the `ws` role (daphne through `oms.serve`, the ASGI app, which
        serves the API too), as the Procfile has them, on a free port; returns once
        `/health` answers."""
        port = free_port()
        command = ([str(Path(sys.executable).parent / "gunicorn"), "--config",
                    "python:config.gunicorn", "--bind", f"127.0.0.1:{port}",
                    "config.wsgi:application"] if role == "web" else
                   [sys.executable, "-m", "oms.serve", "-b", "127.0.0.1", "-p", str(port),
                    "--application-close-timeout", "10", "config.asgi:application"])
        process = self._spawn(role, command)
        web = WebRole(process, f"http://127.0.0.1:{port}")

        def answers() -> bool:
            assert process.poll() is None, "the web role exited at start"
            with contextlib.suppress(requests.RequestException):
                return requests.get(f"{web.url}/health", timeout=2).status_code == 200
            return False

        wait_until(answers, seconds=60, what="the web role to answer")
        return web

    def token(self, username: str) -> str:
        """The user's API token (`create_trader` prints it alone on its last line)."""
        result = self.manage("create_trader", username)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    @contextlib.contextmanager
    def outage(self, service: str) -> Iterator[None]:
        """`service` (`postgres`, `redis`, `kafka`) is down inside the block and back, on
        the same address with its data, after it."""
        self.stack.service(service).interrupt()
        try:
            yield
        finally:
            self.stack.service(service).resume()

    def query(self, sql: str) -> list[tuple[object, ...]]:
        url = self.env[DATABASE_URL].replace("postgres://", "postgresql://")
        with psycopg.connect(url) as conn:
            return list(conn.execute(sql).fetchall())

    def scalar(self, sql: str) -> object:
        return self.query(sql)[0][0]

    def stop_roles(self) -> None:
        for process in self.roles:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.roles:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until(condition: Callable[[], bool], *, seconds: float, what: str,
               every: float = 0.5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


@dataclass(frozen=True)
class Attempt:
    """One order request and what came back. `status` 0: no response at all (the
    connection failed or was closed before any answer); `complete` False: a response
    started but its body was cut or is not the JSON it announced."""

    client_order_id: str
    idempotency_key: str
    side: str
    status: int
    body: object = None
    retry_after: str | None = None
    complete: bool = True
    started: float = 0.0  # time.monotonic() when the request was sent

    @property
    def error_codes(self) -> list[str]:
        errors = self.body.get("errors", []) if isinstance(self.body, dict) else []
        return [str(error.get("code")) for error in errors]


class Trader:
    """A user of the REST API, over real HTTP."""

    def __init__(self, web: WebRole, token: str) -> None:
        self.url = web.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def place(self, *, side: str, client_order_id: str,
              idempotency_key: str | None = None) -> Attempt:
        key = idempotency_key or f"key-{client_order_id}"
        started = time.monotonic()
        body = {"symbol": SYMBOL, "side": side, "type": "limit", "time_in_force": "GTC",
                "quantity": "1", "price": PRICE, "client_order_id": client_order_id}
        try:
            response = self.session.post(f"{self.url}/api/orders", json=body,
                                         headers={"Idempotency-Key": key},
                                         timeout=REQUEST_SECONDS)
        except requests.exceptions.ChunkedEncodingError:
            return Attempt(client_order_id, key, side, status=-1, complete=False,
                           started=started)
        except requests.RequestException:
            return Attempt(client_order_id, key, side, status=0, started=started)
        try:
            payload = response.json()
        except ValueError:
            return Attempt(client_order_id, key, side, response.status_code, complete=False,
                           started=started)
        return Attempt(client_order_id, key, side, response.status_code, payload,
                       response.headers.get("Retry-After"), started=started)

    def list_orders(self) -> requests.Response:
        return self.session.get(f"{self.url}/api/orders", timeout=REQUEST_SECONDS)


@dataclass
class OrderStream:
    """Crossing orders (the maker sells, the taker buys, at one price) placed by a few
    threads until stopped, each answer recorded: the load that a fault hits mid-run."""

    maker: Trader
    taker: Trader
    prefix: str
    threads: int = 3
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._workers = [threading.Thread(target=self._run, daemon=True)
                         for _ in range(self.threads)]

    def __enter__(self) -> OrderStream:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=2 * REQUEST_SECONDS)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                number = next(self._numbers)
            trader, side = (self.maker, "sell") if number % 2 else (self.taker, "buy")
            attempt = trader.place(side=side, client_order_id=f"{self.prefix}-{number}")
            with self._lock:
                self.attempts.append(attempt)

    def answered(self, status: int) -> list[Attempt]:
        with self._lock:
            return [attempt for attempt in self.attempts if attempt.status == status]

    def count(self, status: int) -> int:
        return len(self.answered(status))


def owned_partitions(venue: Venue) -> int:
    return int(str(venue.scalar(
        "SELECT count(*) FROM processing_partitionownership"
        " WHERE \"group\" = 'order-processor-group'")))


def start_order_roles(venue: Venue) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """The relay and the processor, once the processor owns every partition."""
    relay = venue.start("run_relay")
    processor = venue.start("run_consumer", "processor")
    partitions = venue.stack.partitions
    wait_until(lambda: owned_partitions(venue) == partitions, seconds=120,
               what="the processor to own the partitions")
    return relay, processor


def trader_pair(venue: Venue, web: WebRole) -> tuple[Trader, Trader]:
    return Trader(web, venue.token("maker")), Trader(web, venue.token("taker"))


def recorded_client_order_ids(venue: Venue) -> set[str]:
    return {str(row[0]) for row in venue.query("SELECT client_order_id FROM orders_order")}


def all_processed(venue: Venue) -> bool:
    """Nothing waits in the processor (no order still NEW) or in the outbox."""
    fresh, unpublished = venue.query(
        "SELECT (SELECT count(*) FROM orders_order WHERE status = 'NEW'),"
        " (SELECT count(*) FROM processing_outboxevent WHERE published_at IS NULL)")[0]
    return fresh == 0 and unpublished == 0


def assert_accepted_applied_and_refused_absent(venue: Venue, attempts: list[Attempt]) -> None:
    """Every order answered 202 reaches the database through the processor, exactly once;
    none answered otherwise (503, or no answer at all) does, unless a later attempt with
    the same client_order_id was accepted. One symbol is one partition, processed in
    order, so once the last accepted order is in, any refused one published before it
    would be in too: its absence is final."""
    accepted = {a.client_order_id for a in attempts if a.status == 202}
    refused = {a.client_order_id for a in attempts if a.status == 503} - accepted
    assert accepted, "no order was accepted at all"
    wait_until(lambda: accepted <= recorded_client_order_ids(venue) and all_processed(venue),
               seconds=120, what="every accepted order to be processed")
    recorded = recorded_client_order_ids(venue)
    assert not refused & recorded, f"orders answered 503 were applied: {refused & recorded}"
    assert venue.scalar("SELECT count(*) FROM orders_order") == venue.scalar(
        "SELECT count(DISTINCT client_order_id) FROM orders_order")
    assert_reconciled(venue)


def assert_reconciled(venue: Venue) -> None:
    """The ledger balances, every fill has its counterpart and no order is overfilled."""
    assert venue.scalar("SELECT count(*) FROM orders_order WHERE filled_quantity > quantity") == 0
    result = venue.manage("reconcile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reconcile: clean" in result.stdout, result.stdout


def published_event_ids(venue: Venue, topics: list[str]) -> list[str]:
    """Every `event_id` header on `topics`, from the first record to the end, duplicates
    kept: what consumers of those topics would receive. The end is where nothing more
    arrives for a few seconds: the local broker's high watermark can trail its last
    record, so reading up to it alone would miss the newest ones."""
    consumer = Consumer({"bootstrap.servers": venue.env[KAFKA_BOOTSTRAP_SERVERS],
                         "group.id": "fault-test-reader", "enable.auto.commit": False,
                         "isolation.level": "read_uncommitted", "log_level": 0})
    try:
        metadata = consumer.list_topics(timeout=10)
        consumer.assign([TopicPartition(topic, p, 0) for topic in topics
                         for p in metadata.topics[topic].partitions])
        ids: list[str] = []
        deadline = time.monotonic() + 120
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 3:
            assert time.monotonic() < deadline, "the topics never went quiet"
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            quiet_since = time.monotonic()
            headers = dict(message.headers() or [])
            ids.append(bytes(headers.get("event_id") or b"").decode())
        return ids
    finally:
        consumer.close()


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[Venue]:
    stack = ServiceStack(tmp_path / "services", durable=False, environ={}, interruptible=True)
    env = stack.start()
    try:
        venue = Venue(stack, env, tmp_path)
        # The load runs measure the processor, not the velocity limit of a fresh install.
        for args in (["migrate", "-v0"], ["seed_demo"],
                     ["set_limits", "max_orders_per_second=none", "max_orders_per_minute=none"],
                     ["create_trader", "maker", "--fund", "BTC=100000", "--fund",
                      "USDT=10000000000"],
                     ["create_trader", "taker", "--fund", "BTC=100000", "--fund",
                      "USDT=10000000000"]):
            result = venue.manage(*args)
            assert result.returncode == 0, result.stderr
        yield venue
        venue.stop_roles()
    finally:
        stack.stop()
