"""Programs, not only browsers, use the live streams, against the real ws role (daphne through
`oms.serve`, as the Procfile runs it): a Python `websockets` client sends no `Origin`, reads
tickers from `/ws/market-data` and, with a short-lived single-use ticket from
`POST /api/ws-ticket`, its own fills from `/ws/orders`. A long-lived token in the URL opens
nothing; a foreign `Origin` is refused; a session cookie counts only with an allowed
`Origin`; logging out or revoking the key the ticket came from closes the private stream."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from channels.layers import channel_layers
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from apps.marketdata.feeds.registry import build_feeds
from apps.marketdata.pipeline import MarketDataPipeline
from apps.orders import services as orders
from tests.functional.accounts.conftest import PASSWORD, reset_caches
from tests.marketdata.conftest import book_event, fill_event, publish, sole_claims

pytestmark = pytest.mark.services

CLOSE_UNAUTHENTICATED = 4401


@pytest.fixture(autouse=True)
def clean_caches(redis_client: Any) -> Iterator[None]:
    reset_caches(redis_client)
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def instruments(transactional_db: None) -> None:
    """Committed (the ws role is another process), in the test database."""
    for symbol in ("BTC-USDT", "ETH-USDT"):
        orders.upsert_instrument(
            symbol=symbol, base_asset=symbol.split("-")[0], quote_asset="USDT",
            tick_size=Decimal("0.01"), lot_size=Decimal("0.00001"),
            min_quantity=Decimal("0.00001"), max_quantity=Decimal("1000"),
            min_notional=Decimal("10"), maker_fee_rate=Decimal("0.001"),
            taker_fee_rate=Decimal("0.001"))


@pytest.fixture
def ws_role(instruments: None, served_app: str) -> str:
    """The ws role (the ASGI app under daphne, as the Procfile runs it)."""
    return served_app


def trader(username: str) -> tuple[Any, str]:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    return user, Token.objects.create(user=user).key


def open_stream(base: str, path: str, *, origin: str | None = None,
                cookie: str | None = None) -> ClientConnection:
    """A `websockets` client as a program uses it: no `Origin` unless given."""
    return connect(base.replace("http://", "ws://") + path, open_timeout=10, proxy=None,
                   origin=Origin(origin) if origin else None,
                   additional_headers={"Cookie": cookie} if cookie else None)


def ticket(base: str, **auth: Any) -> str:
    response = requests.post(f"{base}/api/ws-ticket", timeout=10, **auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["expires_in"] == 30
    return str(body["ticket"])


def next_message(stream: ClientConnection, kind: str, seconds: float = 10) -> dict[str, Any]:
    """The next message of type `kind`, answering pings on the way."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            message = json.loads(stream.recv(timeout=0.5))
        except TimeoutError:
            continue
        if message.get("type") == "ping":
            stream.send(json.dumps({"type": "pong"}))
        elif message.get("type") == kind:
            return dict(message)
    raise AssertionError(f"no {kind} message within {seconds}s")


def refused(base: str, path: str, **headers: str) -> bool:
    """Whether the handshake is refused (403), as it is for anyone not authenticated."""
    with pytest.raises(InvalidStatus) as refusal:
        open_stream(base, path, **headers)
    return bool(refusal.value.response.status_code == 403)


def closed_with(stream: ClientConnection, seconds: float = 10) -> int | None:
    deadline = time.monotonic() + seconds
    with contextlib.suppress(ConnectionClosed):
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                stream.recv(timeout=0.5)
        return None
    return stream.close_code


def test_a_client_without_origin_reads_tickers(ws_role: str) -> None:
    pipeline = MarketDataPipeline(feeds=build_feeds({}, seed=7))
    pipeline.apply([book_event("snapshot", 10, [["59999", "1"]], [["60001", "1"]])])
    pipeline.refresh_cache(sole_claims(pipeline.symbols))
    with open_stream(ws_role, "/ws/market-data") as stream:
        stream.send(json.dumps({"action": "subscribe", "symbol": "BTC-USDT",
                                "channel": "ticker"}))
        assert next_message(stream, "subscribed")["channel"] == "ticker"
        publish(pipeline.due_ticks())
        assert next_message(stream, "ticker")["symbol"] == "BTC-USDT"


def test_a_client_without_origin_reads_its_own_fills_with_a_ticket(ws_role: str) -> None:
    (alice, alice_token), (bob, _) = trader("alice"), trader("bob")
    with open_stream(ws_role, "/ws/orders?ticket=" + ticket(
            ws_role, headers={"Authorization": f"Token {alice_token}"})) as stream:
        assert next_message(stream, "subscribed")["channel"] == "orders"  # reading from now
        alice_fill, bob_fill = fill_event(alice.id), fill_event(bob.id)
        publish([bob_fill, alice_fill])
        execution = next_message(stream, "execution")
        assert (execution["event"], execution["event_id"]) == ("order.fill",
                                                               alice_fill.event_id)
        assert execution["seq"] == 1
        assert execution["payload"]["user_id"] == alice.id
        with pytest.raises(AssertionError):
            next_message(stream, "execution", seconds=1)  # never bob's


def test_a_ticket_opens_one_stream_and_a_token_in_the_url_none(ws_role: str,
                                                               redis_client: Any) -> None:
    _, token = trader("alice")
    once = ticket(ws_role, headers={"Authorization": f"Token {token}"})
    assert 0 < redis_client.ttl(f"wsticket:{once}") <= 30
    with open_stream(ws_role, f"/ws/orders?ticket={once}"):
        pass
    for path in (f"/ws/orders?ticket={once}", "/ws/orders?ticket=made-up",
                 f"/ws/orders?token={token}", "/ws/orders"):
        assert refused(ws_role, path), path
    assert requests.post(f"{ws_role}/api/ws-ticket", timeout=10).status_code == 401


def test_a_foreign_origin_is_refused(ws_role: str) -> None:
    for path in ("/ws/market-data", "/ws/orders"):
        assert refused(ws_role, path, origin="https://evil.example")
    with open_stream(ws_role, "/ws/market-data", origin=ws_role):
        pass


def session_of(base: str, username: str) -> requests.Session:
    """A browser's session on the ws role: logged in through the browsable API's form."""
    browser = requests.Session()
    browser.get(f"{base}/api-auth/login/", timeout=10)
    response = browser.post(f"{base}/api-auth/login/", timeout=10, allow_redirects=False,
                            data={"username": username, "password": PASSWORD,
                                  "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                            headers={"Referer": f"{base}/api-auth/login/"})
    assert response.status_code == 302, response.text
    return browser


def test_a_session_cookie_counts_only_with_an_allowed_origin(ws_role: str) -> None:
    alice, _ = trader("alice")
    browser = session_of(ws_role, "alice")
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    assert refused(ws_role, "/ws/orders", cookie=cookie)  # no `Origin`: no cookies
    with open_stream(ws_role, "/ws/orders", cookie=cookie, origin=ws_role) as with_origin:
        next_message(with_origin, "subscribed")
        fill = fill_event(alice.id)
        publish([fill])
        assert next_message(with_origin, "execution")["event_id"] == fill.event_id


def test_logging_out_closes_the_private_stream(ws_role: str) -> None:
    trader("alice")
    browser = session_of(ws_role, "alice")
    csrf = {"X-CSRFToken": browser.cookies["csrftoken"], "Referer": f"{ws_role}/"}
    with open_stream(ws_role, "/ws/orders?ticket=" + ticket(
            ws_role, headers=csrf, cookies=browser.cookies)) as stream:
        time.sleep(0.5)
        assert browser.post(f"{ws_role}/api-auth/logout/", headers=csrf,
                            timeout=10).status_code in (200, 302)
        assert closed_with(stream) == CLOSE_UNAUTHENTICATED


def test_revoking_a_refresh_jwt_closes_the_private_stream(ws_role: str) -> None:
    trader("alice")
    pair = requests.post(f"{ws_role}/api/auth/token", timeout=10,
                         json={"username": "alice", "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {pair['access']}"}
    with open_stream(ws_role, "/ws/orders?ticket=" + ticket(ws_role, headers=bearer)) as stream:
        time.sleep(0.5)
        assert requests.post(f"{ws_role}/api/auth/token/revoke", json={"refresh": pair["refresh"]},
                             timeout=10).status_code == 200
        assert closed_with(stream) == CLOSE_UNAUTHENTICATED


def test_revoking_an_api_key_closes_the_users_private_streams(ws_role: str) -> None:
    _, token = trader("alice")
    owner = {"Authorization": f"Token {token}"}
    created = requests.post(f"{ws_role}/api/api-keys", json={"name": "bot",
                                                             "scopes": ["read"]},
                            headers=owner, timeout=10).json()
    with open_stream(ws_role, "/ws/orders?ticket=" + ticket(ws_role, headers=owner)) as stream:
        time.sleep(0.5)
        assert requests.post(f"{ws_role}/api/api-keys/{created['key_id']}/revoke",
                             headers=owner, timeout=10).status_code == 200
        assert closed_with(stream) == CLOSE_UNAUTHENTICATED


def test_deleting_the_api_token_in_the_admin_closes_the_private_stream(ws_role: str) -> None:
    alice, token = trader("alice")
    with open_stream(ws_role, "/ws/orders?ticket=" + ticket(
            ws_role, headers={"Authorization": f"Token {token}"})) as stream:
        time.sleep(0.5)
        admin = Client()
        admin.force_login(get_user_model().objects.create_superuser("root", password="x" * 20))
        deleted = admin.post(f"/admin/authtoken/tokenproxy/{alice.pk}/delete/", {"post": "yes"})
        assert deleted.status_code == 302
        assert not Token.objects.filter(user=alice).exists()
        assert closed_with(stream) == CLOSE_UNAUTHENTICATED
