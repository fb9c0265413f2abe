"""`/ws/orders`: the signed-in user's own `executions` events (`?since=` to resume), a
`oms.streams.connection.StreamConsumer` on the private stream of `streams.py`. The
protocol is in the README ("Live streams") and `docs/asyncapi.yaml`.

Who the user is was settled before the consumer runs, by the accounts context
(`apps.accounts.websocket`): a single-use ticket (`?ticket=`, from `POST
/api/ws-ticket`) or a browser's session with an allowed `Origin`, never a long-lived
token in the URL. The stream closes (4401) when its user logs out or revokes a
credential: that message comes through the Redis channel layer
(`apps.accounts.events.STREAMS_ENDED`), the one use of the layer left, since the process
that logs out is not the one holding the socket. Nothing of this stream may be lost: a
reader too slow to keep up is closed (4008, reason `slow_reader`) and resumes with
`since`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from django.contrib.auth.models import AnonymousUser

from apps.accounts.events import streams_group
from apps.orders.streams import ORDERS, orders_stream
from oms.streams.connection import (
    CLOSE_INVALID_SINCE,
    CLOSE_LAGGING,
    CLOSE_UNAUTHENTICATED,
    LAYER_ERRORS,
    WATCH_SECONDS,
    StreamConsumer,
    Subscription,
    since_of,
)
from oms.streams.queue import PRIVATE

__all__ = ["CLOSE_LAGGING", "OrdersConsumer"]

logger = logging.getLogger(__name__)


class OrdersConsumer(StreamConsumer):
    """The private stream. It alone joins the channel layer: to hear `STREAMS_ENDED`."""

    channel_layer_alias = "default"

    @property
    def channel_receive(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        """What Channels awaits for channel-layer messages. Channels assigns the layer's
        raw `receive` here and lets its first error end the connection; we hand it one
        that survives a Redis outage instead, so the client keeps its stream."""
        return self._receive_surviving_outages

    @channel_receive.setter
    def channel_receive(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._layer_receive = receive

    async def _receive_surviving_outages(self) -> dict[str, Any]:
        while True:
            try:
                return await self._layer_receive()
            except LAYER_ERRORS as exc:
                logger.warning("channel layer lost: %s", exc)
                await asyncio.sleep(WATCH_SECONDS)

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        user = self.scope.get("user") or AnonymousUser()
        since = since_of(query["since"][0]) if query.get("since") else None
        if not user.is_authenticated or (query.get("since") and since is None):
            await self.close(code=CLOSE_UNAUTHENTICATED if not user.is_authenticated
                             else CLOSE_INVALID_SINCE)
            return
        self.group = streams_group(user.id)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except LAYER_ERRORS as exc:
            logger.warning("cannot join %s: %s", self.group, exc)
        await self.accept()
        await self.start_streaming()
        subscription = Subscription(orders_stream(user.id), ORDERS, PRIVATE)
        latest = await self.subscribe(subscription, since)
        await self.send_json({"type": "subscribed", "channel": ORDERS, "seq": latest})
        await self.catch_up(subscription, until=latest)

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if hasattr(self, "group"):
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except LAYER_ERRORS as exc:
                logger.warning("cannot leave %s: %s", self.group, exc)

    async def accounts_streams_ended(self, message: dict[str, Any]) -> None:
        """The user logged out or revoked a credential."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

