"""Orders accepted at entry but not yet recorded by the processor (issue 14, items 11 and
12): `GET /api/orders` lists them as `GET /api/orders/{id}` already shows them, and
cancel-all and the kill switch reach them. Before, all three read only the database, so an
order placed a moment ago was missing from the list and survived a cancel-all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis as redis_lib
from rest_framework.test import APIClient

from apps.orders.models import Order
from tests.functional.orders.conftest import OrdersTopic, limit_order

pytestmark = pytest.mark.django_db


def record(order_id: str, client: APIClient, **fields: object) -> Order:
    """What the processor writes when it consumes the order."""
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "id": order_id, "user": client.user, "client_order_id": uuid.uuid4().hex[:10],  # type: ignore[attr-defined]
        "symbol": "BTC-USDT", "side": "buy", "type": "limit", "time_in_force": "GTC",
        "quantity": Decimal("0.01"), "price": Decimal("50000"), "status": "ACCEPTED",
        "created_at": now, "updated_at": now,
    }
    values.update(fields)
    return Order.objects.create(**values)


def ids(response: object) -> list[str]:
    return [item["id"] for item in response.json()["results"]]  # type: ignore[attr-defined]


def test_the_list_shows_accepted_orders_before_the_processor_records_them(
    alice: APIClient, bob: APIClient, redis_client: redis_lib.Redis
) -> None:
    older = [record(str(uuid.uuid4()), alice,
                    created_at=datetime.now(UTC) - timedelta(minutes=10 - n)) for n in range(3)]
    placed = [alice.post("/api/orders", body, format="json").json() for body in (
        limit_order(), limit_order(symbol="ETH-USDT", side="sell", price="3000", quantity="1"),
        limit_order(client_order_id="mine-3"))]
    assert all(order["status"] == "NEW" for order in placed)
    newest_first = [placed[2]["id"], placed[1]["id"], placed[0]["id"]]

    assert ids(alice.get("/api/orders")) == newest_first + [str(o.id) for o in reversed(older)]
    # Filters apply to them as to recorded orders.
    assert ids(alice.get("/api/orders?symbol=ETH-USDT")) == [placed[1]["id"]]
    assert ids(alice.get("/api/orders?side=sell")) == [placed[1]["id"]]
    assert ids(alice.get("/api/orders?client_order_id=mine-3")) == [placed[2]["id"]]
    assert ids(alice.get("/api/orders?status=NEW")) == newest_first
    assert ids(alice.get("/api/orders?status=ACCEPTED")) == [str(o.id) for o in reversed(older)]
    # Only the first page carries them; the cursor pages the recorded orders as before.
    first = alice.get("/api/orders?page_size=2").json()
    assert [item["id"] for item in first["results"]] == [
        *newest_first[:2], str(older[2].id), str(older[1].id)]
    assert ids(alice.get(first["next"])) == [str(older[0].id)]
    # Nobody else's.
    assert ids(bob.get("/api/orders")) == []

    # Once the processor recorded one, it is listed once, as recorded, and the index forgets it.
    record(placed[0]["id"], alice, status="PARTIALLY_FILLED",
           created_at=datetime.fromisoformat(placed[0]["created_at"]))
    listed = alice.get("/api/orders").json()["results"]
    assert [item["id"] for item in listed].count(placed[0]["id"]) == 1
    assert next(item for item in listed if item["id"] == placed[0]["id"]
                )["status"] == "PARTIALLY_FILLED"
    user_id = alice.user.pk  # type: ignore[attr-defined]
    index = f"orders:pending:{user_id}"
    assert redis_client.zscore(index, placed[0]["id"]) is None
    assert redis_client.zscore(index, placed[1]["id"]) is not None
    assert 3500 < redis_client.ttl(index) <= 3600


def test_cancel_all_reaches_orders_not_yet_recorded(
    alice: APIClient, bob: APIClient, orders_topic: OrdersTopic
) -> None:
    stored = record(str(uuid.uuid4()), alice)
    pending = alice.post("/api/orders", limit_order(), format="json").json()
    other_symbol = alice.post("/api/orders", limit_order(symbol="ETH-USDT", price="3000",
                                                         quantity="1"), format="json").json()
    bobs = bob.post("/api/orders", limit_order(), format="json").json()

    response = alice.post("/api/orders/cancel-all", {"symbol": "BTC-USDT"}, format="json")
    assert response.json() == {"requested": 2}
    for order_id in (str(stored.id), pending["id"]):
        [(_, event, _)] = [item for item in orders_topic.events_about(order_id, expect=2)
                           if item[1].type == "order.cancel_requested"]
        assert event.payload["reason"] == "user"
    assert [item[1].type for item in orders_topic.events_about(other_symbol["id"])] == [
        "order.submitted"]
    assert [item[1].type for item in orders_topic.events_about(bobs["id"])] == [
        "order.submitted"]


def test_the_kill_switch_reaches_orders_not_yet_recorded(
    alice: APIClient, bob: APIClient, ops: APIClient, orders_topic: OrdersTopic
) -> None:
    pending = alice.post("/api/orders", limit_order(), format="json").json()
    bobs = bob.post("/api/orders", limit_order(), format="json").json()
    engaged = ops.post("/api/risk/kill-switches",
                       {"user": "alice", "reason": "test"}, format="json")
    assert engaged.status_code == 202, engaged.content
    assert engaged.json() == {"cancel_requests": 1}
    [(_, event, _)] = [item for item in orders_topic.events_about(pending["id"], expect=2)
                       if item[1].type == "order.cancel_requested"]
    assert event.payload["reason"] == "kill_switch"
    # The venue-wide switch of a symbol reaches every user's.
    venue = ops.post("/api/risk/kill-switches", {"symbol": "BTC-USDT", "reason": "halt"},
                     format="json")
    assert venue.json() == {"cancel_requests": 2}
    assert "order.cancel_requested" in [
        item[1].type for item in orders_topic.events_about(bobs["id"], expect=2)]
