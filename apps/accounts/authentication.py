"""How HTTP requests prove who they are (the DRF authentication classes of
`REST_FRAMEWORK`, all here; WebSocket connections are decided in `websocket.py`):

- `CachedTokenAuthentication`: API tokens (`Authorization: Token <key>`) without a
  database query on every request: a token resolved once is remembered in the process for
  `TOKEN_CACHE_SECONDS`, so the order entry hot path stays off the database (D6). A
  deleted token stops working within that time.
- `ApiKeyAuthentication`: an API key and an HMAC signature of the request (headers
  `X-API-KEY`, `X-API-TIMESTAMP`, `X-API-RECV-WINDOW`, `X-API-SIGNATURE`; the rules are in
  `domain/signing.py`). The receive window is part of the signed message. Each signature is
  accepted once: it is remembered in Redis for as long as a request could be fresh under
  the largest window, so a captured request cannot be replayed, even with its window
  header changed (its signature then no longer matches, and being known, is `replayed`).
  Without Redis nothing can be checked for replay, so the request is refused (503), not
  trusted.
- `BearerAuthentication`: short-lived JWTs (simplejwt), with one plain error code.

Every refusal is 401 with a stable code: `headers_invalid`, `timestamp_out_of_window`,
`key_unknown`, `signature_invalid`, `key_revoked`, `user_inactive`, `replayed`."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token as ApiToken
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from apps.accounts import services
from apps.accounts.domain import signing
from apps.accounts.models import ApiKey
from oms.api.permissions import Scope
from oms.redis import redis_client

logger = logging.getLogger(__name__)

HEADERS = ("X-API-KEY", "X-API-TIMESTAMP", "X-API-SIGNATURE")
TOKEN_CACHE_SECONDS = 30.0
_TOKEN_CACHE_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class ApiKeyCredential:
    """`request.auth` of a signed request: the permissions read its scopes."""

    key_id: str
    scopes: frozenset[Scope]


def seen_key(key_id: str, signature: str) -> str:
    return f"apikey:seen:{key_id}:{signature}"


def refuse(code: str, message: str) -> AuthenticationFailed:
    return AuthenticationFailed(message, code=code)


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiKeyCredential] | None:
        key_id = request.headers.get("X-API-KEY")
        if key_id is None:
            return None
        if any(not request.headers.get(name) for name in HEADERS):
            raise refuse("headers_invalid", f"signed requests need {', '.join(HEADERS)}")
        raw_timestamp = request.headers["X-API-TIMESTAMP"]
        timestamp = signing.parse_timestamp(raw_timestamp)
        raw_window = request.headers.get("X-API-RECV-WINDOW")
        window = signing.parse_recv_window(raw_window)
        if timestamp is None or window is None:
            raise refuse("headers_invalid", "X-API-TIMESTAMP must be milliseconds since the "
                         f"epoch; X-API-RECV-WINDOW 1 to {signing.MAX_RECV_WINDOW_MS} ms")
        if not signing.is_fresh(timestamp_ms=timestamp, now_ms=int(time.time() * 1000),
                                recv_window_ms=window):
            raise refuse("timestamp_out_of_window",
                         "X-API-TIMESTAMP is outside the receive window; check your clock")
        key = ApiKey.objects.select_related("user").filter(key_id=key_id).first()
        if key is None:
            raise refuse("key_unknown", "no such API key")
        signature = request.headers["X-API-SIGNATURE"].strip().lower()
        if not self.signature_matches(request, key, raw_timestamp, raw_window or "", signature):
            if signing.is_signature_shaped(signature) and self.seen(key_id, signature):
                raise refuse("replayed", "this signed request was already received")
            raise refuse("signature_invalid", "the signature does not match the request")
        if key.revoked_at is not None:
            raise refuse("key_revoked", "this API key is revoked")
        if not key.user.is_active:
            raise refuse("user_inactive", "the key's owner is inactive")
        self.claim_once(key_id, signature)
        services.record_use(key, timezone.now())
        return key.user, ApiKeyCredential(key_id=key_id,
                                          scopes=frozenset(Scope(s) for s in key.scopes))

    @staticmethod
    def signature_matches(request: Request, key: ApiKey, timestamp: str, recv_window: str,
                          signature: str) -> bool:
        secret = services.secret_of(key)
        if signing.secret_hash(secret) != key.secret_hash:
            logger.error("API key %s: its secret no longer derives from the pepper; was "
                         "API_KEY_PEPPER or SECRET_KEY changed?", key.key_id)
            return False
        message = signing.signed_message(timestamp=timestamp, recv_window=recv_window,
                                         method=request.method or "", path=request.path,
                                         query=request.META.get("QUERY_STRING", ""),
                                         body=request.body)
        return signing.signature_matches(secret, message, signature)

    @staticmethod
    def seen(key_id: str, signature: str) -> bool:
        """Whether a signature that does not match this request was accepted before: a
        captured request sent again with altered headers. Asked only on the failure path."""
        try:
            return bool(redis_client().exists(seen_key(key_id, signature)))
        except redis.RedisError:
            return False

    @staticmethod
    def claim_once(key_id: str, signature: str) -> None:
        try:
            first = redis_client().set(seen_key(key_id, signature), 1, nx=True,
                                       px=signing.REPLAY_MEMORY_MS)
        except redis.RedisError as exc:
            # Imported here: DRF loads this module while `rest_framework.views` (which
            # `oms.api.errors` needs) is still initialising.
            from oms.api.errors import ServiceUnavailable

            raise ServiceUnavailable("cannot check the request for replay; retry later",
                                     code="redis_unavailable", retry_after=1) from exc
        if not first:
            raise refuse("replayed", "this signed request was already received")


class BearerAuthentication(JWTAuthentication):
    """simplejwt's, with a plain message: its own error nests a list of token classes."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            return super().get_validated_token(raw_token)
        except InvalidToken:
            raise refuse("token_not_valid", "the bearer token is invalid or expired") from None


class CachedTokenAuthentication(TokenAuthentication):
    _cache: dict[str, tuple[float, AbstractBaseUser, ApiToken]] = {}
    _lock = threading.Lock()

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, ApiToken]:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
        user, token = super().authenticate_credentials(key)
        with self._lock:
            if len(self._cache) >= _TOKEN_CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = (now + TOKEN_CACHE_SECONDS, user, token)
        return user, token

    @classmethod
    def forget_all(cls) -> None:
        with cls._lock:
            cls._cache.clear()
