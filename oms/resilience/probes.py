"""Ends a role's open breaker's wait as soon as its dependency answers again.

An open breaker fails every call for its open time (30 s, doubling after a failed trial)
and only then lets one trial through, so after a ten-second Redis blip a role would stay
out of service for most of a minute. Each long-running role (`oms.roles`) therefore runs
a `BreakerProbe`: every second, for each of its dependencies whose breaker is open, it
runs the readiness check of that dependency (a `PING`, a `SELECT 1`, a metadata request)
outside the breaker, and when the check passes it ends the breaker's open time: the role's
next call is the breaker's trial, which closes it. (The probe does not close the breaker
itself: the role's own connection may still be the one the outage broke, and only the
role's trial, such as `oms.resilience.database.database_answers`, renews it.) The breaker
still spares the dependency the role's real traffic while it is down; the role serves
again within about a second of the dependency answering."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from django.db import close_old_connections

from oms.resilience.breakers import State, breaker

logger = logging.getLogger(__name__)

PROBE_INTERVAL_SECONDS = 1.0


class BreakerProbe:
    def __init__(self, checks: Mapping[str, Callable[[], None]], *,
                 every: float = PROBE_INTERVAL_SECONDS) -> None:
        self.checks = dict(checks)
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="breaker-probe")

    def start(self) -> BreakerProbe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            for name, check in self.checks.items():
                guard = breaker(name)
                if guard.state is not State.OPEN:
                    continue
                try:
                    check()
                except Exception:  # noqa: BLE001, S112 - still down: the breaker stays open
                    continue
                finally:
                    close_old_connections()
                guard.end_open_time()
                logger.info("%s answers again; the next call is its breaker's trial", name)
