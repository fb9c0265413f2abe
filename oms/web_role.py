"""The process hooks of the `web` role's server (config/gunicorn.py): what the master and
each worker process start and stop, so that every worker behaves like a role of its own
(`oms.roles`) while the master only supervises.

Nothing here touches Django in the master: it forks the workers, and a Kafka client or a
database connection made before a fork is not safe to use after it. So the master's probe
server (`OMS_PROBE_PORT`) answers `/metrics` from the files every worker writes, and
`/ready` by asking the workers' own `/ready` on the public port (they run the dependency
checks)."""

from __future__ import annotations

import http.client
import json
import os
import time

from prometheus_client import multiprocess

from oms.observability.health import CheckResult
from oms.observability.probe_server import ProbeServer
from oms.resilience.probes import BreakerProbe

READY_TIMEOUT_SECONDS = 5.0
_breaker_probe: list[BreakerProbe] = []


def start_probe_server(*, app_address: tuple[str, int]) -> None:
    """In the master: `/health`, `/ready` and `/metrics` on `OMS_PROBE_PORT`, when set."""
    port = os.environ.get("OMS_PROBE_PORT")
    if not port:
        return
    host, app_port = app_address[0], app_address[1]
    if host in ("0.0.0.0", "::"):  # noqa: S104 - an address compared, not bound
        host = "127.0.0.1"

    def workers_ready() -> list[CheckResult]:
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, app_port, timeout=READY_TIMEOUT_SECONDS)
        try:
            # Production allows the pod's own address (POD_IP) as a Host, not loopback.
            connection.request("GET", "/ready",
                               headers={"Host": os.environ.get("POD_IP", host)})
            response = connection.getresponse()
            body = json.loads(response.read() or b"{}")
            ok, detail = response.status == 200, json.dumps(body.get("failing", "ok"))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        return [CheckResult("workers", ok, detail[:300], time.perf_counter() - started)]

    ProbeServer(port=int(port), role="web", readiness=workers_ready).start()


def worker_started() -> None:
    """In each worker, once it has loaded the application: the breaker probe of its own
    dependencies, and its Kafka producer. An idempotent producer asks the broker for its
    producer id only after a first back-off (half a second to a second after it is made,
    whether the broker answered sooner or not): made here, before the first order, so
    that no order waits for it."""
    from oms.kafka.shared import event_producer
    from oms.observability.health import DEPENDENCY_CHECKS

    _breaker_probe.append(BreakerProbe(DEPENDENCY_CHECKS).start())
    event_producer()


def worker_stopping() -> None:
    """In each worker, once it has answered its last request: whatever a request queued
    on its Kafka producer is sent before the exit."""
    from oms.kafka.shared import close_producers

    for probe in _breaker_probe:
        probe.stop()
    close_producers(timeout=5)


def worker_exited(pid: int) -> None:
    """In the master: a worker's live gauges no longer count in `/metrics`."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]  # untyped upstream
