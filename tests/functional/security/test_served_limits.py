"""Limits that only the real server can show (the web role under gunicorn and the ws role
under daphne, as production runs them): a chunked body, which declares no length, is held
to the same 64 KiB as any other; `/metrics` is on the probe port, and off the public port
where settings say so (production)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings
from rest_framework.authtoken.models import Token

from apps.accounts.models import ApiKey
from oms.auth.roles import Role
from oms.launcher.process import free_port
from tests.functional.accounts.conftest import client_for
from tests.functional.conftest import serving

API_LIMIT = settings.REQUEST_BODY_LIMITS["/api/"]


def chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    """A body `requests` sends chunked (`Transfer-Encoding: chunked`, no Content-Length)."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def key_request(size: int) -> bytes:
    body = json.dumps({"name": "chunked", "scopes": ["read"]})
    return (body + " " * (size - len(body))).encode()


@pytest.mark.parametrize("role", ["web", "ws"])
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_is_413(role: str) -> None:
    with serving(role) as url:
        chunked_body_over_the_limit_is_413(url)


def chunked_body_over_the_limit_is_413(served_app: str) -> None:
    user = client_for("opsy", Role.OPS).user  # type: ignore[attr-defined]
    auth = {"Authorization": f"Token {Token.objects.get(user=user).key}",
            "Content-Type": "application/json"}
    response = requests.post(f"{served_app}/api/api-keys", data=chunks(key_request(
        API_LIMIT + 1)), headers=auth, timeout=30)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "request_too_large"
    assert not ApiKey.objects.exists()
    within = requests.post(f"{served_app}/api/api-keys", data=chunks(key_request(API_LIMIT)),
                           headers=auth, timeout=30)
    assert within.status_code == 201, within.text
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize("role", ["web", "ws"])
@pytest.mark.django_db(transaction=True)
def test_metrics_are_on_the_probe_port_and_off_the_public_one_when_configured(
    role: str,
) -> None:
    probe = free_port()
    with serving(role, OMS_PROBE_PORT=str(probe), OMS_METRICS_ON_WEB="false") as url:
        assert requests.get(f"{url}/metrics", timeout=10).status_code == 404
        assert requests.get(f"{url}/health", timeout=10).status_code == 200
        metrics = requests.get(f"http://127.0.0.1:{probe}/metrics", timeout=10)
        assert metrics.status_code == 200
        assert "django_http_requests" in metrics.text  # the web role's own, not a copy
    with serving(role) as url:  # development and tests keep it on the public port
        assert requests.get(f"{url}/metrics", timeout=10).status_code == 200


def test_production_keeps_metrics_off_the_public_port() -> None:
    printed = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import "
         "settings; print(settings.OMS_METRICS_ON_WEB)"],
        env={**os.environ, "OMS_ENV": "prod", "SECRET_KEY": "x" * 50,
             "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=60, check=False)
    assert printed.stdout.strip().splitlines()[-1] == "False", printed.stderr
