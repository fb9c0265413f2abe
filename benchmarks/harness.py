"""What the benchmarks share: management commands, traders, role processes (daphne, the
web role's server and its peers, `manage.py run_*`), pacing, CPU accounting, percentiles
and the result table.

Every benchmark runs under the launcher, so `DATABASE_URL`, `REDIS_URL` and
`KAFKA_BOOTSTRAP_SERVERS` are set and each role started here uses the same services. The
roles run without Django's debug mode (`DJANGO_DEBUG=0`), as in production: debug mode logs
every SQL statement and looks for static files on disk on every request."""

from __future__ import annotations

import http.client
import itertools
import math
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import django
import psutil

from oms.launcher.process import free_port as free_port  # the benchmarks take it from here

os.environ.setdefault("DJANGO_DEBUG", "0")  # inherited by every role started here

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
# ASGI_THREADS sizes only the event loop's default executor. Django runs each request's
# sync code in a thread of its own (asgiref ThreadSensitiveContext), not in that pool, so
# 2, 8, 16, 32 and 64 measured the same within noise; 16 matches the default client count.
DEFAULT_ASGI_THREADS = 16
RAISED_RATE_LIMITS = {
    "RATE_LIMIT_ORDERS_USER": "1000000/s",
    "RATE_LIMIT_ORDERS_IP": "1000000/s",
    "RATE_LIMIT_API_USER": "1000000/s",  # every other API view, per user
}
STARTUP_SECONDS = 60.0


# ------------------------------------------------------------------------- the venue


def manage(*args: str) -> str:
    """Run a management command; return its standard output, or exit with its errors."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, text=True,  # noqa: S603
                          capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def prepare_venue() -> None:
    """Migrate and load the demo venue (instruments, fees, alice and bob), without the
    velocity limits of a fresh install: a benchmark measures the venue, not the limit."""
    manage("migrate", "--noinput", "-v0")
    manage("seed_demo")
    manage("set_limits", "max_orders_per_second=none", "max_orders_per_minute=none")


def create_trader(username: str, funds: Mapping[str, str], reference: str) -> str:
    """Create (or top up once per `reference`) a funded trader; return its API token."""
    fund_args = [arg for asset, amount in funds.items() for arg in ("--fund", f"{asset}={amount}")]
    output = manage("create_trader", username, *fund_args, "--funding-reference", reference)
    return output.strip().splitlines()[-1]


def setup_django() -> None:
    """Make the ORM, the settings and the shared Kafka producer usable in this process."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


# ----------------------------------------------------------------------------- processes


def start_daphne(port: int, log: IO[bytes], *, asgi_threads: int = DEFAULT_ASGI_THREADS,
                 env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The web role on `port`, with rate limits raised out of the way of the load."""
    full_env = {**os.environ, **RAISED_RATE_LIMITS, "ASGI_THREADS": str(asgi_threads),
                **(env or {})}
    return subprocess.Popen(  # noqa: S603 - the project's own daphne
        [str(BIN / "daphne"), "-b", HOST, "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)


# The HTTP servers `benchmarks.ingest` compares. Each takes the port, the worker count and
# (daphne only) the listening socket its processes share. The web role's own server is
# `WEB_ROLE`: the command of the Procfile's `web` line with its configuration
# (config/gunicorn.py), so the benchmark measures what production runs.
ServerCommand = Callable[[int, int], list[str]]


def _daphne(port: int, workers: int) -> list[str]:
    del port, workers  # the processes share an inherited socket instead (`--fd`)
    return [sys.executable, "-m", "oms.serve", "--fd", "{fd}", "config.asgi:application"]


def _uvicorn(port: int, workers: int) -> list[str]:
    return [str(BIN / "uvicorn"), "--host", HOST, "--port", str(port), "--workers",
            str(workers), "--http", "httptools", "--loop", "uvloop", "--lifespan", "off",
            "--no-access-log", "--log-level", "warning", "config.asgi:application"]


def _gunicorn(worker_class: str, threads: int) -> ServerCommand:
    def command(port: int, workers: int) -> list[str]:
        return [str(BIN / "gunicorn"), "--bind", f"{HOST}:{port}", "--workers", str(workers),
                "--worker-class", worker_class, "--threads", str(threads),
                "--no-control-socket", "config.wsgi:application"]
    return command


def _granian(port: int, workers: int) -> list[str]:
    return [str(BIN / "granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--blocking-threads", "8", "--log-level", "warning",
            "config.wsgi:application"]


def web_role_command(port: int) -> list[str]:
    """The Procfile's `web` line (gunicorn with config/gunicorn.py), bound to `port` on
    this host, with this interpreter's virtualenv: the web role as production runs it."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:"))
    argv = [str(BIN / arg.removeprefix(".venv/bin/")) if arg.startswith(".venv/bin/") else arg
            for arg in argv]
    bind = argv.index("--bind")
    argv[bind + 1] = f"{HOST}:{port}"
    return argv


def _web_role(port: int, workers: int) -> list[str]:
    command = web_role_command(port)
    return [*command[:-1], "--workers", str(workers), command[-1]]


@dataclass(frozen=True, slots=True)
class HttpServer:
    name: str
    command: ServerCommand
    shares_socket: bool = False  # one process per worker on a socket opened here


DAPHNE = HttpServer("daphne", _daphne, shares_socket=True)
UVICORN = HttpServer("uvicorn+httptools", _uvicorn)
GUNICORN_SYNC = HttpServer("gunicorn sync", _gunicorn("sync", 1))
GUNICORN_GTHREAD = HttpServer("gunicorn gthread", _gunicorn("gthread", 8))
GRANIAN = HttpServer("granian wsgi", _granian)
WEB_ROLE = HttpServer("web role", _web_role)
PEER_SERVERS = (DAPHNE, UVICORN, GUNICORN_SYNC, GUNICORN_GTHREAD, GRANIAN)


class Served:
    """The processes of one HTTP server under test (a master and its workers, or daphne's
    processes on one shared socket): their CPU, their health, and their stop."""

    def __init__(self, server: HttpServer, processes: list[subprocess.Popen[bytes]],
                 port: int) -> None:
        self.server = server
        self.processes = processes
        self.port = port

    def exited(self) -> int | None:
        """The exit status of a process that stopped, else None."""
        return next((code for process in self.processes
                     if (code := process.poll()) is not None), None)

    def cpu_seconds(self) -> float:
        """User plus system CPU time of every process of the server and its children."""
        total = 0.0
        for process in self.processes:
            try:
                root = psutil.Process(process.pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for member in tree:
                try:
                    times = member.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += times.user + times.system
        return total

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)


def start_server(server: HttpServer, port: int, workers: int, log: IO[bytes], *,
                 env: Mapping[str, str] | None = None) -> Served:
    """`server` on `port` with `workers` workers, with rate limits raised out of the way of
    the load; `env` is added to the environment."""
    full_env = {**os.environ, **RAISED_RATE_LIMITS, **(env or {})}
    full_env.pop("OMS_PROBE_PORT", None)
    if not server.shares_socket:
        return Served(server, [subprocess.Popen(  # noqa: S603 - the project's own servers
            server.command(port, workers), cwd=ROOT, env=full_env, stdout=log,
            stderr=subprocess.STDOUT)], port)
    with socket.create_server((HOST, port), backlog=1024) as listening:
        fd = listening.fileno()
        argv = [arg.format(fd=fd) for arg in server.command(port, workers)]
        processes = [subprocess.Popen(  # noqa: S603 - the project's own servers
            argv, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=(fd,)) for _ in range(workers)]
    return Served(server, processes, port)


def start_web(port: int, log: IO[bytes], *, workers: int | None = None,
              env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The web role exactly as the Procfile starts it (gunicorn, `config.gunicorn`) on
    `port`, with rate limits raised out of the way of the load; `workers` overrides
    `WEB_CONCURRENCY` (default: one per CPU). Its probe server stays off, so it never
    clashes with a venue already running here. Stop it with `stop_process` (SIGTERM: the
    graceful drain)."""
    full_env = {**os.environ, **RAISED_RATE_LIMITS, **(env or {})}
    full_env.pop("OMS_PROBE_PORT", None)
    if workers is not None:
        full_env["WEB_CONCURRENCY"] = str(workers)
    return subprocess.Popen(  # noqa: S603 - the project's own web role
        web_role_command(port), cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)


def start_role(command: str, *args: str, log: IO[bytes],
               probe_port: int | None = None) -> subprocess.Popen[bytes]:
    """A long-running role (`run_consumer processor`, `run_relay`, ...) with its probes (`/metrics`
    among them) on `probe_port`, or a free port, so it never clashes with a venue already
    running on this machine."""
    env = {**os.environ, "OMS_PROBE_PORT": str(probe_port or free_port())}
    return subprocess.Popen(  # noqa: S603 - the project's own manage.py
        [sys.executable, "manage.py", command, *args], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT)


def wait_healthy(server: subprocess.Popen[bytes] | Served, port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        status = server.exited() if isinstance(server, Served) else server.poll()
        if status is not None:
            raise RuntimeError(f"the server exited with status {status}")
        connection = http.client.HTTPConnection(HOST, port, timeout=1)
        try:
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass  # not listening yet
        finally:
            connection.close()
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /health within {STARTUP_SECONDS:.0f} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (roles finish their current step and exit), then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_used(before: float | None, after: float | None, seconds: float) -> float | None:
    """Cores used between two `process_cpu_seconds` readings (1.0 = one core busy)."""
    if before is None or after is None or seconds <= 0:
        return None
    return (after - before) / seconds


def format_cpu(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------- pacing


@dataclass(frozen=True, slots=True)
class Window:
    start_ns: int
    end_ns: int


def sleep_until(deadline_ns: int) -> None:
    time.sleep(max(0.0, (deadline_ns - time.perf_counter_ns()) / 1e9))


def client_clocks(clients: int, first_ns: int, rate: float | None) -> list[Iterator[int]]:
    """Back to back (`rate` None), or together `rate` sends per second, evenly spread."""
    if rate is None:
        return [iter(time.perf_counter_ns, -1) for _ in range(clients)]
    period_ns = round(clients * 1e9 / rate)
    return [itertools.count(first_ns + index * period_ns // clients, period_ns)
            for index in range(clients)]


# --------------------------------------------------------------------------- reporting


def percentile_ms(sorted_ns: Sequence[int], percent: float) -> float:
    """The nearest-rank percentile of sorted nanosecond samples, in milliseconds."""
    if not sorted_ns:
        return math.nan
    rank = max(1, math.ceil(percent / 100 * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: int
    spec: str = ""  # format spec of the values; strings are printed as they are
    left: bool = False


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> None:
    """A fixed-width table: a header, a rule, then one line per row."""
    def cell(column: Column, value: object) -> str:
        text = value if isinstance(value, str) else format(value, column.spec)
        return f"{text:<{column.width}}" if column.left else f"{text:>{column.width}}"

    header = "".join(cell(column, column.title) for column in columns)
    print(header)
    print("-" * len(header))
    for row in rows:
        print("".join(cell(column, value) for column, value in zip(columns, row, strict=True)))


Phases = dict[str, tuple[int, float]]  # pipelined phase -> (batches, seconds in all)


def _metrics(probe_port: int) -> str:
    with urllib.request.urlopen(f"http://{HOST}:{probe_port}/metrics", timeout=5) as answer:
        return str(answer.read().decode())


def batch_phases(probe_port: int) -> Phases:
    """The processor's own account of its pipelined batches (`oms_processor_batch_seconds`
    on its `/metrics`): per phase, how many and the seconds they took in all."""
    text = _metrics(probe_port)
    found: dict[str, dict[str, float]] = {}
    for name, phase, value in re.findall(
            r'^oms_processor_batch_seconds_(sum|count)\{phase="(\w+)"\} (\S+)$', text, re.M):
        found.setdefault(phase, {})[name] = float(value)
    return {phase: (int(values.get("count", 0)), values.get("sum", 0.0))
            for phase, values in found.items()}


def offset_gaps(probe_port: int) -> dict[str, float]:
    """How often a role's consumers were handed an offset past records not yet visible,
    by outcome (`reread`, `accepted`; `oms_consumer_offset_gaps_total`)."""
    gaps: dict[str, float] = {}
    for outcome, value in re.findall(
            r'^oms_consumer_offset_gaps_total\{[^}]*outcome="(\w+)"[^}]*\} (\S+)$',
            _metrics(probe_port), re.M):
        gaps[outcome] = gaps.get(outcome, 0.0) + float(value)
    return gaps


def postgres_cpu_seconds() -> float | None:
    """CPU time of every PostgreSQL process of the database's cluster (backends and
    background workers), from /proc: the bench runs on the database's machine."""
    from django.db import connection  # after setup_django

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity")
        seconds = [process_cpu_seconds(int(pid)) for (pid,) in cursor.fetchall()]
    known = [value for value in seconds if value is not None]
    return sum(known) if known else None
