"""An order request leaves nothing for the garbage collector: served as a WSGI server serves
it (the response closed once sent), every object of the request is freed by refcounting
(oms/api/request_cycles.py). Before, each order left about 70 objects in reference cycles,
and a web worker stopped every request thread to collect them."""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Iterator

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts import authentication
from apps.orders import selectors as order_selectors
from tests.functional.orders.conftest import OrdersTopic, limit_order

pytestmark = pytest.mark.django_db


def served(handler: WSGIHandler, token: str, body: bytes) -> int:
    """One request through the WSGI interface, read and closed as gunicorn does; its
    status."""
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api/orders", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Token {token}", "HTTP_ACCEPT": "application/json",
    }
    response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        b"".join(response)
    finally:
        response.close()
    return int(statuses[0].split()[0])


@pytest.fixture
def handler() -> Iterator[WSGIHandler]:
    """Django's WSGI handler, its requests inside the test's transaction (as the test
    client does: a request would otherwise close the test's connection)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def collector_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No collection during the test; and the caches the first request fills (the rules,
    the token) kept for its length, so that a refresh (which reads the database, and that
    leaves cycles of its own) does not happen on a slow machine in the middle."""
    monkeypatch.setattr(order_selectors, "_RULES_CACHE_SECONDS", 3600.0)
    monkeypatch.setattr(authentication, "TOKEN_CACHE_SECONDS", 3600.0)
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_an_order_request_leaves_no_reference_cycles(
        alice: APIClient, orders_topic: OrdersTopic, handler: WSGIHandler,
        collector_off: None) -> None:
    token = Token.objects.get(user=alice.user).key  # type: ignore[attr-defined]
    bodies = [json.dumps(limit_order(client_order_id=f"cycle-{n}")).encode()
              for n in range(30)]
    assert served(handler, token, bodies[0]) == 202  # first-use caches are not the request's
    gc.collect()
    assert [served(handler, token, body) for body in bodies[1:]] == [202] * 29
    assert gc.collect() == 0
