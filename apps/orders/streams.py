"""The private stream of the orders context, served by the kernel's hub
(`oms.streams.hub`): `orders.{user_id}`, each of a user's own `executions` events (the
order's fate as the processor decided it)."""

from __future__ import annotations

import json
from typing import Any

from apps.processing import events as executions
from oms.events import Event
from oms.kafka.topics import EXECUTIONS
from oms.streams.hub import Route, StreamMessage, StreamSource
from oms.streams.queue import PRIVATE
from oms.streams.window import Offer

ORDERS = "orders"  # the channel of the stream
PREFIX = f"{ORDERS}."
_EXECUTIONS = frozenset({executions.ORDER_ACCEPTED, executions.ORDER_REJECTED,
                         executions.ORDER_FILL, executions.ORDER_CANCELLED,
                         executions.ORDER_SETTLED, executions.ORDER_AMENDED})


def orders_stream(user_id: int) -> str:
    return f"{PREFIX}{user_id}"


def route(event: Event) -> Route | None:
    """The user's stream of an execution event and its message; None for other events."""
    if event.type not in _EXECUTIONS:
        return None
    payload = dict(event.payload)
    body: dict[str, Any] = {"type": "execution", "event": event.type,
                            "event_id": event.event_id,
                            "occurred_at": event.to_dict()["occurred_at"], "payload": payload}
    return Route(Offer(orders_stream(int(payload["user_id"])), event.event_id,
                       json.dumps(body, separators=(",", ":"))),
                 ORDERS, PRIVATE, ORDERS, payload)


def decode(stream: str, seq: int, text: str) -> StreamMessage:
    """A private message read back from the window."""
    return StreamMessage(stream, ORDERS, PRIVATE, ORDERS, seq, text,
                         json.loads(text)["payload"])


SOURCE = StreamSource(name="orders", prefix=PREFIX, topics=(EXECUTIONS,), route=route,
                      decode=decode)
