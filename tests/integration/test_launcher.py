"""The launcher itself: a second, independent stack starts all three services on free ports,
uses a service given by environment instead of starting one, stops cleanly, and reports
a missing binary or a port clash in one line."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib
from confluent_kafka.admin import AdminClient
from django.conf import settings

from oms.launcher import LauncherError, ServiceStack
from oms.launcher.process import ManagedProcess, port_is_free
from oms.launcher.stack import DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, REDIS_URL


def test_stack_starts_every_service_and_stops_them(tmp_path: Path) -> None:
    stack = ServiceStack(tmp_path, durable=False, environ={})
    with stack as env:
        with psycopg.connect(env[DATABASE_URL].replace("postgres://", "postgresql://")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert redis_lib.Redis.from_url(env[REDIS_URL]).ping()
        topics = AdminClient({"bootstrap.servers": env[KAFKA_BOOTSTRAP_SERVERS]}).list_topics(
            timeout=10).topics
        assert {"orders", "executions", "prices", "risk-events"} <= set(topics)
        ports = [service.port for service in stack.started]
    assert all(port_is_free(port) for port in ports)


def test_stack_uses_services_given_by_environment(tmp_path: Path) -> None:
    given = {DATABASE_URL: settings.DATABASE_URL, REDIS_URL: settings.REDIS_URL,
             KAFKA_BOOTSTRAP_SERVERS: settings.KAFKA_BOOTSTRAP_SERVERS}
    with ServiceStack(tmp_path, durable=False, environ=given) as env:
        assert env == {}  # nothing started, nothing overridden


def test_durable_postgres_keeps_data_across_restarts(tmp_path: Path) -> None:
    environ = {REDIS_URL: settings.REDIS_URL,
               KAFKA_BOOTSTRAP_SERVERS: settings.KAFKA_BOOTSTRAP_SERVERS}
    for round_ in range(2):
        with ServiceStack(tmp_path, durable=True, environ=environ) as env:
            url = env[DATABASE_URL].replace("postgres://", "postgresql://")
            with psycopg.connect(url, autocommit=True) as conn:
                if round_ == 0:
                    conn.execute("CREATE TABLE kept (value int)")
                    conn.execute("INSERT INTO kept VALUES (7)")
                else:
                    assert conn.execute("SELECT value FROM kept").fetchone() == (7,)


def test_missing_binary_is_one_clear_error(tmp_path: Path) -> None:
    process = ManagedProcess("redis", [str(tmp_path / "no-such-redis-server")],
                             log_path=tmp_path / "redis.log")
    with pytest.raises(LauncherError, match=r"redis: binary not found at .*no-such-redis-server"):
        process.start()


def test_port_clash_is_one_line_and_exit_status_2() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "oms.launcher", "run", "--throwaway",
             "--require-free-port", str(port), "--", "true"],
            capture_output=True, text=True, timeout=60, check=False,
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"oms.launcher: port {port} is already in use (another `make up`?); "
        "stop what holds it and try again"
    ]


def test_service_that_dies_at_start_is_one_line_with_its_log(tmp_path: Path) -> None:
    process = ManagedProcess("redis", ["/bin/sh", "-c", "echo 'bad config line 3'; exit 1"],
                             log_path=tmp_path / "redis.log")
    process.start()
    with pytest.raises(LauncherError, match=r"^redis exited with code 1: bad config line 3"):
        process.wait_until_ready(lambda: False, timeout=10)
