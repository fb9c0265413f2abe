"""The seed's Redis structure, read back from the real Redis after the real code path:
each key under its name and with the seed's TTL. (`position:{userId}:{symbol}` is tested
with the positions it mirrors, in tests/integration/risk.)

| key | written by | TTL |
|---|---|---|
| `idempotency:{user}:{key}` | `POST /api/orders` with `Idempotency-Key` | 24 h |
| `order:{orderId}` | `POST /api/orders` (until the processor records it) | 1 h |
| `orderbook:{symbol}`, `price:{symbol}` | the marketdata role | 1 s |
| the session (`django.contrib.sessions.cache<id>`) | logging in | 30 min, idle |

The idempotency key carries the user as well as the client's key: keys are chosen by
clients, so two users' keys must not meet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis as redis_lib
from django.conf import settings
from rest_framework.test import APIClient

from apps.marketdata import services as marketdata
from apps.marketdata.domain.book import BookView
from oms.auth.roles import Role
from tests.functional.accounts.conftest import (
    PASSWORD,
    client_for,
    create_instruments,
    limit_order,
    reset_caches,
)
from tests.marketdata.conftest import sole_claims

pytestmark = pytest.mark.django_db

HOUR, DAY = 3600, 24 * 3600


@pytest.fixture(autouse=True)
def clean_caches(redis_client: redis_lib.Redis) -> Iterator[None]:
    reset_caches(redis_client)
    yield
    reset_caches(redis_client)


def assert_ttl_near(ttl: int, expected: int) -> None:
    """Set just now with `expected` seconds: a few seconds may have passed since."""
    assert expected - 5 <= ttl <= expected, ttl


def test_an_order_caches_its_idempotency_key_for_a_day_and_the_order_for_an_hour(
        redis_client: redis_lib.Redis) -> None:
    create_instruments()
    trader = client_for("alice", Role.TRADER)
    response = trader.post("/api/orders", json.dumps(limit_order()),
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 202, response.content
    order_id = response.json()["id"]
    user_id = trader.user.pk  # type: ignore[attr-defined]

    idempotency_key = f"idempotency:{user_id}:k-1"
    assert json.loads(redis_client.get(idempotency_key))["state"] == "done"
    assert_ttl_near(redis_client.ttl(idempotency_key), DAY)

    order_key = f"order:{order_id}"
    assert json.loads(redis_client.get(order_key))["id"] == order_id
    assert_ttl_near(redis_client.ttl(order_key), HOUR)


def test_the_marketdata_role_caches_the_book_and_price_for_a_second(
        redis_client: redis_lib.Redis) -> None:
    book = BookView(symbol="BTC-USDT", sequence=1, bids=((Decimal("100"), Decimal("1")),),
                    asks=((Decimal("101"), Decimal("2")),))
    claims = sole_claims(["BTC-USDT"])
    refused = marketdata.cache_market(
        books=[book], prices=[{"symbol": "BTC-USDT", "price": "100.5"}], claims=claims)
    assert refused == set()
    assert json.loads(redis_client.get("orderbook:BTC-USDT"))["sequence"] == 1
    price = json.loads(redis_client.get("price:BTC-USDT"))
    assert price["price"] == "100.5"
    assert price["writer"] == {"replica": "test", "epoch": claims["BTC-USDT"].epoch}
    for key in ("orderbook:BTC-USDT", "price:BTC-USDT"):
        assert 0 < redis_client.pttl(key) <= settings.MARKETDATA_CACHE_TTL_MS == 1000


def test_a_superseded_marketdata_replica_cannot_write_the_cache(
        redis_client: redis_lib.Redis) -> None:
    stale = sole_claims(["BTC-USDT"])
    redis_client.incr("marketdata:epoch:BTC-USDT")  # another replica claimed the symbol
    refused = marketdata.cache_market(
        books=[], prices=[{"symbol": "BTC-USDT", "price": "99"}], claims=stale)
    assert refused == {"BTC-USDT"}
    assert redis_client.get("price:BTC-USDT") is None


def test_a_session_lives_in_redis_for_30_idle_minutes(redis_client: redis_lib.Redis) -> None:
    client_for("alice", Role.TRADER)
    browser = APIClient()
    assert browser.login(username="alice", password=PASSWORD)
    session_id = browser.cookies[settings.SESSION_COOKIE_NAME].value
    [key] = redis_client.keys(f"*django.contrib.sessions.cache{session_id}")
    assert_ttl_near(redis_client.ttl(key), 30 * 60)
    redis_client.expire(key, 60)  # as if 29 minutes had passed idle
    assert browser.get("/api/api-keys").status_code == 200
    assert_ttl_near(redis_client.ttl(key), 30 * 60)  # any request renews it
