"""One managed child process of the launcher: started in its own session (so Ctrl-C in the
terminal reaches the launcher, which then stops services in order), logged to a file,
probed until it answers, and stopped with a signal and a deadline."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class LauncherError(RuntimeError):
    """A service could not be started or reached. Its message is one line for the user."""


LOWEST_PORT = 10_000  # below it: ports the system's own services may expect


def free_port() -> int:
    """A loopback TCP port nobody listens on right now, below the kernel's range for the
    local ports of outgoing connections. A port from that range (a bind to port 0) can be
    taken by any process's next connection (to PostgreSQL, Redis, the broker) before the
    server it was meant for binds it; a fault test's role once died so ("Address already
    in use")."""
    lowest_ephemeral = _lowest_ephemeral_port()
    for _ in range(100):
        port = random.randrange(LOWEST_PORT, lowest_ephemeral)  # noqa: S311 - not a secret
        if port_is_free(port):
            return port
    raise LauncherError(f"no free port between {LOWEST_PORT} and {lowest_ephemeral}")


def _lowest_ephemeral_port() -> int:
    """The start of the kernel's range for outgoing connections' local ports (Linux; its
    default elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def last_line(path: Path) -> str:
    """The last non-empty line of a log file: usually the reason a service died."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    except OSError:
        return "(no log)"
    lines = [line for line in lines if line]
    return lines[-1] if lines else "(empty log)"


class ManagedProcess:
    """A service binary run as a child process until `stop()`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        user: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.user = user
        self.env = env
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> None:
        if not Path(self.argv[0]).is_file():
            raise LauncherError(f"{self.name}: binary not found at {self.argv[0]}")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=self.user,
                env=self.env,
            )

    def wait_until_ready(self, probe: Callable[[], bool], *, timeout: float) -> None:
        """Poll `probe` until it answers True; fail with the service's last log line if the
        process exits or the deadline passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._popen is not None and self._popen.poll() is not None:
                raise LauncherError(
                    f"{self.name} exited with code {self._popen.returncode}: "
                    f"{last_line(self.log_path)} (log: {self.log_path})"
                )
            if probe():
                return
            time.sleep(0.1)
        raise LauncherError(
            f"{self.name} did not answer within {timeout:.0f}s: {last_line(self.log_path)}"
        )

    def send(self, sig: signal.Signals) -> None:
        if self._popen is not None and self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._popen.pid, sig)

    def stop(self, *, sig: signal.Signals = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Ask the service to stop; kill it if it has not stopped by the deadline."""
        if self._popen is None or self._popen.poll() is not None:
            return
        self.send(sig)
        try:
            self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            self._popen.wait(timeout=5)

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None
