"""Every response carries the security headers: the API, the UI that WhiteNoise serves at
`/`, the admin, the browsable API, the API docs (whose CSP also admits Swagger UI's CDN),
and error responses."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = ["/api/instruments", "/admin/login/", "/api-auth/login/", "/api/docs/",
         "/api/orders", "/no-such-page"]


def assert_security_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers(path: str) -> None:
    assert_security_headers(Client().get(path))


@pytest.mark.skipif(not settings.UI_ROOT.is_dir(), reason="the UI is not built (make ui)")
def test_the_ui_served_at_the_root_carries_them_too() -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_only_the_api_docs_admit_the_swagger_cdn() -> None:
    docs = Client().get("/api/docs/").headers["Content-Security-Policy"]
    api = Client().get("/api/instruments").headers["Content-Security-Policy"]
    assert settings.SWAGGER_UI_CDN in docs
    assert settings.SWAGGER_UI_CDN not in api


def test_the_api_docs_page_runs_no_inline_script() -> None:
    page = Client().get("/api/docs/").content.decode()
    assert "<script>" not in page
    assert Client().get("/api/docs/?script").status_code == 200
