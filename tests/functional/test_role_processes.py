"""Every long-running role starts as its own process, answers liveness, readiness and
metrics on its probe port, and stops promptly and cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.error import URLError

import pytest

from oms.launcher.process import free_port

# Each role's `manage.py` arguments: the registered consumers run by `run_consumer`.
ROLE_COMMANDS = [("run_consumer", "processor"), ("run_relay",), ("run_consumer", "marketdata"),
                 ("run_consumer", "risk")]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("command", ROLE_COMMANDS, ids=" ".join)
def test_role_answers_probes_and_stops_on_sigterm(command: tuple[str, ...]) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "manage.py", *command],
                               env={**os.environ, "OMS_PROBE_PORT": str(port)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/health")
                break
            except (URLError, ConnectionError):
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert status == 200
        assert json.loads(body)["status"] == "alive"
        status, body = get(f"http://127.0.0.1:{port}/ready")
        assert status == 200, body
        status, body = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert b"oms_events_published_total" in body
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        output = process.stdout.read().decode() if process.stdout else ""
        lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert any(line["message"].endswith("stopped") for line in lines)
    finally:
        if process.poll() is None:
            process.kill()
