"""`Idempotency-Key` on every mutating endpoint besides order entry (which has its own
tests): the same key and body replay the first answer byte for byte and do nothing again;
the same key with another request is 422 and does nothing; a request while the first is in
flight is 409; keys are per user and shared across endpoints; a refused request (403, a
malformed key) claims nothing; a request that died in flight is taken over by a retry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis as redis_lib
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.accounts.models import ApiKey
from apps.orders.dead_man import DUE_KEY
from apps.orders.models import Order
from apps.processing import services as processing
from apps.processing.models import LedgerTransaction
from apps.risk.models import OverrideRequest, RiskAudit
from oms.api import idempotency
from oms.api.permissions import Scope
from oms.auth.roles import Role
from tests.functional.orders.conftest import (  # noqa: F401 - fixtures
    OrdersTopic,
    alice,
    bob,
    clean_caches,
    client_for,
    instruments,
    limit_order,
    ops,
    orders_topic,
)

pytestmark = pytest.mark.django_db


@dataclass
class World:
    alice: APIClient
    bob: APIClient
    ops: APIClient
    orders_topic: OrdersTopic
    redis: redis_lib.Redis
    btc: Order
    eth: Order
    filled: Order
    api_key: str

    def client(self, who: str) -> APIClient:
        return {"alice": self.alice, "bob": self.bob, "ops": self.ops}[who]

    def path(self, template: str) -> str:
        return template.format(btc=self.btc.id, eth=self.eth.id, filled=self.filled.id,
                               key=self.api_key)


def recorded(client: APIClient, **fields: object) -> Order:
    """An order as the processor would have recorded it."""
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "id": uuid.uuid4(), "user": client.user,  # type: ignore[attr-defined]
        "client_order_id": uuid.uuid4().hex[:10], "symbol": "BTC-USDT", "side": "buy",
        "type": "limit", "time_in_force": "GTC", "quantity": Decimal("0.5"),
        "price": Decimal("50000"), "status": "ACCEPTED", "created_at": now, "updated_at": now}
    values.update(fields)
    return Order.objects.create(**values)


@pytest.fixture
def world(alice: APIClient, bob: APIClient, ops: APIClient,  # noqa: F811 - the fixtures
          orders_topic: OrdersTopic, redis_client: redis_lib.Redis) -> World:  # noqa: F811
    owner = alice.user  # type: ignore[attr-defined]
    processing.deposit(user_id=owner.pk, asset="USDT", amount=Decimal("1000"),
                       reference="funding")
    key = accounts.create_api_key(user_id=owner.pk, name="bot", scopes=[Scope.READ]).key
    return World(alice=alice, bob=bob, ops=ops, orders_topic=orders_topic, redis=redis_client,
                 btc=recorded(alice), eth=recorded(alice, symbol="ETH-USDT",
                                                   price=Decimal("3000")),
                 filled=recorded(alice, status="FILLED"), api_key=key.key_id)


def published(world: World) -> int:
    return world.orders_topic.end_offsets()


def dead_man_deadline(world: World) -> object:
    return world.redis.zscore(DUE_KEY, str(world.alice.user.pk))  # type: ignore[attr-defined]


def rearm_far_away(world: World) -> None:
    """Move the deadline the first request set: a replay that renewed it would show."""
    world.redis.zadd(DUE_KEY, {str(world.alice.user.pk): 1.0})  # type: ignore[attr-defined]


def ledger_transactions(world: World) -> object:
    return LedgerTransaction.objects.count()


def risk_audit(world: World) -> object:
    return (RiskAudit.objects.count(), OverrideRequest.objects.count())


def api_keys(world: World) -> object:
    return ApiKey.objects.count()


def revocation(world: World) -> object:
    return ApiKey.objects.get(key_id=world.api_key).revoked_at


def unrevoke(world: World) -> None:
    """Undo the first revocation: a replay that revoked again would show."""
    ApiKey.objects.filter(key_id=world.api_key).update(revoked_at=None)


@dataclass(frozen=True)
class Endpoint:
    who: str
    method: str
    path: str
    body: dict[str, Any] | None
    # Another request with the same key: another body, or the same endpoint on another
    # object.
    other_path: str
    other_body: dict[str, Any] | None
    effect: Callable[[World], object]
    status: int
    undo: Callable[[World], None] | None = None


ENDPOINTS = {
    "amend": Endpoint("alice", "PATCH", "/api/orders/{btc}", {"price": "49000.00"},
                      "/api/orders/{btc}", {"price": "48000.00"}, published, 202),
    "cancel": Endpoint("alice", "POST", "/api/orders/{btc}/cancel", None,
                       "/api/orders/{eth}/cancel", None, published, 202),
    "cancel-all": Endpoint("alice", "POST", "/api/orders/cancel-all", {},
                           "/api/orders/cancel-all", {"symbol": "ETH-USDT"}, published, 202),
    "dead-man": Endpoint("alice", "POST", "/api/orders/dead-man", {"countdown": 600},
                         "/api/orders/dead-man", {"countdown": 60}, dead_man_deadline, 200,
                         undo=rearm_far_away),
    "deposit": Endpoint("ops", "POST", "/api/ledger/deposits",
                        {"user": "alice", "asset": "USDT", "amount": "5", "reference": "d-1"},
                        "/api/ledger/deposits",
                        {"user": "alice", "asset": "USDT", "amount": "6", "reference": "d-1"},
                        ledger_transactions, 201),
    "withdrawal": Endpoint("ops", "POST", "/api/ledger/withdrawals",
                           {"user": "alice", "asset": "USDT", "amount": "5",
                            "reference": "w-1"},
                           "/api/ledger/withdrawals",
                           {"user": "alice", "asset": "USDT", "amount": "5",
                            "reference": "w-2"},
                           ledger_transactions, 201),
    "set limits": Endpoint("ops", "PUT", "/api/risk/limits",
                           {"symbol": "ETH-USDT", "limits": {"max_open_orders": 10}},
                           "/api/risk/limits",
                           {"symbol": "ETH-USDT", "limits": {"max_open_orders": 11}},
                           risk_audit, 200),
    "engage kill switch": Endpoint("ops", "POST", "/api/risk/kill-switches",
                                   {"user": "alice", "reason": "runaway bot"},
                                   "/api/risk/kill-switches",
                                   {"user": "bob", "reason": "runaway bot"}, risk_audit, 202),
    "release kill switch": Endpoint("ops", "POST", "/api/risk/kill-switches/release",
                                    {"symbol": "ETH-USDT"},
                                    "/api/risk/kill-switches/release",
                                    {"symbol": "BTC-USDT"}, risk_audit, 202),
    "create API key": Endpoint("alice", "POST", "/api/api-keys",
                               {"name": "second", "scopes": ["read"]}, "/api/api-keys",
                               {"name": "third", "scopes": ["read"]}, api_keys, 201),
    "revoke API key": Endpoint("alice", "POST", "/api/api-keys/{key}/revoke", None,
                               "/api/api-keys/{key}/revoke", {"reason": "other"}, revocation,
                               200, undo=unrevoke),
}


def send(world: World, who: str, method: str, path: str, body: dict[str, Any] | None,
         key: str) -> Any:
    return world.client(who).generic(method, world.path(path),
                                     "" if body is None else json.dumps(body),
                                     content_type="application/json",
                                     HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_the_same_key_replays_the_first_answer_byte_for_byte_and_acts_once(
        world: World, name: str) -> None:
    endpoint = ENDPOINTS[name]
    before = endpoint.effect(world)
    first = send(world, endpoint.who, endpoint.method, endpoint.path, endpoint.body, "k-1")
    assert first.status_code == endpoint.status, first.content
    assert idempotency.REPLAYED_HEADER not in first
    if endpoint.undo is not None:
        endpoint.undo(world)
    acted = endpoint.effect(world)
    assert endpoint.undo is not None or acted != before, "the first request did nothing"

    replayed = send(world, endpoint.who, endpoint.method, endpoint.path, endpoint.body, "k-1")
    assert replayed.status_code == first.status_code
    assert replayed.content == first.content
    assert replayed[idempotency.REPLAYED_HEADER] == "true"
    assert endpoint.effect(world) == acted

    other = send(world, endpoint.who, endpoint.method, endpoint.other_path,
                 endpoint.other_body, "k-1")
    assert other.status_code == 422, other.content
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert endpoint.effect(world) == acted


def test_a_refusal_after_the_claim_is_replayed_too(world: World) -> None:
    before = published(world)
    first = world.alice.post(f"/api/orders/{world.filled.id}/cancel",
                             HTTP_IDEMPOTENCY_KEY="final")
    assert first.status_code == 409
    assert first.json()["errors"][0]["code"] == "order_not_working"
    replayed = world.alice.post(f"/api/orders/{world.filled.id}/cancel",
                                HTTP_IDEMPOTENCY_KEY="final")
    assert (replayed.status_code, replayed.content) == (409, first.content)
    assert replayed[idempotency.REPLAYED_HEADER] == "true"
    assert published(world) == before


def test_a_request_while_the_first_is_in_flight_is_409_and_arms_nothing(world: World) -> None:
    body = {"countdown": 600}
    idempotency.claim(user_id=world.alice.user.pk, key="busy",  # type: ignore[attr-defined]
                      request_fingerprint=idempotency.fingerprint(
                          "POST", "/api/orders/dead-man", body),
                      now=datetime.now(UTC))
    response = world.alice.post("/api/orders/dead-man", body, format="json",
                                HTTP_IDEMPOTENCY_KEY="busy")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_key_in_flight"
    assert dead_man_deadline(world) is None


def test_a_request_that_died_in_flight_is_taken_over_by_a_retry(world: World) -> None:
    body = {"countdown": 600}
    user_id = world.alice.user.pk  # type: ignore[attr-defined]
    long_ago = datetime.now(UTC) - timedelta(seconds=idempotency.IN_FLIGHT_SECONDS + 1)
    world.redis.set(idempotency.redis_key(user_id=user_id, key="dead"),
                    idempotency.in_flight_record(idempotency.fingerprint(
                        "POST", "/api/orders/dead-man", body), now=long_ago))
    response = world.alice.post("/api/orders/dead-man", body, format="json",
                                HTTP_IDEMPOTENCY_KEY="dead")
    assert response.status_code == 200
    assert dead_man_deadline(world) is not None
    replayed = world.alice.post("/api/orders/dead-man", body, format="json",
                                HTTP_IDEMPOTENCY_KEY="dead")
    assert replayed.content == response.content
    assert replayed[idempotency.REPLAYED_HEADER] == "true"


def test_keys_are_per_user(world: World) -> None:
    before = published(world)
    mine = world.alice.post("/api/orders/cancel-all", {}, format="json",
                            HTTP_IDEMPOTENCY_KEY="same")
    theirs = world.bob.post("/api/orders/cancel-all", {}, format="json",
                            HTTP_IDEMPOTENCY_KEY="same")
    assert mine.json() == {"requested": 2}
    assert theirs.status_code == 202
    assert theirs.json() == {"requested": 0}
    assert idempotency.REPLAYED_HEADER not in theirs
    assert published(world) == before + 2


def test_one_key_names_one_request_across_endpoints(world: World) -> None:
    placed = world.alice.post("/api/orders", limit_order(), format="json",
                              HTTP_IDEMPOTENCY_KEY="one")
    assert placed.status_code == 202
    before = published(world)
    reused = world.alice.post("/api/orders/cancel-all", {}, format="json",
                              HTTP_IDEMPOTENCY_KEY="one")
    assert reused.status_code == 422
    assert published(world) == before


def test_a_refused_request_claims_nothing(world: World) -> None:
    auditor = client_for("auditor", Role.AUDITOR)
    refused = auditor.post("/api/orders/cancel-all", {}, format="json",
                           HTTP_IDEMPOTENCY_KEY="k")
    assert refused.status_code == 403
    assert world.redis.keys("idempotency:*") == []
    malformed = world.alice.post("/api/orders/cancel-all", {}, format="json",
                                 HTTP_IDEMPOTENCY_KEY="has space")
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert world.redis.keys("idempotency:*") == []


# Endpoints that change nothing a retry could repeat, or come before any user is known.
WITHOUT_KEY = {"POST /api/auth/token", "POST /api/auth/token/refresh",
               "POST /api/auth/token/revoke", "POST /api/ws-ticket",
               "POST /api/risk/validate"}


def test_every_mutating_endpoint_documents_the_key_409_and_422() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented, missing = set(), set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in {"post", "put", "patch", "delete"}:
                continue
            name = f"{method.upper()} {path}"
            headers = {parameter["name"] for parameter in operation.get("parameters", [])
                       if parameter["in"] == "header"}
            if idempotency.HEADER in headers and {"409", "422"} <= set(operation["responses"]):
                documented.add(name)
            elif name not in WITHOUT_KEY:
                missing.add(name)
    assert missing == set()
    assert {f"{endpoint.method} {endpoint.path}" for endpoint in ENDPOINTS.values()} <= {
        name.replace("{id}", "{btc}" if "orders" in name else "{key}") for name in documented}
