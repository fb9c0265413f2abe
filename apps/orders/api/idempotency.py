"""`Idempotency-Key` for order entry: the kernel's records and judgement
(`oms.api.idempotency`, shared by every mutating endpoint), and the grey zones only order
entry has.

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

import json
from datetime import datetime

from oms.api.idempotency import (
    IN_FLIGHT_SECONDS,
    KEY_SECONDS,
    MAX_KEY_LENGTH,
    Claim,
    Outcome,
    claim,
    complete,
    done_record,
    fingerprint,
    in_flight_record,
    judge,
    redis_key,
    release,
)
from oms.redis import redis_client

__all__ = ["IN_FLIGHT_SECONDS", "KEY_SECONDS", "MAX_KEY_LENGTH", "Claim", "Outcome", "claim",
           "complete", "done_record", "fingerprint", "in_flight_record", "judge", "mark_unknown",
           "redis_key", "release", "resume"]


def resume(*, user_id: int, key: str, request_fingerprint: str, submitted_at: datetime,
           now: datetime) -> None:
    """Take a key being resolved back in flight, so a concurrent retry waits (409)."""
    redis_client().set(redis_key(user_id=user_id, key=key),
                       in_flight_record(request_fingerprint, now=now,
                                        submitted_at=submitted_at),
                       ex=KEY_SECONDS)


def mark_unknown(*, user_id: int, key: str, request_fingerprint: str,
                 submitted_at: datetime) -> None:
    """The order may or may not have been published: a retry must find out (RESOLVE)."""
    record = {"state": "unknown", "fingerprint": request_fingerprint,
              "submitted_at": submitted_at.isoformat()}
    redis_client().set(redis_key(user_id=user_id, key=key), json.dumps(record),
                       ex=KEY_SECONDS)
