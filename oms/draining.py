"""Whether this process is draining for a restart (SIGTERM), for what must behave
differently then: a WebSocket that ends because its server stops is not the client going
away, so it must not fire the client's cancel-on-disconnect (`apps.orders.ws`). Set by
the server (`oms.serve`), read by the connections it serves; one flag per process, never
cleared (a draining process only exits)."""

from __future__ import annotations

import threading

_draining = threading.Event()


def begin_draining() -> None:
    _draining.set()


def is_draining() -> bool:
    return _draining.is_set()
