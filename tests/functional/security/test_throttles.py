"""Rate limits that a client cannot walk around: the client address is the socket's unless
the request came through a trusted proxy (`OMS_TRUSTED_PROXIES`), so a forged
`X-Forwarded-For` does not make a new client; every way to log in (the browsable API's
form, the admin's form, the token endpoint) is throttled per address; API-key creation,
the what-if and every other API read and write are throttled per user (`api-user`)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey
from oms.auth.roles import Role
from tests.functional.accounts.conftest import PASSWORD, client_for, limit_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inside_one_rate_window")]

def place(client: APIClient, forwarded_for: str) -> int:
    return int(client.post("/api/orders", limit_order(), format="json",
                           HTTP_X_FORWARDED_FOR=forwarded_for).status_code)


def test_a_forged_forwarded_for_still_hits_the_per_ip_order_limit(instruments: None) -> None:
    alice = client_for("alice", Role.TRADER)
    with override_settings(OMS_RATE_LIMITS={"orders-user": "1000/s", "orders-ip": "2/m"}):
        statuses = [place(alice, f"203.0.113.{n}") for n in range(3)]
    assert statuses == [202, 202, 429]


def test_behind_a_trusted_proxy_the_forwarded_client_counts(instruments: None) -> None:
    alice = client_for("alice", Role.TRADER)
    with override_settings(OMS_RATE_LIMITS={"orders-user": "1000/s", "orders-ip": "2/m"},
                           OMS_TRUSTED_PROXIES=["127.0.0.0/8"]):
        # The test client's socket address is 127.0.0.1: the proxy. The rightmost address it
        # did not add itself is the client; what the client wrote to the left is ignored.
        assert [place(alice, f"198.51.100.{n}, 203.0.113.7") for n in range(2)] == [202, 202]
        assert place(alice, "203.0.113.8") == 202
        assert place(alice, "203.0.113.7") == 429


@pytest.mark.parametrize("path", ["/api-auth/login/", "/admin/login/"])
def test_repeated_form_logins_are_throttled(path: str) -> None:
    get_user_model().objects.create_user(username="mallory", password=PASSWORD)
    browser = Client()
    with override_settings(OMS_RATE_LIMITS={"auth-ip": "2/m"}):
        statuses = [browser.post(path, {"username": "mallory", "password": "guess"},
                                 HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
                    for n in range(3)]
        throttled = browser.post(path, {"username": "mallory", "password": PASSWORD})
    assert statuses == [200, 200, 429]  # the form comes back with its error, then 429
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert throttled.json()["errors"][0]["code"] == "throttled"
    assert "_auth_user_id" not in browser.session


def test_repeated_token_logins_are_throttled() -> None:
    get_user_model().objects.create_user(username="mallory", password=PASSWORD)
    client = APIClient()
    with override_settings(OMS_RATE_LIMITS={"auth-ip": "2/m"}):
        statuses = [client.post("/api/auth/token", {"username": "mallory", "password": "guess"},
                                format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
                    for n in range(3)]
    assert statuses == [401, 401, 429]


def test_api_key_creation_is_throttled_per_user() -> None:
    alice = client_for("alice", Role.TRADER)
    with override_settings(OMS_RATE_LIMITS={"api-keys-user": "2/h"}):
        statuses = [alice.post("/api/api-keys", {"name": "bot", "scopes": ["read"]},
                               format="json").status_code for _ in range(3)]
        assert alice.get("/api/api-keys").status_code == 200  # listing is not creating
    assert statuses == [201, 201, 429]
    assert ApiKey.objects.count() == 2


def test_the_what_if_is_throttled_per_user(instruments: None) -> None:
    alice = client_for("alice", Role.TRADER)
    body = json.dumps(limit_order())
    with override_settings(OMS_RATE_LIMITS={"api-user": "2/m"}):
        statuses = [alice.post("/api/risk/validate", body, content_type="application/json")
                    .status_code for _ in range(3)]
        assert alice.get("/api/balances").status_code == 429  # the same per-user budget
    assert statuses == [200, 200, 429]
