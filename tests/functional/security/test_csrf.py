"""CSRF where a browser session is the credential, and only there: an unsafe request
authenticated by the session cookie needs the CSRF token; one authenticated by a token
or a bearer JWT does not (a cross-site page cannot set those headers), even when a
session cookie rides along."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey
from oms.auth.roles import Role
from tests.functional.accounts.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db

NEW_KEY = json.dumps({"name": "csrf", "scopes": ["read"]})


@pytest.fixture
def browser() -> APIClient:
    """A browser logged in to the session of trader alice, with CSRF checks on."""
    client_for("alice", Role.TRADER)
    browser = APIClient(enforce_csrf_checks=True)
    response = browser.get("/api-auth/login/")
    token = browser.cookies["csrftoken"].value
    response = browser.post("/api-auth/login/", {"username": "alice", "password": PASSWORD,
                                                 "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    return browser


def create_key(client: APIClient, **headers: str) -> object:
    return client.post("/api/api-keys", NEW_KEY, content_type="application/json", **headers)


def test_a_session_write_without_the_csrf_token_is_refused_and_does_nothing(
        browser: APIClient) -> None:
    response = create_key(browser)
    assert response.status_code == 403  # type: ignore[attr-defined]
    error = response.json()["errors"][0]  # type: ignore[attr-defined]
    assert error["code"] == "permission_denied"
    assert "CSRF" in error["message"]
    assert not ApiKey.objects.exists()


def test_a_session_write_with_the_csrf_token_goes_through(browser: APIClient) -> None:
    token = browser.cookies["csrftoken"].value
    assert create_key(browser, HTTP_X_CSRFTOKEN=token).status_code == 201  # type: ignore[attr-defined]


def test_a_session_read_needs_no_csrf_token(browser: APIClient) -> None:
    assert browser.get("/api/api-keys").status_code == 200


def test_a_token_write_needs_no_csrf_token_even_beside_a_session(browser: APIClient) -> None:
    trader = client_for("bob", Role.TRADER)
    authorization = trader._credentials["HTTP_AUTHORIZATION"]  # type: ignore[attr-defined]
    response = create_key(browser, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 201  # type: ignore[attr-defined]
    assert ApiKey.objects.get().user.username == "bob"


def test_a_bearer_jwt_write_needs_no_csrf_token() -> None:
    client_for("carol", Role.TRADER)
    client = APIClient(enforce_csrf_checks=True)
    access = client.post("/api/auth/token", {"username": "carol", "password": PASSWORD},
                         format="json").json()["access"]
    assert create_key(client, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 201  # type: ignore[attr-defined]


def test_the_session_cookie_is_hidden_from_scripts_and_the_csrf_cookie_is_not(
        browser: APIClient) -> None:
    assert browser.cookies["sessionid"]["httponly"]
    assert not browser.cookies["csrftoken"]["httponly"]
    assert browser.cookies["sessionid"]["samesite"] == "Lax"
