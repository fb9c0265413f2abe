"""`GET /api/fills`: a trader's fills across all their orders (a trading client's "my
trades"), newest first, filtered by symbol, side, order and time, never another user's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.orders.models import Fill, Order

pytestmark = pytest.mark.django_db


def filled_order(client: APIClient, *, symbol: str = "BTC-USDT", side: str = "buy",
                 at: datetime | None = None, fills: int = 1) -> Order:
    """An order as the processor records it once filled, with its fills."""
    when = at or datetime.now(UTC)
    order = Order.objects.create(
        id=uuid.uuid4(), user=client.user, client_order_id=uuid.uuid4().hex[:10],  # type: ignore[attr-defined]
        symbol=symbol, side=side, type="limit", time_in_force="GTC",
        quantity=Decimal("0.5"), price=Decimal("50000"), status="FILLED",
        filled_quantity=Decimal("0.5"), created_at=when, updated_at=when)
    for number in range(fills):
        Fill.objects.create(id=uuid.uuid4(), order=order, trade_id=uuid.uuid4(),
                            price=Decimal("50000"), quantity=Decimal("0.5") / fills,
                            fee=Decimal("25"), fee_asset="USDT", liquidity="taker",
                            created_at=when + timedelta(milliseconds=number))
    return order


def test_fills_of_all_orders_are_listed_newest_first_with_symbol_and_side(
        alice: APIClient) -> None:
    now = datetime.now(UTC)
    older = filled_order(alice, at=now - timedelta(minutes=1))
    newer = filled_order(alice, symbol="ETH-USDT", side="sell", at=now)
    body = alice.get("/api/fills").json()
    assert [fill["order_id"] for fill in body["results"]] == [str(newer.id), str(older.id)]
    first = body["results"][0]
    assert (first["symbol"], first["side"], first["price"], first["quantity"], first["fee"],
            first["fee_asset"], first["liquidity"]) == (
        "ETH-USDT", "sell", "50000", "0.5", "25", "USDT", "taker")


def test_fills_are_filtered_by_symbol_side_order_and_time(alice: APIClient) -> None:
    now = datetime.now(UTC)
    btc = filled_order(alice, at=now - timedelta(hours=1))
    eth = filled_order(alice, symbol="ETH-USDT", side="sell", at=now)

    def listed(query: str) -> list[str]:
        return [fill["order_id"] for fill in alice.get(f"/api/fills?{query}").json()["results"]]

    assert listed("symbol=BTC-USDT") == [str(btc.id)]
    assert listed("side=sell") == [str(eth.id)]
    assert listed(f"order={btc.id}") == [str(btc.id)]
    since = (now - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert listed(f"created_after={since}") == [str(eth.id)]


def test_another_users_fills_are_never_listed(alice: APIClient, bob: APIClient) -> None:
    filled_order(alice)
    assert bob.get("/api/fills").json()["results"] == []


def test_fills_need_a_signed_in_user() -> None:
    response = APIClient().get("/api/fills")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_a_page_of_fills_is_a_fixed_number_of_queries(alice: APIClient) -> None:
    for _ in range(3):
        filled_order(alice, fills=2)
    alice.get("/api/fills")  # warm the token cache
    with CaptureQueriesContext(connection) as few:
        alice.get("/api/fills?page_size=2")
    with CaptureQueriesContext(connection) as many:
        assert len(alice.get("/api/fills?page_size=6").json()["results"]) == 6
    assert len(many.captured_queries) == len(few.captured_queries)
