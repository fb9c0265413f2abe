"""`Idempotency-Key` on `POST /api/orders`: replay, mismatch, in flight, and concurrency."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
import redis as redis_lib
from django.db import connection
from rest_framework.test import APIClient

from apps.orders.api import idempotency
from tests.functional.orders.conftest import OrdersTopic, limit_order

pytestmark = pytest.mark.django_db


def test_same_key_same_body_replays_the_first_response_and_publishes_once(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    first = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    before_replay = orders_topic.end_offsets()
    second = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert orders_topic.end_offsets() == before_replay
    assert len(orders_topic.events_about(first.json()["id"])) == 1


def test_order_id_is_derived_from_user_and_key(alice: APIClient, bob: APIClient) -> None:
    mine = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="same")
    theirs = bob.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert mine.status_code == theirs.status_code == 202
    assert mine.json()["id"] != theirs.json()["id"]
    user_id = alice.user.pk  # type: ignore[attr-defined]
    from apps.orders.services import order_id_for

    assert mine.json()["id"] == str(order_id_for(user_id=user_id, idempotency_key="same"))


def test_same_key_different_body_is_422(alice: APIClient, orders_topic: OrdersTopic) -> None:
    alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    before = orders_topic.end_offsets()
    other = alice.post("/api/orders", limit_order(price="49000"), format="json",
                       HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert orders_topic.end_offsets() == before


def test_request_while_the_first_is_in_flight_is_409(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    body = limit_order()
    user_id = alice.user.pk  # type: ignore[attr-defined]
    idempotency.claim(user_id=user_id, key="k-3",
                      request_fingerprint=idempotency.fingerprint("POST", "/api/orders", body),
                      now=datetime.now(UTC))
    before = orders_topic.end_offsets()
    response = alice.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_key_in_flight"
    assert orders_topic.end_offsets() == before


def test_keys_are_scoped_per_user_and_kept_a_day(
    alice: APIClient, redis_client: redis_lib.Redis
) -> None:
    alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    user_id = alice.user.pk  # type: ignore[attr-defined]
    assert 86000 < redis_client.ttl(f"idempotency:{user_id}:k-4") <= 86400


def test_invalid_key_is_400(alice: APIClient) -> None:
    response = alice.post("/api/orders", limit_order(), format="json",
                          HTTP_IDEMPOTENCY_KEY="has space")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_place_one_order(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    key = f"race-{uuid.uuid4().hex[:6]}"
    barrier = threading.Barrier(2)
    responses = []

    def submit() -> None:
        client = APIClient()
        client.credentials(**alice._credentials)  # type: ignore[attr-defined]
        barrier.wait()
        try:
            responses.append(client.post("/api/orders", limit_order(), format="json",
                                         HTTP_IDEMPOTENCY_KEY=key))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(response.status_code for response in responses)
    assert statuses in ([202, 202], [202, 409])
    placed = {response.json()["id"] for response in responses if response.status_code == 202}
    assert len(placed) == 1
    assert len(orders_topic.events_about(placed.pop())) == 1
