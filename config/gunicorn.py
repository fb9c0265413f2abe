"""Gunicorn configuration of the `web` role: `gunicorn -c python:config.gunicorn
config.wsgi:application` (Procfile, image, Kubernetes).

Why gunicorn with gthread workers: `make bench-ingest` measures the bare Django and the
bare DRF views under daphne, uvicorn, gunicorn (sync and gthread) and granian with the
same worker count, and the WSGI servers serve Django's sync views without the ASGI thread
hop. Among those, gthread keeps client connections alive (sync workers close each one),
overlaps the wait for Kafka's acknowledgement of an order across its threads, and stops
gracefully by itself (README, "Roles" and "Numbers").

- Workers: `WEB_CONCURRENCY` (Kubernetes sets it from the container's CPU limit), else one
  per CPU this process may run on. Threads per worker: `OMS_WEB_THREADS` (8): order entry
  spends most of its time waiting on Redis and Kafka, not on the CPU.
- Each worker has its own Kafka producer (created on its first publish, after the fork),
  its own breaker probe, and flushes its producer when it exits.
- SIGTERM drains: the master closes the listening sockets, each worker answers the
  requests in flight and closes its keep-alive connections, within `OMS_DRAIN_SECONDS`
  (25, inside the pods' 45 s grace period), then exits 0.
- Metrics: the workers write to `PROMETHEUS_MULTIPROC_DIR` (a fresh directory unless set),
  so `/metrics` (on the public port where enabled, and on `OMS_PROBE_PORT`, served by the
  master) adds up every worker's."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

# Before anything imports prometheus_client: it picks its multiprocess storage at import,
# and the workers inherit the master's modules.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="oms-web-metrics-"))

from oms.gc_tuning import WEB_YOUNG_THRESHOLD, settle_heap
from oms.web_role import (
    start_probe_server,
    worker_exited,
    worker_started,
    worker_stopping,
)

wsgi_app = "config.wsgi:application"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or len(os.sched_getaffinity(0)))
threads = int(os.environ.get("OMS_WEB_THREADS", "8"))
GIL_SWITCH_SECONDS = 0.0005
graceful_timeout = int(os.environ.get("OMS_DRAIN_SECONDS", "25"))
# Longer than the load balancer's idle timeout (the ALB's 60 s), so the balancer, not
# gunicorn, closes idle connections and never sends on one gunicorn has just closed.
keepalive = 75
# The control socket (gunicornc) would be one path shared by every gunicorn of the user;
# the role is driven by signals (Kubernetes, the launcher's supervisor).
control_socket_disable = True
# The Procfile's access lines would double the JSON request log of oms.observability.
accesslog = None
errorlog = "-"
# Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE, API_MAX_BODY_BYTES) judges bodies.
limit_request_line = 8190


def when_ready(server: Any) -> None:
    start_probe_server(app_address=server.LISTENERS[0].sock.getsockname())


def post_worker_init(worker: Any) -> None:
    # Each order waits for its Kafka acknowledgement, which the producer's delivery thread
    # hands over; with the default 5 ms GIL switch interval that thread waits behind the
    # request threads for every acknowledgement.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    # Once the worker has loaded the application; short pauses (oms.gc_tuning).
    settle_heap(WEB_YOUNG_THRESHOLD)
    worker_started()


def worker_exit(server: Any, worker: Any) -> None:
    worker_stopping()


def child_exit(server: Any, worker: Any) -> None:
    worker_exited(worker.pid)
