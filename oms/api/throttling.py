"""Rate limits counted in Redis, shared by every web replica: a fixed window per scope and
identity, one atomic round trip (INCR and EXPIRE in a pipeline). Rates come from
`settings.OMS_RATE_LIMITS`, e.g. `{"orders-user": "50/s", "orders-ip": "200/s"}`.
Throttled requests get 429 with `Retry-After` (DRF adds the header from `wait()`)."""

from __future__ import annotations

import logging
import math
import time

import redis
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from oms.redis import redis_client

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """`"50/s"` -> (50 requests, 1 second)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0]]


class RedisRateThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self._wait = 0.0

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: APIView) -> bool:
        rate = settings.OMS_RATE_LIMITS.get(self.scope)
        identity = self.identity(request)
        if not rate or identity is None:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"ratelimit:{self.scope}:{identity}:{window}"
        try:
            pipeline = redis_client().pipeline(transaction=False)
            pipeline.incr(key)
            pipeline.expire(key, period + 1)
            count = int(pipeline.execute()[0])
        except redis.RedisError as exc:
            # Counting is best effort: a Redis outage must not take reads down with it.
            logger.warning("rate limit %s not counted: %s", self.scope, exc)
            return True
        if count <= limit:
            return True
        self._wait = (window + 1) * period - now
        return False

    def wait(self) -> float:
        return float(max(1, math.ceil(self._wait)))


class UserRateThrottle(RedisRateThrottle):
    def identity(self, request: Request) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


class ClientIpRateThrottle(RedisRateThrottle):
    def identity(self, request: Request) -> str | None:
        return self.get_ident(request)
