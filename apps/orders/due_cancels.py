"""Account-wide cancellations that fall due at a time, kept in Redis so that a failure to
send them is retried rather than lost (D11): the dead-man switch (`apps.orders.dead_man`,
reason `dead_man`) and cancel-on-disconnect (`apps.orders.cancel_on_disconnect`, reason
`disconnect`) each have one sorted set (member: user id, score: when it falls due, in
epoch seconds).

Whoever fires a due account first claims it: one script moves its score `LEASE_SECONDS`
ahead, so of two callers (two Celery workers, or a ws process and the beat) only one fires
it. Firing requests the cancellation of every working order of the account as cancel-all
does (those accepted at entry but not recorded yet included) with the set's reason, so
`order.cancel_requested` and the processor's `order.cancelled` say why; only then is the
account removed (unless it was armed again meanwhile). If Kafka or Redis fails, or the
firing process dies, the account stays in the set and falls due again: at once when
Redis still answers, else when the lease ends; the beat task
`orders.fire_dead_man_switches` (every second) fires it then. A cancel requested twice is
applied once (the processor refuses a cancel of an order no longer working)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import redis

from apps.orders.services import OrderEntryUnavailable, cancel_working_orders
from oms.redis import lua_script, redis_client

# How long a claimed account stays out of the due set's reach while it is fired.
LEASE_SECONDS = 30

# KEYS[1] the set; ARGV: user id, now, the lease's end. Claims the account if it is due.
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
"""
# KEYS[1] the set; ARGV: user id, the lease's end. Removes the account unless armed again.
_RELEASE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class DueCancels:
    """One sorted set of due cancellations and the reason its cancel requests carry."""

    key: str
    reason: str

    def arm(self, *, user_id: int, at: datetime, keep_earlier: bool = False) -> None:
        """Make the account fall due at `at` (a later call replaces the time, unless
        `keep_earlier` and the account is due sooner already). Redis down:
        `OrderEntryUnavailable`, nothing armed."""
        try:
            redis_client().zadd(self.key, {str(user_id): at.timestamp()}, lt=keep_earlier)
        except redis.RedisError as exc:
            raise OrderEntryUnavailable.caused_by("redis", exc) from exc

    def disarm(self, *, user_id: int) -> None:
        """Redis down: `OrderEntryUnavailable`, nothing disarmed."""
        try:
            redis_client().zrem(self.key, str(user_id))
        except redis.RedisError as exc:
            raise OrderEntryUnavailable.caused_by("redis", exc) from exc

    def fire_due(self, *, now: datetime) -> dict[int, int]:
        """Fire every account due by `now`; return, per account fired, how many cancel
        requests were sent. A failure stops at the account it happened to (put back as
        due) and raises `OrderEntryUnavailable`."""
        fired: dict[int, int] = {}
        for member in redis_client().zrangebyscore(self.key, "-inf", now.timestamp()):
            count = self.fire(user_id=int(member), now=now)
            if count is not None:
                fired[int(member)] = count
        return fired

    def fire(self, *, user_id: int, now: datetime) -> int | None:
        """Fire one account if it is due by `now`: how many cancel requests were sent, or
        None when it was not due (renewed, disarmed or claimed by another caller). Kafka
        or Redis down: `OrderEntryUnavailable`, and the account stays due."""
        lease = now.timestamp() + LEASE_SECONDS
        try:
            if not lua_script(_CLAIM)(keys=[self.key], args=[user_id, now.timestamp(), lease]):
                return None
        except redis.RedisError as exc:
            raise OrderEntryUnavailable.caused_by("redis", exc) from exc
        try:
            sent = cancel_working_orders(user_id=user_id, symbol=None, requested_by=user_id,
                                         reason=self.reason)
        except OrderEntryUnavailable:
            self._due_again(user_id=user_id, at=now)
            raise
        # Fired: if the release fails, it fires again when the lease ends, applied once.
        with contextlib.suppress(redis.RedisError):
            lua_script(_RELEASE)(keys=[self.key], args=[user_id, lease])
        return sent

    def _due_again(self, *, user_id: int, at: datetime) -> None:
        """After a failed firing: due again at once, if Redis answers (else at the end of
        the lease, which the claim left in the set)."""
        with contextlib.suppress(redis.RedisError):
            redis_client().zadd(self.key, {str(user_id): at.timestamp()}, lt=True)
