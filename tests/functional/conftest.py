"""The application served for real, as the Procfile runs its roles: the web role (gunicorn
with config/gunicorn.py, WSGI) and the ws role (daphne through `oms.serve`, ASGI), each in
a process of its own on the test database (so a test's data must be committed:
`transactional_db`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from oms.launcher.process import free_port


def role_command(role: str, port: int) -> list[str]:
    """The command of the `web` or `ws` role on `port`, as the Procfile has it."""
    if role == "web":
        return [str(Path(sys.executable).parent / "gunicorn"), "--config",
                "python:config.gunicorn", "--bind", f"127.0.0.1:{port}",
                "config.wsgi:application"]
    return [sys.executable, "-m", "oms.serve", "-b", "127.0.0.1", "-p", str(port),
            "config.asgi:application"]


@contextlib.contextmanager
def serving(role: str = "ws", **env: str) -> Iterator[str]:
    """The `role` (`web` or `ws`) on a free port, on the test database, with `env` added
    to its environment; its base URL once it answers."""
    port = free_port()
    database_url = settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{connection.settings_dict['NAME']}"
    process = subprocess.Popen(
        role_command(role, port),
        env={**os.environ, "DATABASE_URL": database_url, "OMS_DRAIN_SECONDS": "1", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the served app exited at start"
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the served app never answered"
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def served_app(transactional_db: None) -> Iterator[str]:
    """The ws role (daphne, ASGI: HTTP and WebSockets)."""
    with serving() as url:
        yield url


@pytest.fixture
def served_web(transactional_db: None) -> Iterator[str]:
    """The web role (gunicorn, WSGI: the REST API)."""
    with serving("web") as url:
        yield url
