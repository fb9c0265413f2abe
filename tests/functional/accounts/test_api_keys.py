"""API keys: the owner creates (the secret shown once), lists and revokes them; a signed
request is accepted once, within its receive window, with an intact signature, from a live
key, and only within the key's scopes; operators revoke and rotate keys in the admin."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey
from oms.auth.roles import Role
from tests.functional.accounts.conftest import SignedClient, client_for, limit_order, now_ms

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(instruments: None) -> APIClient:
    return client_for("alice", Role.TRADER)


def issue(client: APIClient, *scopes: str) -> SignedClient:
    response = client.post("/api/api-keys", {"name": "bot", "scopes": list(scopes)},
                           format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    return SignedClient(body["key_id"], body["secret"])


def error_code(response: Any) -> str:
    return str(response.json()["errors"][0]["code"])


def order_body() -> bytes:
    return json.dumps(limit_order()).encode()


def test_the_secret_is_shown_once_and_not_stored(alice: APIClient) -> None:
    created = alice.post("/api/api-keys", {"name": "bot", "scopes": ["trade"]},
                         format="json").json()
    assert created["scopes"] == ["read", "trade"]  # trade includes read
    assert len(created["secret"]) == 64
    listed = alice.get("/api/api-keys").json()
    assert [key["key_id"] for key in listed] == [created["key_id"]]
    assert "secret" not in listed[0]
    stored = ApiKey.objects.values().get(key_id=created["key_id"])
    assert created["secret"] not in {str(value) for value in stored.values()}


def test_unknown_scopes_are_refused(alice: APIClient) -> None:
    for scopes in ([], ["withdraw"]):
        response = alice.post("/api/api-keys", {"scopes": scopes}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"].startswith("scopes")


def test_a_valid_signature_authenticates_as_the_owner(alice: APIClient) -> None:
    key = issue(alice, "read")
    assert key.send("GET", "/api/balances").status_code == 200
    response = key.send("GET", "/api/orders?symbol=BTC-USDT&side=buy")
    assert response.status_code == 200
    assert key.send("GET", "/api/orders?symbol=ETH-USDT",
                    headers=key.headers("GET", "/api/orders?symbol=ETH-USDT", b"",
                                        recv_window=60_000)).status_code == 200
    assert ApiKey.objects.get(key_id=key.key_id).last_used_at is not None


def test_a_trade_key_places_an_order(alice: APIClient) -> None:
    key = issue(alice, "trade")
    response = key.send("POST", "/api/orders", order_body())
    assert response.status_code == 202, response.json()
    assert alice.get(f"/api/orders/{response.json()['id']}").status_code == 200  # alice's


def test_a_tampered_body_is_refused(alice: APIClient) -> None:
    key = issue(alice, "trade")
    headers = key.headers("POST", "/api/orders", order_body())
    tampered = json.dumps(limit_order(quantity="10")).encode()
    response = key.send("POST", "/api/orders", tampered, headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "signature_invalid"


def test_a_tampered_path_or_query_is_refused(alice: APIClient) -> None:
    key = issue(alice, "read")
    headers = key.headers("GET", "/api/balances", b"")
    assert error_code(key.send("GET", "/api/orders", headers=headers)) == "signature_invalid"
    headers = key.headers("GET", "/api/orders?symbol=BTC-USDT", b"")
    response = key.send("GET", "/api/orders?symbol=ETH-USDT", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "signature_invalid"


def test_a_signature_of_another_secret_is_refused(alice: APIClient) -> None:
    key = issue(alice, "read")
    forged = SignedClient(key.key_id, "0" * 64)
    response = forged.send("GET", "/api/balances")
    assert response.status_code == 401
    assert error_code(response) == "signature_invalid"


@pytest.mark.parametrize(("offset_ms", "recv_window"), [(-10_000, None), (-61_000, 60_000),
                                                        (+5_000, None)])
def test_a_timestamp_outside_the_window_is_refused(alice: APIClient, offset_ms: int,
                                                   recv_window: int | None) -> None:
    key = issue(alice, "read")
    headers = key.headers("GET", "/api/balances", b"", timestamp=now_ms() + offset_ms,
                          recv_window=recv_window)
    response = key.send("GET", "/api/balances", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "timestamp_out_of_window"


@pytest.mark.parametrize(("header", "value", "code"), [
    ("HTTP_X_API_TIMESTAMP", None, "headers_invalid"),
    ("HTTP_X_API_TIMESTAMP", "soon", "headers_invalid"),
    ("HTTP_X_API_TIMESTAMP", "-5", "headers_invalid"),
    ("HTTP_X_API_RECV_WINDOW", "60001", "headers_invalid"),
    ("HTTP_X_API_RECV_WINDOW", "0", "headers_invalid"),
    ("HTTP_X_API_RECV_WINDOW", "5s", "headers_invalid"),
    ("HTTP_X_API_SIGNATURE", None, "headers_invalid"),
    ("HTTP_X_API_SIGNATURE", "not-hex", "signature_invalid"),
])
def test_missing_or_malformed_headers_are_refused(alice: APIClient, header: str,
                                                  value: str | None, code: str) -> None:
    key = issue(alice, "read")
    headers = key.headers("GET", "/api/balances", b"")
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    response = key.send("GET", "/api/balances", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == code


def test_a_replayed_request_is_refused(alice: APIClient) -> None:
    key = issue(alice, "trade")
    headers = key.headers("POST", "/api/orders", order_body())
    assert key.send("POST", "/api/orders", order_body(), headers=headers).status_code == 202
    replayed = key.send("POST", "/api/orders", order_body(), headers=headers)
    assert replayed.status_code == 401
    assert error_code(replayed) == "replayed"


def test_the_replay_memory_lasts_the_longest_receive_window(alice: APIClient,
                                                            redis_client: redis.Redis) -> None:
    key = issue(alice, "read")
    headers = key.headers("GET", "/api/balances", b"", recv_window=20_000)
    assert key.send("GET", "/api/balances", headers=headers).status_code == 200
    [remembered] = redis_client.keys(f"apikey:seen:{key.key_id}:*")
    assert 60_000 < redis_client.pttl(remembered) <= 61_000


def test_without_redis_a_signed_request_is_refused_not_trusted(
        alice: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    key = issue(alice, "read")

    class DownRedis:
        def set(self, *args: object, **kwargs: object) -> None:
            raise redis.ConnectionError("down")

    monkeypatch.setattr("apps.accounts.authentication.redis_client", DownRedis)
    response = key.send("GET", "/api/balances")
    assert response.status_code == 503
    assert error_code(response) == "redis_unavailable"
    assert response["Retry-After"] == "1"


def test_a_revoked_key_is_refused(alice: APIClient) -> None:
    key = issue(alice, "read")
    revoked = alice.post(f"/api/api-keys/{key.key_id}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = key.send("GET", "/api/balances")
    assert response.status_code == 401
    assert error_code(response) == "key_revoked"


def test_an_unknown_key_is_refused(alice: APIClient) -> None:
    response = SignedClient("ak_nobody", "0" * 64).send("GET", "/api/balances")
    assert response.status_code == 401
    assert error_code(response) == "key_unknown"


def test_an_inactive_owner_is_refused(alice: APIClient) -> None:
    key = issue(alice, "read")
    get_user_model().objects.filter(pk=alice.user.pk).update(is_active=False)  # type: ignore[attr-defined]
    assert error_code(key.send("GET", "/api/balances")) == "user_inactive"


def test_a_read_key_may_not_write(alice: APIClient) -> None:
    key = issue(alice, "read")
    response = key.send("POST", "/api/orders", order_body())
    assert response.status_code == 403
    assert error_code(response) == "scope_insufficient"
    assert key.send("POST", "/api/orders/cancel-all", b"{}").status_code == 403


def test_a_trade_key_writes_only_on_order_endpoints(instruments: None) -> None:
    operator = client_for("operator", Role.OPS)
    key = issue(operator, "trade")
    deposit = json.dumps({"user": "operator", "asset": "USDT", "amount": "1",
                          "reference": "by-key"}).encode()
    response = key.send("POST", "/api/ledger/deposits", deposit)
    assert response.status_code == 403
    assert error_code(response) == "scope_insufficient"
    assert key.send("POST", "/api/api-keys", b'{"scopes": ["trade"]}').status_code == 403
    assert key.send("GET", "/api/risk/events").status_code == 200  # reads are in scope
    assert key.send("POST", "/api/orders/cancel-all", b"{}").status_code == 202


def test_only_the_owner_revokes_through_the_api(alice: APIClient) -> None:
    key = issue(alice, "read")
    bob = client_for("bob", Role.TRADER)
    response = bob.post(f"/api/api-keys/{key.key_id}/revoke")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert bob.get("/api/api-keys").json() == []
    assert key.send("GET", "/api/balances").status_code == 200


def test_operators_revoke_and_rotate_in_the_admin(alice: APIClient) -> None:
    leaked, rotated = issue(alice, "trade"), issue(alice, "read")
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", password="x" * 20))
    url = "/admin/accounts/apikey/"
    response = admin.post(url, {"action": "revoke", "_selected_action": [leaked.key_id]},
                          follow=True)
    assert response.status_code == 200
    assert error_code(leaked.send("GET", "/api/balances")) == "key_revoked"

    response = admin.post(url, {"action": "rotate", "_selected_action": [rotated.key_id]})
    assert response.status_code == 200  # the page itself, not a redirect to a message
    assert "no-store" in response["Cache-Control"]
    [new] = ApiKey.objects.filter(user_id=alice.user.pk, name="bot", revoked_at=None)  # type: ignore[attr-defined]
    secret = response.context["rotated"][0]["secret"]
    assert secret in response.content.decode()
    new_key_id = new.key_id
    # Shown on this page only: in no cookie, in no message, not in the session.
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    assert all(secret not in morsel.value for morsel in admin.cookies.values())
    assert secret not in str(dict(admin.session))
    assert not [str(m) for m in admin.get(url).context["messages"]]
    assert error_code(rotated.send("GET", "/api/balances")) == "key_revoked"
    assert (new.user_id, new.name, new.scopes) == (alice.user.pk, "bot", ["read"])  # type: ignore[attr-defined]
    assert SignedClient(new_key_id, secret).send("GET", "/api/balances").status_code == 200
    assert SignedClient(new_key_id, secret).send("GET", "/api/balances").status_code == 200



def test_a_request_replayed_10s_later_with_a_larger_window_is_refused(
        alice: APIClient, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window is signed, and a signature is remembered for the longest window any request
    may claim: 10 s later (the server's clock and the replay memory both aged by 10 s) the
    captured request comes back claiming 60 s and is refused as a replay."""
    key = issue(alice, "trade")
    headers = key.headers("POST", "/api/orders", order_body())
    assert key.send("POST", "/api/orders", order_body(), headers=headers).status_code == 202
    [remembered] = redis_client.keys(f"apikey:seen:{key.key_id}:*")
    assert redis_client.pttl(remembered) > 60_000
    redis_client.pexpire(remembered, redis_client.pttl(remembered) - 10_000)
    later = time.time() + 10

    class Later:
        @staticmethod
        def time() -> float:
            return later

    monkeypatch.setattr("apps.accounts.authentication.time", Later)
    widened = {**headers, "HTTP_X_API_RECV_WINDOW": "60000"}
    replayed = key.send("POST", "/api/orders", order_body(), headers=widened)
    assert replayed.status_code == 401
    assert error_code(replayed) == "replayed"
    assert error_code(key.send("POST", "/api/orders", order_body(),
                               headers=headers)) == "timestamp_out_of_window"


def test_the_receive_window_is_signed(alice: APIClient) -> None:
    key = issue(alice, "read")
    headers = key.headers("GET", "/api/balances", b"", recv_window=5_000)
    widened = {**headers, "HTTP_X_API_RECV_WINDOW": "60000"}
    response = key.send("GET", "/api/balances", headers=widened)
    assert response.status_code == 401
    assert error_code(response) == "signature_invalid"
