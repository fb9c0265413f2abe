"""`Idempotency-Key` on every mutating endpoint, after the IETF draft and Stripe's practice:
the record kept per user and key, how a request is judged against it, and `@idempotent`,
the one decorator that makes a DRF handler safe to retry.

A key is scoped to its user and kept 24 hours in Redis (`idempotency:{user}:{key}`) with a
fingerprint of the request (method, path, body). The first request claims the key (in
flight, with the time it started); its response is stored when it completes. Then: the same
key and body replay the stored response (same status, same body byte for byte,
`Idempotent-Replayed: true`) and do nothing; the same key with another request (another
body, or another endpoint) is 422; a request while the first is in flight is 409. Keys
share one space per user across endpoints, order entry's included.

Order entry (`POST /api/orders`) claims its keys in its own admission script (one Redis
round trip, `apps.orders.api.admission`) and resolves the grey zones of a publish that may
have reached Kafka (`apps.orders.api.idempotency`); it writes and judges the same records
with the functions here.

What `@idempotent` stores: every answer of the handler below 500, errors included (a cancel
refused with 409 `order_not_working` is replayed as such: a new attempt takes a new key). A
5xx (a dependency down: nothing took effect) or an exception releases the key, so the
client may retry with it. If a request dies after acting but before storing its answer
(the process killed, Redis failing at that moment), its key stays in flight; once older
than `IN_FLIGHT_SECONDS` one retry takes the key over (atomically: `take_over`) and runs
the request again. Money cannot move twice then (a movement's `reference` applies once);
a limit, a switch or a revocation is applied again with the same values; creating an API
key would create a second one (README, "Idempotency")."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar, cast

import redis
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from redis.commands.core import Script
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from oms.api.errors import Conflict, FieldErrors, ServiceUnavailable, UnprocessableEntity
from oms.kafka.config import MESSAGE_TIMEOUT_MS
from oms.redis import redis_client

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
# A request in flight for longer has died or could not store its outcome: the publish it
# waits for gives up after MESSAGE_TIMEOUT_MS, and the rest takes milliseconds.
IN_FLIGHT_SECONDS = MESSAGE_TIMEOUT_MS // 1000 + 25

HEADER_PARAMETER = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
    description="Makes the request safe to retry for 24 hours (same key, same body: the "
                "first response is replayed with `Idempotent-Replayed: true`; another body "
                "is 422; while the first is in flight, 409).",
)
CONFLICT_DESCRIPTION = ("Conflict: the same Idempotency-Key is in flight, or the request "
                        "conflicts with the state of what it names.")
MISMATCH_DESCRIPTION = "Idempotency-Key reused with a different request."


class Outcome(Enum):
    PROCEED = "proceed"
    REPLAY = "replay"
    IN_FLIGHT = "in_flight"
    MISMATCH = "mismatch"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: Outcome
    status: int = 0
    body: Any = None
    # When the order under this key was (or is to be) submitted: PROCEED, IN_FLIGHT, RESOLVE.
    submitted_at: datetime | None = None
    # RESOLVE: the record judged, for a takeover that must find it unchanged.
    stored: bytes | str | None = None


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def redis_key(*, user_id: int, key: str) -> str:
    """Where the key's record lives."""
    return f"idempotency:{user_id}:{key}"


def in_flight_record(request_fingerprint: str, *, now: datetime,
                     submitted_at: datetime | None = None) -> str:
    """The record of a first request claimed now (and, for an order, submitted then)."""
    return json.dumps({"state": "in_flight", "fingerprint": request_fingerprint,
                       "started_at": now.timestamp(),
                       "submitted_at": (submitted_at or now).isoformat()})


def claim(*, user_id: int, key: str, request_fingerprint: str, now: datetime) -> Claim:
    """Claim the key for a first request (`PROCEED`), else judge the record found there.
    Raises `redis.RedisError`."""
    record_key = redis_key(user_id=user_id, key=key)
    if redis_client().set(record_key, in_flight_record(request_fingerprint, now=now),
                          nx=True, ex=KEY_SECONDS):
        return Claim(Outcome.PROCEED, submitted_at=now)
    return judge(redis_client().get(record_key), request_fingerprint=request_fingerprint,
                 now=now)


def judge(stored: bytes | str | None, *, request_fingerprint: str, now: datetime) -> Claim:
    """What a request must do about the record another request left under its key (None:
    released since, the other request failed)."""
    if stored is None:
        return Claim(Outcome.IN_FLIGHT)
    data = json.loads(stored)
    if data["fingerprint"] != request_fingerprint:
        return Claim(Outcome.MISMATCH)
    if data["state"] == "done":
        return Claim(Outcome.REPLAY, status=data["status"], body=data["body"])
    submitted_at = datetime.fromisoformat(data["submitted_at"])
    if data["state"] == "unknown" or now.timestamp() - data["started_at"] > IN_FLIGHT_SECONDS:
        return Claim(Outcome.RESOLVE, submitted_at=submitted_at, stored=stored)
    return Claim(Outcome.IN_FLIGHT, submitted_at=submitted_at)


# Replace the record only if it is still the one judged: two retries of a dead request
# must not both take it over.
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


@functools.cache
def _take_over_script() -> Script:
    return redis_client().register_script(_TAKE_OVER)


def take_over(*, user_id: int, key: str, stored: bytes | str, request_fingerprint: str,
              now: datetime) -> bool:
    """Claim a key whose request died in flight, if no other retry took it first."""
    taken = _take_over_script()(
        keys=[redis_key(user_id=user_id, key=key)],
        args=[stored, in_flight_record(request_fingerprint, now=now), KEY_SECONDS],
        client=redis_client())
    return bool(taken)


def done_record(request_fingerprint: str, *, status: int, body: Any) -> str:
    """The record of a request that completed with this response, replayed from then on."""
    return json.dumps({"state": "done", "fingerprint": request_fingerprint, "status": status,
                       "body": body}, default=str)


def complete(*, user_id: int, key: str, request_fingerprint: str, status: int,
             body: Any) -> None:
    """Store the response for replays."""
    redis_client().set(redis_key(user_id=user_id, key=key),
                       done_record(request_fingerprint, status=status, body=body),
                       ex=KEY_SECONDS)


def release(*, user_id: int, key: str) -> None:
    redis_client().delete(redis_key(user_id=user_id, key=key))


def checked_key(request: Request) -> str | None:
    """The request's `Idempotency-Key`, None without one; 400 when malformed."""
    key = request.headers.get(HEADER)
    if key is not None and not KEY_PATTERN.match(key):
        raise FieldErrors([(HEADER, "invalid",
                            "1 to 255 printable ASCII characters without spaces")])
    return key


def replay(claimed: Claim) -> Response:
    return Response(claimed.body, status=claimed.status, headers={REPLAYED_HEADER: "true"})


def mismatch() -> UnprocessableEntity:
    return UnprocessableEntity("this Idempotency-Key was used with a different request",
                               code="idempotency_key_reused")


def in_flight() -> Conflict:
    return Conflict("a request with this Idempotency-Key is in progress",
                    code="idempotency_key_in_flight")


def _request_body(request: Request) -> Any:
    data = request.data
    return dict(data.lists()) if isinstance(data, QueryDict) else data


def _as_rendered(data: Any) -> Any:
    """The response's data as its JSON rendering sees it (DRF's encoder: decimals, dates,
    ids), so a replay renders the very same bytes."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


Handler = TypeVar("Handler", bound=Callable[..., Response])


def idempotent(handler: Handler) -> Handler:
    """Make a DRF handler (`post`, `create`, an `@action`, ...) honour `Idempotency-Key`.
    It runs after authentication, permissions and throttles, so a refused request claims
    nothing. The OpenAPI schema documents the header, 409 and 422 on every handler so
    marked (`oms.api.schema.IdempotentAutoSchema`)."""

    @functools.wraps(handler)
    def guarded(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = checked_key(request)
        if key is None or not request.user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        user_id = int(request.user.pk)
        request_fingerprint = fingerprint(request.method or "", request.path,
                                          _request_body(request))
        now = datetime.now(UTC)
        try:
            claimed = claim(user_id=user_id, key=key, request_fingerprint=request_fingerprint,
                            now=now)
            if claimed.outcome is Outcome.RESOLVE:
                assert claimed.stored is not None  # noqa: S101 - judge sets it
                if take_over(user_id=user_id, key=key, stored=claimed.stored,
                             request_fingerprint=request_fingerprint, now=now):
                    claimed = Claim(Outcome.PROCEED)
                else:
                    claimed = Claim(Outcome.IN_FLIGHT)
        except redis.RedisError as exc:
            raise ServiceUnavailable("redis is unavailable; nothing was done, retry later",
                                     code="redis_unavailable", retry_after=1) from exc
        if claimed.outcome is Outcome.REPLAY:
            return replay(claimed)
        if claimed.outcome is Outcome.MISMATCH:
            raise mismatch()
        if claimed.outcome is Outcome.IN_FLIGHT:
            raise in_flight()
        try:
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - rendered, stored, replayed
                # Rendered as the client will see it, so a refusal is stored and replayed;
                # what DRF cannot render is raised again.
                response = view.handle_exception(exc)
        except BaseException:
            _release_quietly(user_id=user_id, key=key)
            raise
        if response.status_code >= 500:
            _release_quietly(user_id=user_id, key=key)
            return response
        try:
            complete(user_id=user_id, key=key, request_fingerprint=request_fingerprint,
                     status=response.status_code, body=_as_rendered(response.data))
        except redis.RedisError as exc:
            # Done all the same: the key stays in flight, and a retry after
            # IN_FLIGHT_SECONDS runs the request again (see the module's docstring).
            logger.warning("response to an Idempotency-Key of user %s not stored: %s",
                           user_id, exc)
        return response

    guarded.idempotent = True  # type: ignore[attr-defined]
    return cast(Handler, guarded)


def _release_quietly(*, user_id: int, key: str) -> None:
    try:
        release(user_id=user_id, key=key)
    except redis.RedisError as exc:
        logger.warning("Idempotency-Key of user %s left in flight: %s", user_id, exc)


def is_idempotent(handler: object) -> bool:
    """Whether `handler` honours `Idempotency-Key` (`@idempotent`, or order entry's own)."""
    return bool(getattr(handler, "idempotent", False))
