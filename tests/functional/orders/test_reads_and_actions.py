"""Reads (one order, the list with filters and cursor pages, fills), cancel, amend and
cancel-all; isolation between users on every endpoint; operators see and cancel all;
throttling."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.orders.models import Fill, Order
from tests.functional.orders.conftest import OrdersTopic, limit_order

pytestmark = pytest.mark.django_db


def recorded(client: APIClient, **fields: object) -> Order:
    """An order as the processor would have recorded it."""
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "id": uuid.uuid4(), "user": client.user, "client_order_id": uuid.uuid4().hex[:10],  # type: ignore[attr-defined]
        "symbol": "BTC-USDT", "side": "buy", "type": "limit", "time_in_force": "GTC",
        "quantity": Decimal("0.5"), "price": Decimal("50000"), "status": "ACCEPTED",
        "created_at": now, "updated_at": now,
    }
    values.update(fields)
    return Order.objects.create(**values)


def test_new_order_is_readable_from_the_cache_then_from_the_database(alice: APIClient) -> None:
    placed = alice.post("/api/orders", limit_order(), format="json").json()
    cached = alice.get(f"/api/orders/{placed['id']}")
    assert cached.status_code == 200
    assert cached.json()["status"] == "NEW"
    recorded(alice, id=placed["id"], status="PARTIALLY_FILLED",
             filled_quantity=Decimal("0.2"), quantity=Decimal("0.01"))
    stored = alice.get(f"/api/orders/{placed['id']}").json()
    assert stored["status"] == "PARTIALLY_FILLED"
    assert stored["filled_quantity"] == "0.2"


def test_another_users_order_is_404_on_every_endpoint(alice: APIClient, bob: APIClient) -> None:
    stored = recorded(alice)
    cached_id = alice.post("/api/orders", limit_order(), format="json").json()["id"]
    for order_id in (stored.id, cached_id):
        assert bob.get(f"/api/orders/{order_id}").status_code == 404
        assert bob.get(f"/api/orders/{order_id}/fills").status_code == 404
        assert bob.post(f"/api/orders/{order_id}/cancel").status_code == 404
        assert bob.patch(f"/api/orders/{order_id}", {"price": "1"}, format="json"
                         ).status_code == 404
    assert bob.get("/api/orders").json()["results"] == []
    assert bob.post("/api/orders/cancel-all", {}, format="json").json() == {"requested": 0}
    body = bob.get(f"/api/orders/{stored.id}").json()
    assert body["errors"][0]["code"] == "not_found"


def test_ops_sees_every_order_and_may_cancel_any(
    alice: APIClient, bob: APIClient, ops: APIClient, orders_topic: OrdersTopic
) -> None:
    mine, theirs = recorded(alice), recorded(bob)
    listed = {item["id"] for item in ops.get("/api/orders").json()["results"]}
    assert {str(mine.id), str(theirs.id)} <= listed
    assert ops.get(f"/api/orders/{mine.id}").status_code == 200
    assert ops.post(f"/api/orders/{mine.id}/cancel").status_code == 202
    [(_, event, _)] = orders_topic.events_about(str(mine.id))
    assert event.type == "order.cancel_requested"
    assert event.payload["reason"] == "ops"
    assert event.payload["user_id"] == alice.user.pk  # type: ignore[attr-defined]
    assert event.payload["requested_by"] == ops.user.pk  # type: ignore[attr-defined]


def test_list_filters_and_pages_newest_first(alice: APIClient) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    orders = [recorded(alice, created_at=start + timedelta(minutes=i),
                       status="FILLED" if i % 2 else "ACCEPTED",
                       symbol="ETH-USDT" if i == 4 else "BTC-USDT") for i in range(5)]
    page = alice.get("/api/orders?page_size=2").json()
    assert [item["id"] for item in page["results"]] == [str(orders[4].id), str(orders[3].id)]
    second = alice.get(page["next"]).json()
    assert [item["id"] for item in second["results"]] == [str(orders[2].id), str(orders[1].id)]
    filled = alice.get("/api/orders?status=FILLED").json()["results"]
    assert {item["id"] for item in filled} == {str(orders[1].id), str(orders[3].id)}
    both = alice.get("/api/orders?status=FILLED&status=ACCEPTED").json()["results"]
    assert len(both) == 5
    assert [i["id"] for i in alice.get("/api/orders?symbol=ETH-USDT").json()["results"]] == [
        str(orders[4].id)]
    window = alice.get("/api/orders", {"created_after": (start + timedelta(minutes=1)).isoformat(),
                                       "created_before": (start + timedelta(minutes=3)).isoformat()}
                       ).json()["results"]
    assert [item["id"] for item in window] == [str(orders[2].id), str(orders[1].id)]
    by_client_id = alice.get("/api/orders", {"client_order_id": orders[0].client_order_id})
    assert [item["id"] for item in by_client_id.json()["results"]] == [str(orders[0].id)]
    assert alice.get("/api/orders?side=sell").json()["results"] == []


def test_list_runs_a_fixed_number_of_queries(alice: APIClient, django_assert_max_num_queries
                                             ) -> None:
    for _ in range(30):
        recorded(alice)
    alice.get("/api/orders")  # warm the token cache
    with django_assert_max_num_queries(3):
        assert len(alice.get("/api/orders?page_size=30").json()["results"]) == 30


def test_fills_are_listed(alice: APIClient) -> None:
    order = recorded(alice, status="FILLED", filled_quantity=Decimal("0.5"))
    Fill.objects.create(id=uuid.uuid4(), order=order, trade_id=uuid.uuid4(),
                        price=Decimal("50000"), quantity=Decimal("0.5"), fee=Decimal("25"),
                        fee_asset="USDT", liquidity="taker", created_at=datetime.now(UTC))
    [fill] = alice.get(f"/api/orders/{order.id}/fills").json()
    assert fill["price"] == "50000"
    assert fill["fee"] == "25"
    assert fill["liquidity"] == "taker"


def test_cancel_publishes_a_request_and_a_final_order_is_409(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    working, done = recorded(alice), recorded(alice, status="FILLED")
    response = alice.post(f"/api/orders/{working.id}/cancel")
    assert response.status_code == 202
    [(key, event, _)] = orders_topic.events_about(str(working.id))
    assert key == "BTC-USDT"
    assert event.type == "order.cancel_requested"
    assert event.payload["reason"] == "user"
    before = orders_topic.end_offsets()
    conflict = alice.post(f"/api/orders/{done.id}/cancel")
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["code"] == "order_not_working"
    assert orders_topic.end_offsets() == before


def test_amend_publishes_a_request_and_validates_the_new_terms(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    order = recorded(alice, filled_quantity=Decimal("0.1"))
    response = alice.patch(f"/api/orders/{order.id}", {"price": "49000.50", "quantity": "0.4"},
                           format="json")
    assert response.status_code == 202, response.content
    [(_, event, _)] = orders_topic.events_about(str(order.id))
    assert event.type == "order.amend_requested"
    assert event.payload["price"] == "49000.5"
    assert event.payload["quantity"] == "0.4"
    before = orders_topic.end_offsets()
    for body, field, code in [({"price": "49000.001"}, "price", "tick_size"),
                              ({"quantity": "0.1"}, "quantity", "not_above_filled"),
                              ({}, None, "nothing_to_amend"),
                              ({"side": "sell"}, "side", "unknown_field")]:
        bad = alice.patch(f"/api/orders/{order.id}", body, format="json")
        assert bad.status_code == 400, body
        assert (bad.json()["errors"][0]["field"], bad.json()["errors"][0]["code"]) == (field, code)
    assert orders_topic.end_offsets() == before


def test_cancel_all_requests_each_working_order_optionally_per_symbol(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    btc, eth = recorded(alice), recorded(alice, symbol="ETH-USDT")
    recorded(alice, status="CANCELLED")
    response = alice.post("/api/orders/cancel-all", {"symbol": "ETH-USDT"}, format="json")
    assert response.json() == {"requested": 1}
    assert orders_topic.events_about(str(eth.id))[0][1].type == "order.cancel_requested"
    assert alice.post("/api/orders/cancel-all", {}, format="json").json() == {"requested": 2}
    assert orders_topic.events_about(str(btc.id))[0][1].type == "order.cancel_requested"


@pytest.mark.usefixtures("inside_one_rate_window")
def test_throttling_answers_429_with_retry_after(alice: APIClient) -> None:
    with override_settings(OMS_RATE_LIMITS={"orders-user": "3/m", "orders-ip": "1000/s"}):
        statuses = [alice.get("/api/orders").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        throttled = alice.get("/api/orders")
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert throttled.json()["errors"][0]["code"] == "throttled"


@pytest.mark.usefixtures("inside_one_rate_window")
def test_throttling_per_client_ip(alice: APIClient, bob: APIClient) -> None:
    with override_settings(OMS_RATE_LIMITS={"orders-user": "1000/s", "orders-ip": "2/m"}):
        assert alice.get("/api/orders").status_code == 200
        assert bob.get("/api/orders").status_code == 200
        assert alice.get("/api/orders").status_code == 429


@pytest.mark.parametrize(("query", "field", "code"), [
    ("cursor=garbage", "cursor", "invalid"),
    ("page_size=0", "page_size", "invalid"),
    ("page_size=501", "page_size", "invalid"),
    ("symbol=", "symbol", "blank"),
    ("status=OPEN", "status", "invalid_choice"),
    ("created_before=9999-12-31T23:59:59-23:00", "created_at", "invalid"),
])
def test_bad_list_parameters_are_400(alice: APIClient, query: str, field: str, code: str) -> None:
    response = alice.get(f"/api/orders?{query}")
    assert response.status_code == 400
    assert (response.json()["errors"][0]["field"], response.json()["errors"][0]["code"]) == (
        field, code)


def test_times_in_any_offset_compare_in_utc(alice: APIClient) -> None:
    order = recorded(alice, created_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    found = alice.get("/api/orders", {"created_after": "2026-01-02T10:57:00+22:58"})
    assert [item["id"] for item in found.json()["results"]] == [str(order.id)]
