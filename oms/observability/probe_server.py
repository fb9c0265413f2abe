"""A small HTTP server for roles that are not web servers (processor, relay, market data,
Celery): `/health`, `/ready` and `/metrics` on `OMS_PROBE_PORT`, in a daemon
thread, so Kubernetes probes and Prometheus treat every role alike.

Liveness fails when the role's main loop has not reported progress within `stall_after`
seconds: a wedged consumer gets restarted instead of silently holding its partitions."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from oms.observability import metrics  # noqa: F401 - registers the kernel counters to export
from oms.observability.health import CheckResult, readiness_report

logger = logging.getLogger(__name__)


def exported_metrics() -> bytes:
    """This process's metrics; in a server of several worker processes (the web role under
    gunicorn, `PROMETHEUS_MULTIPROC_DIR` set) those of every worker, added up."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    return generate_latest(registry)


class Heartbeat:
    """The main loop calls `beat()` each turn; liveness reads `age()`."""

    def __init__(self) -> None:
        self._last = time.monotonic()

    def beat(self) -> None:
        self._last = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self._last


class ProbeServer:
    def __init__(
        self,
        *,
        port: int,
        role: str,
        readiness: Callable[[], list[CheckResult]],
        heartbeat: Heartbeat | None = None,
        stall_after: float = 120.0,
    ) -> None:
        self.role = role
        self.heartbeat = heartbeat
        self.stall_after = stall_after
        self.readiness = readiness
        self._server = ThreadingHTTPServer(("0.0.0.0", port), self._handler_class())  # noqa: S104 - probed by the kubelet from outside the pod
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"probe-{role}")

    def start(self) -> ProbeServer:
        self._thread.start()
        logger.info("probe server of %s on port %s", self.role, self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _liveness(self) -> tuple[int, dict[str, object]]:
        age = self.heartbeat.age() if self.heartbeat else 0.0
        alive = age < self.stall_after
        return (200 if alive else 503), {
            "status": "alive" if alive else "stalled", "role": self.role,
            "seconds_since_progress": round(age, 1),
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._send(200, exported_metrics(), CONTENT_TYPE_LATEST)
                    return
                if self.path == "/health":
                    status, body = probe._liveness()
                elif self.path == "/ready":
                    status, body = readiness_report(probe.readiness())
                    body["role"] = probe.role
                else:
                    status, body = 404, {"error": "not found"}
                self._send(status, json.dumps(body).encode(), "application/json")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # probes every few seconds would drown the role's own logs

        return Handler
