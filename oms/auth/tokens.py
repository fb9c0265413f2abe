"""API token authentication (`Authorization: Token <key>`) that does not query the database
on every request: a token resolved once is remembered in the process for a short time, so
the order entry hot path stays off the database (D6). A deleted token stops working within
`CACHE_SECONDS`."""

from __future__ import annotations

import threading
import time

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

CACHE_SECONDS = 30.0
_MAX_ENTRIES = 10_000


class CachedTokenAuthentication(TokenAuthentication):
    _cache: dict[str, tuple[float, AbstractBaseUser, Token]] = {}
    _lock = threading.Lock()

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, Token]:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
        user, token = super().authenticate_credentials(key)
        with self._lock:
            if len(self._cache) >= _MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = (now + CACHE_SECONDS, user, token)
        return user, token

    @classmethod
    def forget_all(cls) -> None:
        with cls._lock:
            cls._cache.clear()
