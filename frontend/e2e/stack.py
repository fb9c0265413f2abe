"""The inside of frontend/e2e/run.sh, under `python -m oms.launcher run --throwaway` (so
DATABASE_URL, REDIS_URL and KAFKA_BOOTSTRAP_SERVERS are set): migrate, seed the demo venue,
start daphne on a free port and the processor, relay and marketdata roles, then the demo
venue's market maker and demo taker against it (so the book is deep and trades happen, as
under `make up`), wait for the UI, run the Playwright specs, stop every role it started."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

FRONTEND = Path(__file__).resolve().parent.parent
ROOT = FRONTEND.parent
PY = str(ROOT / ".venv" / "bin" / "python")
LOGS = ROOT / "test-artifacts" / "e2e" / "logs"
# Each role's name and `manage.py` arguments.
ROLES = {"processor": ("run_consumer", "processor"), "relay": ("run_relay",),
         "marketdata": ("run_consumer", "marketdata")}
# The demo venue's order flow, as `make up` runs it: the market maker quotes, the demo taker
# crosses the spread, both through the web role's public API.
DEMO_ROLES = ("run_market_maker", "run_demo_taker")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def manage(*args: str) -> str:
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True, text=True,
                          capture_output=True).stdout


class Roles:
    """The processes this run started, each logging to its own file; stopped with SIGTERM."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *command: str, env: dict[str, str] | None = None) -> None:
        log = (LOGS / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(command, cwd=ROOT, stdout=log,
                                                stderr=subprocess.STDOUT, env=env)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        if dead:
            sys.exit(f"e2e: roles exited early: {dead} (logs in {LOGS})")


def wait_for(what: str, url: str, ready: Callable[[Any], bool], token: str | None = None,
             timeout: float = 60) -> None:
    """Polls `url` until `ready(its JSON)`; exits the run on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready(get_json(url, token)):
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    sys.exit(f"e2e: timed out waiting for {what} (logs in {LOGS})")


def get_json(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Token {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
        return json.load(r)


def get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:
        return str(response.read().decode())


def main() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    manage("migrate", "--noinput", "-v0")
    seed = manage("seed_demo")
    (LOGS / "seed_demo.txt").write_text(seed)
    # The tests trade at fixed prices (64,000 to 71,000) while the simulator's BTC reference
    # walks from 60,000: the default 10 % price band of a fresh install would refuse them.
    manage("set_limits", "price_band=none")
    tokens = dict(re.findall(r"^\s+\w+\s+(\w+)\s+password \S+\s+token (\w+)$", seed, re.M))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    roles = Roles()
    with ExitStack() as cleanup:
        cleanup.callback(roles.stop_all)
        roles.start("web", str(ROOT / ".venv" / "bin" / "daphne"), "-b", "127.0.0.1", "-p",
                    str(port), "config.asgi:application")
        for name, command in ROLES.items():
            roles.start(name, PY, "manage.py", *command)
        wait_for("the web role", f"{base_url}/api/instruments", lambda body: len(body) > 0)
        demo_env = {**os.environ, "OMS_API_URL": base_url}
        for role in DEMO_ROLES:
            roles.start(role.removeprefix("run_").replace("_", "-"), PY, "manage.py", role,
                        env=demo_env)
        if "<div id=\"root\">" not in get_text(f"{base_url}/"):
            sys.exit("e2e: / does not serve the UI's index.html")
        roles.check_alive()
        env = {**os.environ, "E2E_BASE_URL": base_url, "E2E_BOB_TOKEN": tokens["bob"]}
        return subprocess.run(["npx", "playwright", "test", *sys.argv[1:]], cwd=FRONTEND,
                              env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
