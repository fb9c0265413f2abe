"""`Idempotency-Key` for order entry, after the IETF draft and Stripe's practice.

A key is scoped to its user and kept 24 hours in Redis (`idempotency:{user}:{key}`) with a
fingerprint of the request. The first request claims the key (in flight); its response is
stored when it completes. Then: the same key and body replay the stored response; the
same key with another body is 422; a request while the first is in flight is 409. A
request that fails before taking effect releases the key, so the client may retry."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from oms.redis import redis_client

KEY_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255


class Outcome(Enum):
    PROCEED = "proceed"
    REPLAY = "replay"
    IN_FLIGHT = "in_flight"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: Outcome
    status: int = 0
    body: Any = None


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _redis_key(user_id: int, key: str) -> str:
    return f"idempotency:{user_id}:{key}"


def claim(*, user_id: int, key: str, request_fingerprint: str) -> Claim:
    redis_key = _redis_key(user_id, key)
    record = json.dumps({"state": "in_flight", "fingerprint": request_fingerprint})
    if redis_client().set(redis_key, record, nx=True, ex=KEY_SECONDS):
        return Claim(Outcome.PROCEED)
    stored = redis_client().get(redis_key)
    if stored is None:  # released between our SET and GET: the other request failed
        return Claim(Outcome.IN_FLIGHT)
    data = json.loads(stored)
    if data["fingerprint"] != request_fingerprint:
        return Claim(Outcome.MISMATCH)
    if data["state"] == "in_flight":
        return Claim(Outcome.IN_FLIGHT)
    return Claim(Outcome.REPLAY, status=data["status"], body=data["body"])


def complete(*, user_id: int, key: str, request_fingerprint: str, status: int, body: Any) -> None:
    record = {"state": "done", "fingerprint": request_fingerprint, "status": status,
              "body": body}
    redis_client().set(_redis_key(user_id, key), json.dumps(record, default=str),
                       ex=KEY_SECONDS)


def release(*, user_id: int, key: str) -> None:
    redis_client().delete(_redis_key(user_id, key))
