"""Rate limits counted in Redis, shared by every web replica: a fixed window per scope and
identity, one atomic round trip (INCR and EXPIRE in a pipeline). Rates come from
`settings.OMS_RATE_LIMITS`, e.g. `{"orders-user": "50/s", "orders-ip": "200/s"}`.
Throttled requests get 429 with `Retry-After` (DRF adds the header from `wait()`).

The client's address is `oms.api.client_address` (trusted proxies only), never DRF's own
reading of `X-Forwarded-For`. Django's own login forms (the browsable API's, the admin's)
are not DRF views: `throttled_login` counts their attempts the same way."""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from oms.api.client_address import client_address
from oms.redis import redis_client

if TYPE_CHECKING:  # DRF imports the default throttles while `rest_framework.views` loads
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """`"50/s"` -> (50 requests, 1 second)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0]]


def seconds_over_limit(scope: str, identity: str) -> float | None:
    """Count one request of `identity` in `scope`: None while within the rate, else the
    seconds until its window ends."""
    return seconds_over_limits([(scope, identity)])


@dataclass(frozen=True, slots=True)
class RateWindow:
    """The current window of one (scope, identity): its counter's key, the requests it
    allows, how long the counter lives, and the seconds until the window ends."""

    key: str
    limit: int
    ttl_seconds: int
    ends_in: float


def rate_windows(counted: list[tuple[str, str]]) -> list[RateWindow]:
    """The current windows of these (scope, identity) pairs; a scope without a rate is
    left out. For callers that count them in a round trip of their own (order entry's
    admission script)."""
    windows = []
    now = time.time()
    for scope, identity in counted:
        rate = settings.OMS_RATE_LIMITS.get(scope)
        if rate:
            limit, period = parse_rate(rate)
            window = int(now // period)
            windows.append(RateWindow(f"ratelimit:{scope}:{identity}:{window}", limit,
                                      period + 1, (window + 1) * period - now))
    return windows


def seconds_over_limits(counted: list[tuple[str, str]]) -> float | None:
    """Count one request in each (scope, identity), all in one round trip: None while
    every one is within its rate, else the longest wait until an exceeded window ends."""
    windows = rate_windows(counted)
    if not windows:
        return None
    try:
        pipeline = redis_client().pipeline(transaction=False)
        for window in windows:
            pipeline.incr(window.key)
            pipeline.expire(window.key, window.ttl_seconds)
        counts = pipeline.execute()[::2]
    except redis.RedisError as exc:
        # Counting is best effort: a Redis outage must not take reads down with it.
        logger.warning("rate limits %s not counted: %s", [scope for scope, _ in counted], exc)
        return None
    return max((window.ends_in for window, count in zip(windows, counts, strict=True)
                if int(count) > window.limit), default=None)


def retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


class RedisRateThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self._wait = 0.0

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def get_ident(self, request: Request) -> str:
        return client_address(request.META)

    def allow_request(self, request: Request, view: APIView) -> bool:
        identity = self.identity(request)
        wait = None if identity is None else seconds_over_limit(self.scope, identity)
        if wait is None:
            return True
        self._wait = wait
        return False

    def wait(self) -> float:
        return float(retry_after(self._wait))


class UserRateThrottle(RedisRateThrottle):
    def identity(self, request: Request) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


class ClientIpRateThrottle(RedisRateThrottle):
    def identity(self, request: Request) -> str | None:
        return self.get_ident(request)


class UserAndClientIpThrottle(RedisRateThrottle):
    """Two limits counted in one round trip: `scope` per user (when authenticated) and
    `ip_scope` per client address. For the hot paths (order entry), where a second
    pipeline would be a second Redis round trip on every request."""

    ip_scope = ""

    def counted(self, request: Request) -> list[tuple[str, str]]:
        """The (scope, identity) pairs this request counts against."""
        user = request.user
        counted = [(self.ip_scope, self.get_ident(request))]
        if user and user.is_authenticated:
            counted.insert(0, (self.scope, str(user.pk)))
        return counted

    def allow_request(self, request: Request, view: APIView) -> bool:
        wait = seconds_over_limits(self.counted(request))
        if wait is None:
            return True
        self._wait = wait
        return False


class ApiUserThrottle(UserRateThrottle):
    """Every API request of a user (`api-user`): the default of every DRF view; views with
    limits of their own (order entry) list them instead."""

    scope = "api-user"


LOGIN_SCOPE = "auth-ip"


def throttled_login(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A Django login view whose POSTs count against `auth-ip` per client address, like the
    token endpoint's: 429 with `Retry-After` and the structured error once over the rate."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method == "POST":
            wait = seconds_over_limit(LOGIN_SCOPE, client_address(request.META))
            if wait is not None:
                response = JsonResponse({"errors": [{
                    "field": None, "code": "throttled",
                    "message": "too many login attempts; retry later"}]}, status=429)
                response["Retry-After"] = str(retry_after(wait))
                return response
        return view(request, *args, **kwargs)

    return guarded
