"""Bodies larger than an endpoint needs are refused with 413 and the structured error body,
before any view runs: nothing is created. Bodies within the limit go through as before."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey
from apps.audit.models import AuditEntry
from oms.auth.roles import Role
from tests.functional.accounts.conftest import client_for

pytestmark = pytest.mark.django_db

API_LIMIT = settings.REQUEST_BODY_LIMITS["/api/"]


def key_request(size: int) -> str:
    """A request to create an API key, padded with spaces to `size` bytes (still valid JSON)."""
    body = json.dumps({"name": "limit", "scopes": ["read"]})
    return body + " " * (size - len(body))


def test_an_api_body_over_the_limit_is_413_and_creates_nothing() -> None:
    client = client_for("opsy", Role.OPS)
    response = client.post("/api/api-keys", key_request(API_LIMIT + 1),
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"errors": [{
        "field": None, "code": "request_too_large",
        "message": f"the request body exceeds {API_LIMIT} bytes"}]}
    assert response["X-Request-ID"]
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()


def test_an_api_body_at_the_limit_goes_through() -> None:
    client = client_for("alice", Role.TRADER)
    response = client.post("/api/api-keys", key_request(API_LIMIT),
                           content_type="application/json")
    assert response.status_code == 201
    assert ApiKey.objects.count() == 1


def test_a_form_elsewhere_has_the_larger_django_limit() -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE > API_LIMIT
    response = APIClient().post("/api-auth/login/", "x" * (API_LIMIT + 1),
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code != 413
    too_big = APIClient().post("/api-auth/login/",
                               "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
                               content_type="application/x-www-form-urlencoded")
    assert too_big.status_code == 413
