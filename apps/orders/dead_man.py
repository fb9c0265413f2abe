"""The dead-man switch: a client arms a countdown (`POST /api/orders/dead-man`) and renews
it while it lives; if the countdown runs out, every working order of the account gets a
cancel request with reason `dead_man` (so `order.cancel_requested` and the processor's
`order.cancelled` say so). A countdown of 0 disarms it.

Deadlines live in Redis: the sorted set `deadman:due` (member: user id, score: the deadline
in epoch seconds). The Celery beat task `orders.fire_dead_man_switches` (every second)
takes each due member with `ZREM` (only the caller that removed it fires it, so two
workers never both fire one switch) and cancels the account's orders as cancel-all does
(those accepted at entry but not recorded yet included). A renewal before the deadline
replaces the score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from apps.orders.services import OrderEntryUnavailable, cancel_working_orders
from oms.redis import redis_client

DUE_KEY = "deadman:due"
MAX_COUNTDOWN_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class DeadMan:
    countdown: int
    fires_at: datetime | None


def arm_dead_man(*, user_id: int, countdown: int, now: datetime) -> DeadMan:
    """Arm or renew the account's switch to fire `countdown` seconds from `now`; 0
    disarms it. Redis down: `OrderEntryUnavailable` (nothing armed)."""
    if not 0 <= countdown <= MAX_COUNTDOWN_SECONDS:
        raise ValueError(f"countdown must lie in [0, {MAX_COUNTDOWN_SECONDS}] seconds")
    try:
        if countdown == 0:
            redis_client().zrem(DUE_KEY, str(user_id))
            return DeadMan(countdown=0, fires_at=None)
        fires_at = now + timedelta(seconds=countdown)
        redis_client().zadd(DUE_KEY, {str(user_id): fires_at.timestamp()})
    except redis.RedisError as exc:
        raise OrderEntryUnavailable.caused_by("redis", exc) from exc
    return DeadMan(countdown=countdown, fires_at=fires_at)


def fire_due_dead_men(*, now: datetime) -> dict[int, int]:
    """Cancel every working order of each account whose switch ran out by `now` (reason
    `dead_man`); returns, per account fired, how many cancel requests were sent. A switch
    fires once: a new countdown arms it again."""
    client = redis_client()
    fired: dict[int, int] = {}
    for member in client.zrangebyscore(DUE_KEY, "-inf", now.timestamp()):
        if not client.zrem(DUE_KEY, member):
            continue  # renewed or taken by another worker meanwhile
        user_id = int(member)
        try:
            fired[user_id] = cancel_working_orders(user_id=user_id, symbol=None,
                                                   requested_by=user_id, reason="dead_man")
        except OrderEntryUnavailable:
            # Broker or Redis down: put it back as due, the next tick tries again.
            client.zadd(DUE_KEY, {member: now.timestamp()})
            raise
    return fired
