"""`python -m oms.launcher supervise [--procfile Procfile]`: runs every role of a Procfile
under `make up`, and keeps them running.

honcho, which did this before, stops every role as soon as one exits: a ten-second Redis
blip that killed the market maker took the whole stack down. Here a role that fails (exits
with a non-zero code or is killed by a signal) is started again after a pause that doubles
from one second up to `MAX_RESTART_DELAY` (and starts over once the role has run for
`STEADY_SECONDS`), with one log line each time, while the other roles keep running; a role
that finishes (exit code 0, such as a role switched off by its settings) stays stopped.
Output is prefixed with the role's name, as honcho did. Ctrl-C or SIGTERM stops every role
(SIGTERM, then SIGKILL after `STOP_SECONDS`) and the supervisor exits 0."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

FIRST_RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 30.0
STEADY_SECONDS = 60.0
STOP_SECONDS = 30.0


def read_procfile(path: Path) -> dict[str, list[str]]:
    """Each `name: command` line of a Procfile, in order (comments and blanks skipped)."""
    roles: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, _, command = stripped.partition(":")
        roles[name.strip()] = shlex.split(command)
    return roles


class Output:
    """Prefixed lines from every role to one stream, never interleaved mid-line."""

    def __init__(self, stream: IO[str], width: int) -> None:
        self.stream = stream
        self.width = width
        self._lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        stamp = datetime.now().astimezone().strftime("%H:%M:%S")
        with self._lock:
            self.stream.write(f"{stamp} {name:<{self.width}} | {text}\n")
            self.stream.flush()


@dataclass
class Role:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_delay: float = FIRST_RESTART_DELAY
    restart_at: float | None = None
    reader: threading.Thread | None = None


class Supervisor:
    def __init__(self, roles: dict[str, list[str]], *, output: Output) -> None:
        self.roles = [Role(name, argv) for name, argv in roles.items()]
        self.output = output
        self.stopping = threading.Event()

    def _start(self, role: Role) -> None:
        try:
            role.process = subprocess.Popen(
                role.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            self.output.line(role.name, f"cannot start: {exc}")
            self._schedule_restart(role, time.monotonic())
            return
        role.started_at = time.monotonic()
        role.restart_at = None
        self.output.line("supervisor", f"{role.name} started (pid {role.process.pid})")
        role.reader = threading.Thread(target=self._copy_output,
                                       args=(role, role.process.stdout),
                                       daemon=True, name=f"output-{role.name}")
        role.reader.start()

    def _copy_output(self, role: Role, stream: IO[bytes]) -> None:
        for raw in stream:
            self.output.line(role.name, raw.decode(errors="replace").rstrip("\n"))

    def _schedule_restart(self, role: Role, now: float) -> None:
        if now - role.started_at >= STEADY_SECONDS:
            role.restart_delay = FIRST_RESTART_DELAY
        role.restart_at = now + role.restart_delay
        self.output.line("supervisor", f"{role.name} will be restarted in "
                                       f"{role.restart_delay:.0f} s")
        role.restart_delay = min(role.restart_delay * 2, MAX_RESTART_DELAY)

    def run(self) -> int:
        for role in self.roles:
            self._start(role)
        while not self.stopping.wait(0.2):
            now = time.monotonic()
            for role in self.roles:
                if role.restart_at is not None:
                    if now >= role.restart_at:
                        self._start(role)
                    continue
                if role.process is not None and role.process.poll() is not None:
                    if role.reader is not None:
                        role.reader.join(timeout=1)
                    code = role.process.returncode
                    if code == 0:
                        self.output.line("supervisor", f"{role.name} finished (exit code 0)")
                        role.process = None
                        continue
                    self.output.line("supervisor", f"{role.name} exited with code {code}")
                    self._schedule_restart(role, now)
        self._stop_all()
        return 0

    def request_stop(self, signum: int, _frame: object) -> None:
        if not self.stopping.is_set():
            self.output.line("supervisor", f"{signal.Signals(signum).name} received, "
                                           "stopping every role")
        self.stopping.set()

    def _stop_all(self) -> None:
        running = [(role, role.process) for role in self.roles
                   if role.process is not None and role.process.poll() is None]
        for _, process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for role, process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.output.line("supervisor", f"{role.name} did not stop in "
                                               f"{STOP_SECONDS:.0f} s; killing it")
                _signal_group(process, signal.SIGKILL)
                process.wait()
            if role.reader is not None:
                role.reader.join(timeout=1)
            self.output.line("supervisor", f"{role.name} stopped")


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """The role and whatever it started (its own session, so its own process group)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return


def supervise(procfile: Path) -> int:
    roles = read_procfile(procfile)
    output = Output(sys.stdout, width=max(len(name) for name in [*roles, "supervisor"]))
    supervisor = Supervisor(roles, output=output)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    return supervisor.run()
