"""From Kafka to the live streams: which channel-layer group each event goes to.

`prices` fans out per symbol and channel (`md.{symbol}.ticker`, `md.{symbol}.trades`,
`md.{symbol}.book`); `executions` goes to the owner's private group (`orders.{user_id}`)
and nowhere else. The `ws-bridge` role reads both topics and calls `fan_out`; the
WebSocket consumers in `ws.py` are the members of these groups.

Every connection is also a member of `md.stream`, where the bridge says once a second
whether its source (the broker) feeds it (`stream_status`). A connection that hears
"not live", or stops hearing the bridge, or loses the channel layer (Redis) itself, tells
its client the stream is stale instead of going quiet (`ws.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from channels.layers import BaseChannelLayer

from apps.marketdata.domain.conflation import BOOK, DELTA, ORDERS, SNAPSHOT, TICKER, TRADES
from apps.marketdata.domain.recent_ids import RecentIds
from apps.marketdata.events import PRICE_TICK
from apps.processing import events as executions
from oms.events import Event

_MARKET = {PRICE_TICK: (TICKER, TICKER), executions.TRADE: (TRADES, TRADES),
           executions.BOOK_SNAPSHOT: (BOOK, SNAPSHOT), executions.BOOK_DELTA: (BOOK, DELTA)}
_EXECUTIONS = frozenset({executions.ORDER_ACCEPTED, executions.ORDER_REJECTED,
                         executions.ORDER_FILL, executions.ORDER_CANCELLED,
                         executions.ORDER_SETTLED, executions.ORDER_AMENDED})


STREAM_GROUP = "md.stream"
STREAM_BEAT_SECONDS = 1.0
# Three missed beats: the bridge, or the channel layer between it and us, is gone.
STREAM_SILENT_SECONDS = 3 * STREAM_BEAT_SECONDS


def stream_status(*, live: bool) -> dict[str, Any]:
    """The bridge's beat on `STREAM_GROUP`: whether its source feeds it right now."""
    return {"type": "md.stream", "live": live}


def market_group(symbol: str, channel: str) -> str:
    return f"md.{symbol}.{channel}"


def orders_group(user_id: int) -> str:
    return f"{ORDERS}.{user_id}"


def routes(event: Event) -> list[tuple[str, dict[str, Any]]]:
    """The (group, channel-layer message) pairs of one event."""
    payload = dict(event.payload)
    if event.type in _MARKET:
        channel, kind = _MARKET[event.type]
        symbol = str(payload["symbol"])
        return [(market_group(symbol, channel), {
            "type": "md.event", "channel": channel, "symbol": symbol, "kind": kind,
            "body": payload})]
    if event.type in _EXECUTIONS:
        return [(orders_group(int(payload["user_id"])), {
            "type": "orders.event", "event_type": event.type, "event_id": event.event_id,
            "occurred_at": event.to_dict()["occurred_at"], "body": payload})]
    return []


class Bridge:
    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self._seen = RecentIds()

    async def fan_out(self, events: Iterable[Event]) -> int:
        """Send each event (once per event id) to its groups; return how many sends."""
        sent = 0
        for event in events:
            if not self._seen.first_time(event.event_id):
                continue
            for group, message in routes(event):
                await self.layer.group_send(group, message)
                sent += 1
        return sent
