"""Bearer JWTs: obtain with a password, use the short-lived access token, refresh (the
refresh token rotates and the old one is blacklisted), revoke at logout."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from oms.auth.roles import Role
from tests.functional.accounts.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db: None) -> APIClient:
    return client_for("alice", Role.TRADER)


def obtain(username: str = "alice", password: str = PASSWORD) -> Any:
    return APIClient().post("/api/auth/token", {"username": username, "password": password},
                            format="json")


def refresh(token: str) -> Any:
    return APIClient().post("/api/auth/token/refresh", {"refresh": token}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def error_code(response: Any) -> str:
    return str(response.json()["errors"][0]["code"])


def lifetime(token: str) -> int:
    claims = jwt.decode(token, options={"verify_signature": False})
    return int(claims["exp"]) - int(claims["iat"])


def test_obtain_gives_a_5_minute_access_and_a_1_day_refresh(alice: APIClient) -> None:
    response = obtain()
    assert response.status_code == 200
    tokens = response.json()
    # The access token's expiry counts from the refresh token's clock reading and its
    # `iat` from its own, a moment later; both are whole seconds, so a second boundary
    # between the two readings shows as 299.
    assert 5 * 60 - 1 <= lifetime(tokens["access"]) <= 5 * 60
    assert lifetime(tokens["refresh"]) == 24 * 3600
    balances = bearer(tokens["access"]).get("/api/balances")
    assert balances.status_code == 200


def test_a_wrong_password_is_refused(alice: APIClient) -> None:
    response = obtain(password="wrong")
    assert response.status_code == 401
    assert error_code(response) == "no_active_account"


def test_an_invalid_bearer_token_is_refused_with_one_code(alice: APIClient) -> None:
    refresh_token = obtain().json()["refresh"]
    for token in ("garbage", refresh_token):  # a refresh token is no access token
        response = bearer(token).get("/api/balances")
        assert response.status_code == 401
        assert error_code(response) == "token_not_valid"


def test_refresh_rotates_and_the_old_refresh_is_refused(alice: APIClient) -> None:
    first = obtain().json()["refresh"]
    rotated = refresh(first)
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert bearer(rotated.json()["access"]).get("/api/balances").status_code == 200
    reused = refresh(first)
    assert reused.status_code == 401
    assert error_code(reused) == "token_not_valid"
    assert refresh(rotated.json()["refresh"]).status_code == 200


def test_a_revoked_refresh_is_refused(alice: APIClient) -> None:
    token = obtain().json()["refresh"]
    revoked = APIClient().post("/api/auth/token/revoke", {"refresh": token}, format="json")
    assert revoked.status_code == 200
    response = refresh(token)
    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


@pytest.mark.usefixtures("inside_one_rate_window")
def test_password_guessing_is_throttled_per_ip(alice: APIClient) -> None:
    with override_settings(OMS_RATE_LIMITS={"auth-ip": "2/m"}):
        assert [obtain(password="guess").status_code for _ in range(3)] == [401, 401, 429]
