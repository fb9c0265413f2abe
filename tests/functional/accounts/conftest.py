"""Users by role with API tokens, the demo instruments, and requests signed with an API key
the way a client would sign them (written from the spec, not with the server's code)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis as redis_lib
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts.authentication import CachedTokenAuthentication
from apps.orders import services as orders
from apps.orders.selectors import forget_instrument_rules
from oms.auth.roles import Role, assign_role

PASSWORD = "a-long-test-password-42"


def reset_caches(redis_client: redis_lib.Redis) -> None:
    """Forget rate counts, replay memory, cached instrument rules and cached tokens."""
    redis_client.flushdb()
    forget_instrument_rules()
    CachedTokenAuthentication.forget_all()


def create_instruments() -> None:
    for symbol in ("BTC-USDT", "ETH-USDT"):
        orders.upsert_instrument(
            symbol=symbol, base_asset=symbol.split("-")[0], quote_asset="USDT",
            tick_size=Decimal("0.01"), lot_size=Decimal("0.0001"),
            min_quantity=Decimal("0.0001"), max_quantity=Decimal("1000"),
            min_notional=Decimal("10"), maker_fee_rate=Decimal("0.001"),
            taker_fee_rate=Decimal("0.001"))


@pytest.fixture(autouse=True)
def clean_caches(redis_client: redis_lib.Redis) -> Iterator[None]:
    reset_caches(redis_client)
    yield
    forget_instrument_rules()


@pytest.fixture
def instruments(db: None) -> None:
    create_instruments()


def client_for(username: str, role: Role) -> APIClient:
    """A client authenticated with the user's API token; the user has a password too."""
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    assign_role(user, role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user  # type: ignore[attr-defined]
    return client


def limit_order(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {"symbol": "BTC-USDT", "side": "buy", "type": "limit",
                               "quantity": "0.01", "price": "50000.00"}
    body.update(overrides)
    return body


def now_ms() -> int:
    return int(time.time() * 1000)


class SignedClient:
    """Sends requests signed with one API key: X-API-SIGNATURE is hex HMAC-SHA256 with the
    secret of timestamp + receive window (as sent, empty when not sent) + METHOD + path
    (+ "?" + query) + body."""

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id, self.secret = key_id, secret
        self.client = APIClient()

    def headers(self, method: str, target: str, body: bytes, *, timestamp: int | None = None,
                recv_window: int | None = None) -> dict[str, str]:
        stamp = str(now_ms() if timestamp is None else timestamp)
        window = "" if recv_window is None else str(recv_window)
        message = f"{stamp}{window}{method}{target}".encode() + body
        headers = {"HTTP_X_API_KEY": self.key_id, "HTTP_X_API_TIMESTAMP": stamp,
                   "HTTP_X_API_SIGNATURE": hmac.new(self.secret.encode(), message,
                                                    hashlib.sha256).hexdigest()}
        if recv_window is not None:
            headers["HTTP_X_API_RECV_WINDOW"] = str(recv_window)
        return headers

    def send(self, method: str, target: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> Any:
        """`target` is the path with its query string, exactly as signed."""
        return self.client.generic(method, target, body, content_type="application/json",
                                   **(headers or self.headers(method, target, body)))
