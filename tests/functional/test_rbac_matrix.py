"""Who may call what: every endpoint of the README's API table, for every role, with the
status class it must answer. The table below is the access policy, reviewable in one place:

- `owner` is the trader whose order, key and positions the paths name; `trader` is another
  trader, to whom those objects do not exist (404), never merely forbidden.
- `ops` and `admin` may do everything an operator may; they act on their own account like
  any user (their own API keys included: other users' keys are revoked in the admin).
- `auditor` reads everything and writes nothing (403 `read_only_role`).
- `anonymous` gets 401, except on the public reads."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.orders.models import Order
from apps.processing import services as processing
from oms.api.permissions import Scope
from oms.auth.roles import Role
from tests.functional.accounts.conftest import (
    client_for,
    create_instruments,
    limit_order,
    reset_caches,
)

pytestmark = pytest.mark.django_db

OK, UNAUTHENTICATED, FORBIDDEN, HIDDEN, REFUSED = "2xx", 401, 403, 404, 400
ROLES = ("anonymous", "owner", "trader", "ops", "admin", "auditor")
A, U, F, H, R = OK, UNAUTHENTICATED, FORBIDDEN, HIDDEN, REFUSED

# Placeholders: {order} is the owner's order, {key} the owner's API key, {owner} their id.
MATRIX: dict[str, tuple[str | int, ...]] = {
    #                                                anon owner trader ops admin auditor
    "GET /api/instruments":                          (A, A, A, A, A, A),
    "GET /api/orders":                               (U, A, A, A, A, A),
    "POST /api/orders":                              (U, A, A, A, A, F),
    "GET /api/orders/{order}":                       (U, A, H, A, A, A),
    "PATCH /api/orders/{order}":                     (U, A, H, A, A, F),
    "POST /api/orders/{order}/cancel":               (U, A, H, A, A, F),
    "POST /api/orders/cancel-all":                   (U, A, A, A, A, F),
    "POST /api/orders/dead-man":                     (U, A, A, A, A, F),
    "GET /api/orders/{order}/fills":                 (U, A, H, A, A, A),
    "GET /api/fills":                                (U, A, A, A, A, A),
    "GET /api/balances":                             (U, A, A, A, A, A),
    "GET /api/risk/positions":                       (U, A, A, A, A, A),
    "GET /api/risk/positions?user={owner}":          (U, A, R, A, A, A),
    "POST /api/ledger/deposits":                     (U, F, F, A, A, F),
    "POST /api/ledger/withdrawals":                  (U, F, F, A, A, F),
    "POST /api/risk/validate":                       (U, A, A, A, A, F),
    "GET /api/risk/limits":                          (U, A, A, A, A, A),
    "GET /api/risk/limits?user={owner}":             (U, A, R, A, A, A),
    "PUT /api/risk/limits":                          (U, F, F, A, A, F),
    "GET /api/risk/headroom?symbol=BTC-USDT&price=50000": (U, A, A, A, A, A),
    "GET /api/risk/headroom?symbol=BTC-USDT&price=50000&user={owner}": (U, A, R, A, A, A),
    "POST /api/risk/kill-switches":                  (U, F, F, A, A, F),
    "POST /api/risk/kill-switches/release":          (U, F, F, A, A, F),
    "GET /api/risk/events":                          (U, F, F, A, A, A),
    "GET /api/market-data/prices/BTC-USDT":          (A, A, A, A, A, A),
    "GET /api/market-data/orderbook/BTC-USDT?depth=5": (A, A, A, A, A, A),
    "GET /api/market-data/trades/BTC-USDT":          (A, A, A, A, A, A),
    "GET /api/market-data/candles/BTC-USDT?interval=1m": (A, A, A, A, A, A),
    "GET /api/api-keys":                             (U, A, A, A, A, A),
    "POST /api/api-keys":                            (U, A, A, A, A, F),
    "POST /api/api-keys/{key}/revoke":               (U, A, H, H, H, F),
    "POST /api/ws-ticket":                           (U, A, A, A, A, A),
    "GET /api/audit":                                (U, F, F, A, A, A),
}

BODIES: dict[str, dict[str, Any]] = {
    "POST /api/orders": limit_order(),
    "PATCH /api/orders/{order}": {"price": "49000.00"},
    "POST /api/orders/cancel-all": {},
    "POST /api/orders/dead-man": {"countdown": 0},
    "POST /api/ledger/deposits": {"user": "alice", "asset": "USDT", "amount": "100",
                                  "reference": "matrix-deposit"},
    "POST /api/ledger/withdrawals": {"user": "alice", "asset": "USDT", "amount": "1",
                                     "reference": "matrix-withdrawal"},
    "POST /api/risk/validate": limit_order(),
    "PUT /api/risk/limits": {"symbol": "ETH-USDT", "limits": {"max_open_orders": 10}},
    "POST /api/risk/kill-switches": {"symbol": "ETH-USDT", "reason": "matrix"},
    "POST /api/risk/kill-switches/release": {"symbol": "ETH-USDT"},
    "POST /api/api-keys": {"name": "matrix", "scopes": ["read"]},
}

@pytest.fixture(autouse=True)
def clean_caches(redis_client: redis.Redis) -> Iterator[None]:
    reset_caches(redis_client)
    yield
    reset_caches(redis_client)


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """One client per role, and the owner's order (as the processor recorded it), API key
    and funds."""
    create_instruments()
    clients: dict[str, Any] = {"anonymous": APIClient(),
                               "owner": client_for("alice", Role.TRADER),
                               "trader": client_for("bob", Role.TRADER),
                               "ops": client_for("operator", Role.OPS),
                               "admin": client_for("administrator", Role.ADMIN),
                               "auditor": client_for("auditor", Role.AUDITOR)}
    owner = clients["owner"].user
    now = datetime.now(UTC)
    order = Order.objects.create(
        id=uuid.uuid4(), user=owner, client_order_id="matrix", symbol="BTC-USDT",
        side="buy", type="limit", time_in_force="GTC", quantity=Decimal("0.5"),
        price=Decimal("50000"), status="ACCEPTED", created_at=now, updated_at=now)
    key = accounts.create_api_key(user_id=owner.pk, name="matrix", scopes=[Scope.READ]).key
    processing.deposit(user_id=owner.pk, asset="USDT", amount=Decimal("1000"),
                       reference="matrix-funding")
    return {"clients": clients, "order": order.id, "key": key.key_id, "owner": owner.pk}


def call(world: dict[str, Any], role: str, request: str) -> Any:
    method, template = request.split(" ", 1)
    path = template.format(order=world["order"], key=world["key"], owner=world["owner"])
    body = BODIES.get(request)
    return world["clients"][role].generic(
        method, path, "" if body is None else json.dumps(body),
        content_type="application/json")


def expected_error_code(expected: str | int, role: str) -> str:
    if expected == FORBIDDEN:
        return "read_only_role" if role == "auditor" else "permission_denied"
    return {UNAUTHENTICATED: "not_authenticated", HIDDEN: "not_found",
            REFUSED: "not_allowed"}[expected]


CASES = [pytest.param(request, role, expected, id=f"{request} as {role}")
         for request, row in MATRIX.items() for role, expected in zip(ROLES, row, strict=True)]


@pytest.mark.parametrize(("request_line", "role", "expected"), CASES)
def test_access(world: dict[str, Any], request_line: str, role: str,
                expected: str | int) -> None:
    response = call(world, role, request_line)
    body = response.json() if response.content else None
    if expected == OK:
        assert 200 <= response.status_code < 300, body
        return
    assert response.status_code == expected, body
    assert body["errors"][0]["code"] == expected_error_code(expected, role)


VISIBLE_ORDERS = {"owner": True, "trader": False, "ops": True, "admin": True, "auditor": True}


@pytest.mark.parametrize(("role", "sees_it"), list(VISIBLE_ORDERS.items()))
def test_who_sees_the_owners_order_in_the_list(world: dict[str, Any], role: str,
                                               sees_it: bool) -> None:
    listed = world["clients"][role].get("/api/orders").json()["results"]
    assert (str(world["order"]) in {order["id"] for order in listed}) is sees_it

