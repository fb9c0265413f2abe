"""Liveness and readiness. Liveness says the process runs (no dependencies, so a database
outage does not make Kubernetes restart every pod); readiness says each dependency this
role needs answers, and names the ones that do not."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.db import connection

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    seconds: float


def check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


@functools.cache
def _kafka_admin(bootstrap_servers: str) -> AdminClient:
    return AdminClient({
        "bootstrap.servers": bootstrap_servers, "log_level": 0, **settings.KAFKA_CLIENT_CONFIG
    })


def check_kafka() -> None:
    _kafka_admin(settings.KAFKA_BOOTSTRAP_SERVERS).list_topics(timeout=CHECK_TIMEOUT_SECONDS)


DEPENDENCY_CHECKS: dict[str, Callable[[], None]] = {
    "postgres": check_postgres,
    "redis": check_redis,
    "kafka": check_kafka,
}


def run_checks(names: list[str] | None = None) -> list[CheckResult]:
    results = []
    for name in names or list(DEPENDENCY_CHECKS):
        started = time.perf_counter()
        try:
            DEPENDENCY_CHECKS[name]()
        except Exception as exc:  # noqa: BLE001 - any failure makes the dependency "down"
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"[:300],
                                       time.perf_counter() - started))
        else:
            results.append(CheckResult(name, True, "ok", time.perf_counter() - started))
    return results


def readiness_report(results: list[CheckResult]) -> tuple[int, dict[str, object]]:
    """HTTP status and body of `/ready`: 200, or 503 naming each failing dependency."""
    failing = [result.name for result in results if not result.ok]
    body: dict[str, object] = {
        "status": "unavailable" if failing else "ready",
        "failing": failing,
        "checks": {
            result.name: {"ok": result.ok, "detail": result.detail,
                          "ms": round(result.seconds * 1000, 1)}
            for result in results
        },
    }
    return (503 if failing else 200), body
