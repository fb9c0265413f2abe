"""Liveness and readiness. Liveness says the process runs (no dependencies, so a database
outage does not make Kubernetes restart every pod); readiness says each dependency this
role needs answers, and names the ones that do not.

Readiness also reports this process's circuit breakers. A checked dependency whose
breaker is open makes the role `degraded`, answered with 503 like `unavailable`: the
process is failing every call to that dependency fast until the breaker's next trial, so
a web pod whose Kafka breaker is open should leave the load balancer, and traffic goes
to pods that can serve it. Breakers of other things (exchange feeds) are listed but do not
change the status: a venue's outage is no reason to take a role out of service.

A role may also declare itself not ready for a reason no probe can see (a partition it
refuses because its log was recreated, a main loop waiting to retry after a dependency
failed): `declare_not_ready(name, detail)` until `declare_ready(name)`. Each such
condition is named in `failing` like a dependency that does not answer."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.db import connection

from oms.resilience.breakers import State, breaker, breakers

CHECK_TIMEOUT_SECONDS = 2.0

_not_ready: dict[str, str] = {}
_not_ready_lock = threading.Lock()


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


def declare_not_ready(name: str, detail: str) -> None:
    """This process is not ready because of `name` (one line of `detail`), whatever its
    dependencies answer, until `declare_ready(name)`."""
    with _not_ready_lock:
        _not_ready[name] = detail


def declare_ready(name: str) -> None:
    with _not_ready_lock:
        _not_ready.pop(name, None)


def declared_not_ready() -> dict[str, str]:
    with _not_ready_lock:
        return dict(_not_ready)


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
    """HTTP status and body of `/ready`: 200 `ready`; 503 `unavailable` naming each
    failing dependency; 503 `degraded` naming each answering dependency whose breaker is
    open."""
    declared = declared_not_ready()
    failing = [result.name for result in results if not result.ok] + sorted(declared)
    states = {result.name: breaker(result.name).state for result in results}
    # An open breaker whose open time is over fails nothing fast: its next call is a trial.
    degraded = [result.name for result in results
                if result.ok and states[result.name] is State.OPEN
                and breaker(result.name).retry_after() > 0]
    status = "unavailable" if failing else "degraded" if degraded else "ready"
    body: dict[str, object] = {
        "status": status,
        "failing": failing,
        "degraded": degraded,
        "checks": {
            result.name: {"ok": result.ok, "detail": result.detail,
                          "ms": round(result.seconds * 1000, 1),
                          "breaker": states[result.name].name.lower()}
            for result in results
        },
        "not_ready": declared,
        "breakers": {
            guard.name: {"state": guard.state.name.lower(),
                         "retry_after": round(guard.retry_after(), 1)}
            for guard in breakers()
        },
    }
    return (200 if status == "ready" else 503), body
