"""The runtime every long-running role shares: a probe server (`/health`, `/ready`,
`/metrics` on `OMS_PROBE_PORT`), SIGTERM and SIGINT handled as "finish the current step,
then stop", and a heartbeat the main loop advances. A role is a management command that
subclasses `RoleCommand` and implements `run_role`."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from oms.observability.health import run_checks
from oms.observability.probe_server import Heartbeat, ProbeServer

logger = logging.getLogger(__name__)


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
        heartbeat = Heartbeat()
        probe = ProbeServer(
            port=int(os.environ.get("OMS_PROBE_PORT", "0")),
            role=self.role,
            readiness=lambda: run_checks(list(self.dependencies)),
            heartbeat=heartbeat,
        ).start()
        logger.info("%s started (probes on port %s)", self.role, probe.port)
        try:
            self.run_role(stop=stop, heartbeat=heartbeat, **options)
        finally:
            probe.stop()
            logger.info("%s stopped", self.role)

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        raise NotImplementedError

