"""The dead-man switch: a client arms a countdown (`POST /api/orders/dead-man`) and renews
it while it lives; if the countdown runs out, every working order of the account gets a
cancel request with reason `dead_man` (so `order.cancel_requested` and the processor's
`order.cancelled` say so). A countdown of 0 disarms it.

Deadlines live in the Redis sorted set `deadman:due` (member: user id, score: the deadline
in epoch seconds), fired by the Celery beat task `orders.fire_dead_man_switches` (every
second) as `apps.orders.due_cancels` describes: once, by one worker, retried while Kafka or
Redis fails. A renewal before the deadline replaces the score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apps.orders.due_cancels import DueCancels

MAX_COUNTDOWN_SECONDS = 86_400
DEAD_MEN = DueCancels(key="deadman:due", reason="dead_man")
DUE_KEY = DEAD_MEN.key


@dataclass(frozen=True, slots=True)
class DeadMan:
    countdown: int
    fires_at: datetime | None


def arm_dead_man(*, user_id: int, countdown: int, now: datetime) -> DeadMan:
    """Arm or renew the account's switch to fire `countdown` seconds from `now`; 0
    disarms it. Redis down: `OrderEntryUnavailable` (nothing armed)."""
    if not 0 <= countdown <= MAX_COUNTDOWN_SECONDS:
        raise ValueError(f"countdown must lie in [0, {MAX_COUNTDOWN_SECONDS}] seconds")
    if countdown == 0:
        DEAD_MEN.disarm(user_id=user_id)
        return DeadMan(countdown=0, fires_at=None)
    fires_at = now + timedelta(seconds=countdown)
    DEAD_MEN.arm(user_id=user_id, at=fires_at)
    return DeadMan(countdown=countdown, fires_at=fires_at)


def fire_due_dead_men(*, now: datetime) -> dict[int, int]:
    """Cancel every working order of each account whose switch ran out by `now` (reason
    `dead_man`); returns, per account fired, how many cancel requests were sent. A switch
    fires once: a new countdown arms it again."""
    return DEAD_MEN.fire_due(now=now)
