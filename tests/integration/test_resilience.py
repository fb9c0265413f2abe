"""Circuit breakers against the real services: a dead broker or an unreachable Redis opens
its breaker, after which order entry answers 503 at once (no timeout waited) with
`Retry-After` equal to the breaker's remaining open time and the structured error body,
and leaves nothing behind; `/ready` says `degraded` while a breaker is open although the
dependency answers; a consumer's database trial closes the `postgres` breaker once
PostgreSQL answers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
import redis as redis_lib
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.orders.models import Order
from oms.auth.roles import Role, assign_role
from oms.kafka.producer import PublishError
from oms.kafka.shared import close_producers
from oms.resilience.breakers import KAFKA, POSTGRES, REDIS, State, breaker, forget_breakers
from oms.resilience.database import database_answers

pytestmark = pytest.mark.usefixtures("btc")

# Trip after two failed calls; the first open period is the seed's 30 s.
QUICK_TRIP = {"WINDOW": 4, "MINIMUM_CALLS": 2, "FAILURE_RATIO": 0.5, "RESET_TIMEOUT": 30}
DEAD_ADDRESS = "127.0.0.1:1"


@pytest.fixture(autouse=True)
def fresh_breakers() -> Iterator[None]:
    forget_breakers()
    yield
    forget_breakers()


@pytest.fixture
def alice(btc: None) -> APIClient:
    user = get_user_model().objects.create(username="alice-resilience")
    assign_role(user, Role.TRADER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def order(client_order_id: str) -> dict[str, object]:
    return {"symbol": "BTC-USDT", "side": "buy", "type": "limit", "quantity": "0.01",
            "price": "50000.00", "client_order_id": client_order_id}


def timed_post(client: APIClient, body: dict[str, object], **headers: str
               ) -> tuple[float, object]:
    started = time.monotonic()
    response = client.post("/api/orders", body, format="json", **headers)
    return time.monotonic() - started, response


def trip(name: str, failure: type[Exception]) -> None:
    """Record failed calls until the breaker opens (the dependency itself is fine)."""
    guard = breaker(name)
    while guard.state is not State.OPEN:
        with contextlib.suppress(failure), guard.guard(failure):
            raise failure("simulated outage")


def test_a_dead_broker_opens_the_kafka_breaker_then_order_entry_fails_fast(
    alice: APIClient, redis_client: redis_lib.Redis
) -> None:
    try:
        # librdkafka gives up on each event after 300 ms instead of 5 s.
        with override_settings(KAFKA_BOOTSTRAP_SERVERS=DEAD_ADDRESS, RESILIENCE=QUICK_TRIP,
                               KAFKA_CLIENT_CONFIG={"message.timeout.ms": 300}):
            failing = [alice.post("/api/orders", order(f"dead-{n}"), format="json")
                       for n in range(2)]
            assert breaker(KAFKA).state is State.OPEN
            seconds, response = timed_post(alice, order("dead-2"),
                                           HTTP_IDEMPOTENCY_KEY="while-open")
            ready = Client().get("/ready")
    finally:
        close_producers(timeout=0)
    assert [r.status_code for r in failing] == [503, 503]
    assert [r["Retry-After"] for r in failing] == ["2", "2"]  # a failure, not yet open
    assert response.status_code == 503
    assert seconds < 0.5  # no delivery timeout waited
    assert 25 <= int(response["Retry-After"]) <= 30
    assert response.json() == {"errors": [{
        "field": None, "code": "kafka_unavailable",
        "message": "kafka is unavailable; nothing was done, retry later"}]}
    # Nothing left behind: no order, the client order ids and the key are free.
    assert not Order.objects.exists()
    assert [key for key in redis_client.keys("*") if not key.startswith(b"ratelimit:")] == []
    # The broker is unreachable, so readiness says so, and names the open breaker.
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["kafka"]
    assert body["checks"]["kafka"]["breaker"] == "open"
    assert body["breakers"]["kafka"]["state"] == "open"


def test_an_unreachable_redis_opens_the_redis_breaker_and_retry_after_follows_it(
    alice: APIClient
) -> None:
    with override_settings(REDIS_URL=f"redis://{DEAD_ADDRESS}/0", RESILIENCE=QUICK_TRIP):
        _, first = timed_post(alice, order("r-0"))
        _, second = timed_post(alice, order("r-1"))
        # One Redis round trip per order (the admission script): two failed orders are the
        # breaker's minimum calls, and it opens.
        assert breaker(REDIS).state is State.OPEN
        seconds, response = timed_post(alice, order("r-2"), HTTP_IDEMPOTENCY_KEY="r-key")
        remaining = breaker(REDIS).retry_after()
    assert first.status_code == second.status_code == 503
    assert response.status_code == 503
    assert seconds < 0.5
    assert response["Retry-After"] == str(int(remaining) + 1)
    assert response.json()["errors"][0]["code"] == "redis_unavailable"
    assert not Order.objects.exists()


def test_ready_is_degraded_while_a_breaker_is_open_though_the_dependency_answers(
    alice: APIClient
) -> None:
    trip(KAFKA, PublishError)
    ready = Client().get("/ready")
    assert ready.status_code == 503  # out of the load balancer until the breaker recovers
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["failing"] == []
    assert body["degraded"] == ["kafka"]
    assert body["checks"]["kafka"]["ok"] is True
    assert body["checks"]["kafka"]["breaker"] == "open"
    assert body["checks"]["redis"]["breaker"] == "closed"
    assert body["breakers"]["kafka"]["state"] == "open"
    assert 25 <= body["breakers"]["kafka"]["retry_after"] <= 30
    # The broker is fine, but this process does not call it until the trial.
    seconds, response = timed_post(alice, order("degraded-1"))
    assert response.status_code == 503
    assert seconds < 0.5
    forget_breakers()
    again = Client().get("/ready")
    assert again.status_code == 200
    assert again.json()["status"] == "ready"


def test_the_database_trial_closes_the_postgres_breaker_once_postgres_answers() -> None:
    with override_settings(RESILIENCE={**QUICK_TRIP, "RESET_TIMEOUT": 0.2}):
        trip(POSTGRES, DatabaseError)
        assert database_answers() is False  # still open: nothing tried
        assert breaker(POSTGRES).state is State.OPEN
        time.sleep(0.25)
        assert database_answers() is True  # the half-open trial ran SELECT 1
        assert breaker(POSTGRES).state is State.CLOSED
