"""`Idempotency-Key` for order entry, after the IETF draft and Stripe's practice.

A key is scoped to its user and kept 24 hours in Redis (`idempotency:{user}:{key}`) with a
fingerprint of the request. The first request claims the key (in flight, with the time it
started and the order's submission time); its response is stored when it completes. Then:
the same key and body replay the stored response; the same key with another body is 422; a
request while the first is in flight is 409. A request that fails before taking effect
releases the key, so the client may retry.

Two grey zones are resolved rather than guessed (issue 14):
- A publish that timed out may have reached Kafka. The key is kept as *unknown* (503 to the
  client) with the order's submission time, and a retry resolves it: `Outcome.RESOLVE`.
- A request that published but could not store its response (Redis failed at that moment)
  leaves the key in flight. Once older than `IN_FLIGHT_SECONDS` (longer than any request
  lives) a retry resolves it the same way instead of answering 409 for a day.
Resolving is the view's job: the order's id derives from the key, so it looks the order
up, and re-sends the very same submission only when the order is nowhere to be found."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from redis.client import Pipeline

from oms.kafka.config import MESSAGE_TIMEOUT_MS
from oms.redis import redis_client

KEY_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
# A request in flight for longer has died or could not store its outcome: the publish it
# waits for gives up after MESSAGE_TIMEOUT_MS, and the rest takes milliseconds.
IN_FLIGHT_SECONDS = MESSAGE_TIMEOUT_MS // 1000 + 25


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


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _redis_key(user_id: int, key: str) -> str:
    return f"idempotency:{user_id}:{key}"


def _in_flight(request_fingerprint: str, *, submitted_at: datetime, now: datetime) -> str:
    return json.dumps({"state": "in_flight", "fingerprint": request_fingerprint,
                       "started_at": now.timestamp(), "submitted_at": submitted_at.isoformat()})


def claim(*, user_id: int, key: str, request_fingerprint: str, now: datetime) -> Claim:
    redis_key = _redis_key(user_id, key)
    if redis_client().set(redis_key, in_flight_record(request_fingerprint, now=now),
                          nx=True, ex=KEY_SECONDS):
        return Claim(Outcome.PROCEED, submitted_at=now)
    return judge(redis_client().get(redis_key), request_fingerprint=request_fingerprint,
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
        return Claim(Outcome.RESOLVE, submitted_at=submitted_at)
    return Claim(Outcome.IN_FLIGHT, submitted_at=submitted_at)


def redis_key(*, user_id: int, key: str) -> str:
    """Where the key's record lives (for `apps.orders.api.admission`, which claims it)."""
    return _redis_key(user_id, key)


def in_flight_record(request_fingerprint: str, *, now: datetime) -> str:
    """The record of a first request, claimed now and submitting its order now."""
    return _in_flight(request_fingerprint, submitted_at=now, now=now)


def resume(*, user_id: int, key: str, request_fingerprint: str, submitted_at: datetime,
           now: datetime) -> None:
    """Take a key being resolved back in flight, so a concurrent retry waits (409)."""
    redis_client().set(_redis_key(user_id, key),
                       _in_flight(request_fingerprint, submitted_at=submitted_at, now=now),
                       ex=KEY_SECONDS)


def mark_unknown(*, user_id: int, key: str, request_fingerprint: str,
                 submitted_at: datetime) -> None:
    """The order may or may not have been published: a retry must find out (RESOLVE)."""
    record = {"state": "unknown", "fingerprint": request_fingerprint,
              "submitted_at": submitted_at.isoformat()}
    redis_client().set(_redis_key(user_id, key), json.dumps(record), ex=KEY_SECONDS)


def complete(*, user_id: int, key: str, request_fingerprint: str, status: int, body: Any,
             pipeline: Pipeline | None = None) -> None:
    """Store the response for replays; with `pipeline`, queued on it instead of sent."""
    record = {"state": "done", "fingerprint": request_fingerprint, "status": status,
              "body": body}
    (pipeline if pipeline is not None else redis_client()).set(
        _redis_key(user_id, key), json.dumps(record, default=str), ex=KEY_SECONDS)


def release(*, user_id: int, key: str) -> None:
    redis_client().delete(_redis_key(user_id, key))
