"""Cancel-on-disconnect: a client that opens `/ws/orders?cancel_on_disconnect=true` has
every working order of its account cancelled (reason `disconnect`) when that socket
closes, for any reason but its ws process draining for a restart (`apps.orders.ws`
decides when; this module does it).

The account is first made due at once in the Redis sorted set `cod:due`, then fired
(`apps.orders.due_cancels`): if Kafka or Redis fails while firing, the account stays due
and the beat task `orders.fire_dead_man_switches` fires it when they are back, so a
disconnect is never forgotten because a dependency was down at that moment (D11)."""

from __future__ import annotations

from datetime import datetime

from apps.orders.due_cancels import DueCancels
from apps.orders.services import OrderEntryUnavailable

DISCONNECTS = DueCancels(key="cod:due", reason="disconnect")

# The values of `?cancel_on_disconnect=` a client may give.
OPT_IN = {"true": True, "false": False}


def opted_in(value: str | None) -> bool | None:
    """The opt-in a client asked for (absent: False), or None when `value` is malformed."""
    return False if value is None else OPT_IN.get(value)


def cancel_on_disconnect(*, user_id: int, now: datetime) -> int | None:
    """The account's opted-in stream closed at `now`: request the cancellation of its
    working orders. Returns how many were requested, or None when the account was left
    due for the beat task (Kafka or Redis failed, or another caller fired it). Redis down
    before anything was recorded: `OrderEntryUnavailable` (the caller must try again)."""
    DISCONNECTS.arm(user_id=user_id, at=now, keep_earlier=True)
    try:
        return DISCONNECTS.fire(user_id=user_id, now=now)
    except OrderEntryUnavailable:
        return None


def fire_due_disconnects(*, now: datetime) -> dict[int, int]:
    """Fire the disconnects left due (see the module); per account, the cancels sent."""
    return DISCONNECTS.fire_due(now=now)
