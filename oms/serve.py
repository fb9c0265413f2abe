"""`python -m oms.serve <daphne arguments>`: daphne, stopping gracefully on SIGTERM.

Daphne's own SIGTERM handling stops the reactor at once: it keeps accepting connections
while it cancels the requests in flight, so under load a stopping pod drops answers it
owed and may never get to exit. Here SIGTERM (or SIGINT) first closes the listening
sockets (the load balancer's next attempt goes to another pod) and the keep-alive
connections (each after the response it owes) and every WebSocket (4503, `restarting`:
its client reconnects to another replica), then waits until every request in flight has
been answered, at most `OMS_DRAIN_SECONDS` (25 s by default, inside the pods' 45 s grace
period; the `ws` role sets 5 s), and only then stops. From the signal on, `oms.draining`
says so: the WebSockets it ends are not their clients leaving, so no cancel-on-disconnect
fires. Every other argument is daphne's.

With `OMS_PROBE_PORT` set it also serves `/health`, `/ready` and `/metrics` there, as every
other role does, so production scrapes metrics off the public port.

Like every role, it runs a `BreakerProbe`: a breaker opened by an outage closes as soon as
its dependency answers again, so order entry serves again within about a second instead
of answering 503 for the rest of the breaker's open time."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer, tcp
from twisted.internet import reactor as twisted_reactor
from twisted.web import http

from oms.draining import begin_draining
from oms.kafka.shared import close_producers
from oms.observability.health import DEPENDENCY_CHECKS
from oms.resilience.probes import BreakerProbe

logger = logging.getLogger(__name__)

DRAIN_SECONDS = float(os.environ.get("OMS_DRAIN_SECONDS", "25"))
# The server is restarting: reconnect (autobahn sends no registered code but 1000, and
# 1000 would read as "done").
CLOSE_RESTARTING = 4503
# The installed reactor (daphne installs asyncio's); its stubs describe the module.
reactor: Any = twisted_reactor


class GracefulServer(Server):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "signal_handlers": False})
        self._draining = False

    def run(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        breaker_probe = BreakerProbe(DEPENDENCY_CHECKS).start()
        try:
            super().run()
        finally:
            breaker_probe.stop()

    def _on_signal(self, signum: int, _frame: object) -> None:
        # A signal handler may not touch the reactor directly; this wakes it safely.
        reactor.callFromThread(self.drain, signal.Signals(signum).name)

    def drain(self, why: str) -> None:
        if self._draining:
            return
        self._draining = True
        begin_draining()  # the connections it ends from now on are not their clients' doing
        ports: list[Any] = [reader for reader in reactor.getReaders()
                            if isinstance(reader, tcp.Port)]
        for port in ports:
            port.stopListening()
        self._close_websockets()
        logger.info("%s: listening stopped; answering %d requests in flight", why,
                    self.busy())
        self._stop_when_idle(time.monotonic() + DRAIN_SECONDS)

    def busy(self) -> int:
        """Connections whose application is still running (a request in flight, or an
        open WebSocket)."""
        return sum(1 for details in self.connections.values()
                   if (instance := details.get("application_instance")) is not None
                   and not instance.done())

    def _close_websockets(self) -> None:
        """Close every open WebSocket with 4503 (`restarting`): it never ends by itself,
        and its client should reconnect to another replica now rather than find out at
        the end of the drain."""
        for protocol in list(self.connections):
            if isinstance(protocol, WebSocketProtocol) and protocol.state == protocol.STATE_OPEN:
                protocol.sendClose(code=CLOSE_RESTARTING, reason="restarting")

    @staticmethod
    def _close_keep_alive_connections() -> None:
        """Close idle keep-alive connections now and busy ones after their response, so
        clients stop sending requests here and reconnect elsewhere."""
        for reader in reactor.getReaders():
            protocol = getattr(reader, "protocol", None)
            # Twisted wraps each channel in a protocol that could negotiate HTTP/2.
            channel: Any = getattr(protocol, "_channel", protocol)
            if isinstance(channel, http.HTTPChannel):
                channel.persistent = False
                if not channel.requests:
                    channel.loseConnection()  # type: ignore[no-untyped-call]  # Twisted

    def _stop_when_idle(self, deadline: float) -> None:
        self._close_keep_alive_connections()
        if self.busy() and time.monotonic() < deadline:
            reactor.callLater(0.05, self._stop_when_idle, deadline)
            return
        logger.info("stopping with %d connections still busy", self.busy())
        self.stop()

    def kill_all_applications(self) -> defer.Deferred[list[Any]]:
        """Daphne's version, minus its KeyError on keep-alive connections that carry no
        request at the moment: cancel what still runs and wait for it."""
        running = [details["application_instance"] for details in self.connections.values()
                   if details.get("application_instance") is not None
                   and not details["application_instance"].done()]
        for instance in running:
            instance.cancel()
        waiting = defer.Deferred.fromFuture(asyncio.gather(*running))
        waiting.addErrback(lambda _failure: None)
        return waiting


def start_probe_server() -> None:
    """`/health`, `/ready` and `/metrics` on `OMS_PROBE_PORT` when set, as every other role
    has: production scrapes the web roles' metrics there, not on their public port."""
    port = os.environ.get("OMS_PROBE_PORT")
    if not port:
        return
    from oms.observability.health import run_checks
    from oms.observability.probe_server import ProbeServer

    ProbeServer(port=int(port), role="web", readiness=run_checks).start()


def main() -> None:
    start_probe_server()
    cli = CommandLineInterface()
    cli.server_class = GracefulServer
    cli.run(sys.argv[1:])
    close_producers(timeout=5)  # whatever a request queued is sent before the exit


if __name__ == "__main__":
    main()
