"""The runtime every long-running role shares: a probe server (`/health`, `/ready`,
`/metrics` on `OMS_PROBE_PORT`), SIGTERM and SIGINT handled as "finish the current step,
then stop", and a heartbeat the main loop advances. A role is a management command that
subclasses `RoleCommand` and implements `run_role`.

A dependency blip never ends a role: when `run_role` raises one of
`oms.resilience.dependencies.DEPENDENCY_ERRORS` (Redis, PostgreSQL, the broker, an open
breaker), the role says so in one line, answers `/ready` with 503 naming `main_loop`,
and runs `run_role` again after a pause that doubles from half a second up to
`MAX_RETRY_SECONDS`, so it serves again within seconds of the dependency answering
(`oms.resilience.probes` ends an open breaker's wait as soon as its dependency answers)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from oms.observability.health import (
    DEPENDENCY_CHECKS,
    declare_not_ready,
    declare_ready,
    run_checks,
)
from oms.observability.probe_server import Heartbeat, ProbeServer
from oms.resilience.dependencies import DEPENDENCY_ERRORS
from oms.resilience.probes import BreakerProbe

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 4.0
# A main loop that ran this long before failing starts its pauses over.
STEADY_SECONDS = 60.0
MAIN_LOOP = "main_loop"


class LoopHeartbeat(Heartbeat):
    """The main loop's heartbeat; its first beat after a failure also ends the `main_loop`
    not-ready condition, since the loop is running again."""

    def __init__(self) -> None:
        super().__init__()
        self.recovering = False

    def beat(self) -> None:
        super().beat()
        if self.recovering:
            self.recovering = False
            declare_ready(MAIN_LOOP)


class RoleCommand(BaseCommand):
    role: str = ""
    dependencies: tuple[str, ...] = ("postgres", "redis", "kafka")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, _frame: object) -> None:
            logger.info("%s: %s received, stopping after the current step",
                        self.role, signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        heartbeat = LoopHeartbeat()
        probe = ProbeServer(
            port=int(os.environ.get("OMS_PROBE_PORT", "0")),
            role=self.role,
            readiness=lambda: run_checks(list(self.dependencies)),
            heartbeat=heartbeat,
        ).start()
        breaker_probe = BreakerProbe({name: DEPENDENCY_CHECKS[name]
                                      for name in self.dependencies}).start()
        logger.info("%s started (probes on port %s)", self.role, probe.port)
        try:
            self._run_until_stopped(stop=stop, heartbeat=heartbeat, **options)
        finally:
            breaker_probe.stop()
            probe.stop()
            logger.info("%s stopped", self.role)

    def _run_until_stopped(self, *, stop: threading.Event, heartbeat: LoopHeartbeat,
                           **options: Any) -> None:
        delay = FIRST_RETRY_SECONDS
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.run_role(stop=stop, heartbeat=heartbeat, **options)
            except DEPENDENCY_ERRORS as exc:
                if time.monotonic() - started > STEADY_SECONDS:
                    delay = FIRST_RETRY_SECONDS
                detail = f"{type(exc).__name__}: {exc}"[:300]
                logger.warning("%s: a dependency failed (%s); running again in %.1f s",
                               self.role, detail, delay)
                heartbeat.beat()
                declare_not_ready(MAIN_LOOP, f"retrying after {detail}")
                heartbeat.recovering = True
                stop.wait(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                close_old_connections()
            else:
                return

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        raise NotImplementedError

