"""A whole venue of its own for fault tests: a fresh PostgreSQL, Redis and broker from the
launcher, migrated and seeded, with roles run as real processes that a test may kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from oms.launcher import ServiceStack
from oms.launcher.process import free_port
from oms.launcher.stack import DATABASE_URL


class Venue:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, **env, "OMS_ENV": "test"}
        self.logs = logs
        self.roles: list[subprocess.Popen[bytes]] = []

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "manage.py", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, command: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{command}-{len(self.roles)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "manage.py", command, *args],
            env={**self.env, "OMS_PROBE_PORT": str(free_port())}, stdout=log,
            stderr=subprocess.STDOUT)
        self.roles.append(process)
        return process

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


def wait_until(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[Venue]:
    stack = ServiceStack(tmp_path / "services", durable=False, environ={})
    env = stack.start()
    try:
        venue = Venue(env, tmp_path)
        for args in (["migrate", "-v0"], ["seed_demo"],
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
