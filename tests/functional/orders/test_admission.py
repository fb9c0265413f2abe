"""Order entry's admission (`apps.orders.api.admission`): the rate limits, the
Idempotency-Key's claim and the client order id's claim in one Redis round trip, then the
entry cache and the stored response in one more script; and whatever refuses a request leaves
nothing claimed and nothing published."""

from __future__ import annotations

import json

import pytest
import redis as redis_lib
from django.test import override_settings
from rest_framework.test import APIClient

from tests.functional.orders.conftest import OrdersTopic, limit_order

pytestmark = pytest.mark.django_db


def commands(redis_client: redis_lib.Redis) -> dict[str, int]:
    stats = redis_client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(stat["calls"]) for name, stat in stats.items()}


def test_an_accepted_order_takes_two_scripts(
    alice: APIClient, redis_client: redis_lib.Redis, orders_topic: OrdersTopic
) -> None:
    alice.post("/api/orders", limit_order(client_order_id="warm-1"), format="json")
    redis_client.config_resetstat()
    placed = alice.post("/api/orders", limit_order(client_order_id="one-trip"), format="json",
                        HTTP_IDEMPOTENCY_KEY="one-trip")
    assert placed.status_code == 202, placed.content
    calls = commands(redis_client)
    calls.pop("config")
    assert calls == {
        # Admission: both rate limits (INCR, EXPIRE), the key's and the id's claims (SET);
        # after the publish: the entry cache (SET), the pending indexes, the response (SET).
        "evalsha": 2, "incr": 2, "expire": 2 + 2, "set": 2 + 2, "zadd": 2,
        "zremrangebyscore": 2,
    }
    user_id = alice.user.pk  # type: ignore[attr-defined]
    stored = json.loads(redis_client.get(f"idempotency:{user_id}:one-trip") or b"{}")
    assert stored["state"] == "done"
    assert stored["body"] == placed.json()
    assert redis_client.get(f"order:{placed.json()['id']}") is not None
    assert redis_client.get(f"client_order:{user_id}:one-trip") == placed.json()["id"].encode()


def test_an_order_is_placed_after_redis_forgets_the_scripts(
    alice: APIClient, redis_client: redis_lib.Redis, orders_topic: OrdersTopic
) -> None:
    """Scripts go by SHA alone: after a restart (or SCRIPT FLUSH), NOSCRIPT loads them."""
    alice.post("/api/orders", limit_order(client_order_id="before-flush"), format="json")
    redis_client.script_flush()
    placed = alice.post("/api/orders", limit_order(client_order_id="after-flush"),
                        format="json", HTTP_IDEMPOTENCY_KEY="after-flush")
    assert placed.status_code == 202, placed.content
    user_id = alice.user.pk  # type: ignore[attr-defined]
    assert redis_client.get(f"order:{placed.json()['id']}") is not None
    stored = json.loads(redis_client.get(f"idempotency:{user_id}:after-flush") or b"{}")
    assert stored["body"] == placed.json()


def test_a_duplicate_client_order_id_frees_the_key_and_publishes_nothing(
    alice: APIClient, redis_client: redis_lib.Redis, orders_topic: OrdersTopic
) -> None:
    first = alice.post("/api/orders", limit_order(client_order_id="dup-1"), format="json")
    assert first.status_code == 202
    before = orders_topic.end_offsets()
    duplicate = alice.post("/api/orders", limit_order(client_order_id="dup-1", price="50001"),
                           format="json", HTTP_IDEMPOTENCY_KEY="dup-key")
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["code"] == "duplicate_client_order_id"
    user_id = alice.user.pk  # type: ignore[attr-defined]
    assert redis_client.get(f"idempotency:{user_id}:dup-key") is None
    assert orders_topic.end_offsets() == before
    # The key is free: another order may take it.
    retry = alice.post("/api/orders", limit_order(client_order_id="dup-2"), format="json",
                       HTTP_IDEMPOTENCY_KEY="dup-key")
    assert retry.status_code == 202, retry.content


@pytest.mark.usefixtures("inside_one_rate_window")
def test_a_throttled_order_claims_nothing_and_publishes_nothing(
    alice: APIClient, redis_client: redis_lib.Redis, orders_topic: OrdersTopic
) -> None:
    with override_settings(OMS_RATE_LIMITS={"orders-user": "1/m", "orders-ip": "1000/s"}):
        assert alice.post("/api/orders", limit_order(), format="json").status_code == 202
        before = orders_topic.end_offsets()
        throttled = alice.post("/api/orders", limit_order(client_order_id="late-1"),
                               format="json", HTTP_IDEMPOTENCY_KEY="late-key")
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert throttled.json()["errors"][0]["code"] == "throttled"
    user_id = alice.user.pk  # type: ignore[attr-defined]
    assert redis_client.get(f"idempotency:{user_id}:late-key") is None
    assert redis_client.get(f"client_order:{user_id}:late-1") is None
    assert orders_topic.end_offsets() == before


@pytest.mark.parametrize("refused", [
    {"quantity": 1},  # malformed: 400 from parsing
    {"price": "50000.001"},  # off the tick: 400 from the instrument's rules
])
@pytest.mark.usefixtures("inside_one_rate_window")
def test_refused_orders_count_against_the_limit_so_429_comes_first(
    alice: APIClient, refused: dict[str, object]
) -> None:
    with override_settings(OMS_RATE_LIMITS={"orders-user": "1/m", "orders-ip": "1000/s"}):
        first = alice.post("/api/orders", limit_order(**refused), format="json")
        second = alice.post("/api/orders", limit_order(), format="json")
    assert first.status_code == 400
    assert second.status_code == 429


def test_a_key_reused_with_an_order_the_rules_refuse_is_still_422(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    placed = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert placed.status_code == 202
    before = orders_topic.end_offsets()
    reused = alice.post("/api/orders", limit_order(price="50000.001"), format="json",
                        HTTP_IDEMPOTENCY_KEY="r-1")
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert orders_topic.end_offsets() == before
