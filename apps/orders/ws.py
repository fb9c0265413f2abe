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
`since`.

`?cancel_on_disconnect=true` opts the connection in to cancel-on-disconnect
(`apps.orders.cancel_on_disconnect`), confirmed in its `subscribed` message: when the
socket closes, whoever closed it and why, every working order of the account is
cancelled (reason `disconnect`), unless the close comes from this process draining for a
restart (`oms.draining`), which is not the client going away. If Redis cannot record the
disconnect, this process tries again until it can."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from apps.accounts.events import streams_group
from apps.orders.cancel_on_disconnect import cancel_on_disconnect, opted_in
from apps.orders.services import OrderEntryUnavailable
from apps.orders.streams import ORDERS, orders_stream
from oms.draining import is_draining
from oms.streams.connection import (
    CLOSE_INVALID_PARAMETER,
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

# Cancels of closed connections still being sent (kept here: their connection is gone).
_DISCONNECT_CANCELS: set[asyncio.Task[None]] = set()
# Pauses between attempts to record a disconnect while Redis is down.
RETRY_SECONDS, MAX_RETRY_SECONDS = 0.5, 4.0


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
        # Blank values kept: `cancel_on_disconnect=` is malformed, not absent.
        query = parse_qs(self.scope.get("query_string", b"").decode(), keep_blank_values=True)
        user = self.scope.get("user") or AnonymousUser()
        since_text = query.get("since", [""])[0]
        since = since_of(since_text) if since_text else None
        cancels = opted_in(query["cancel_on_disconnect"][0]
                           if "cancel_on_disconnect" in query else None)
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)  # before accepting: a 403
            return
        invalid = ("since" if since_text and since is None else
                   "cancel_on_disconnect" if cancels is None else None)
        if invalid:
            # Accepted first, so the client learns what was wrong (a close before accepting
            # is only a 403 to it); the error message names it, since daphne does not pass
            # a close reason on.
            await self.accept()
            await self.send_json({"type": "error", "code": f"invalid_{invalid}"})
            await self.close(code=CLOSE_INVALID_PARAMETER, reason=f"invalid_{invalid}")
            return
        self.group = streams_group(user.id)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except LAYER_ERRORS as exc:
            logger.warning("cannot join %s: %s", self.group, exc)
        await self.accept()
        # Armed only once the stream is open: a connection refused above cancels nothing.
        self.cancels_on_disconnect = cancels
        await self.start_streaming()
        subscription = Subscription(orders_stream(user.id), ORDERS, PRIVATE)
        latest = await self.subscribe(subscription, since)
        await self.send_json({"type": "subscribed", "channel": ORDERS, "seq": latest,
                              "cancel_on_disconnect": cancels})
        await self.catch_up(subscription, until=latest)

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if getattr(self, "cancels_on_disconnect", False) and not is_draining():
            task = asyncio.create_task(_cancel_on_disconnect(self.scope["user"].id))
            _DISCONNECT_CANCELS.add(task)
            task.add_done_callback(_DISCONNECT_CANCELS.discard)
        if hasattr(self, "group"):
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except LAYER_ERRORS as exc:
                logger.warning("cannot leave %s: %s", self.group, exc)

    async def accounts_streams_ended(self, message: dict[str, Any]) -> None:
        """The user logged out or revoked a credential."""
        await self.close(code=CLOSE_UNAUTHENTICATED)



async def _cancel_on_disconnect(user_id: int) -> None:
    """Request the cancellation of the account's working orders; while Redis cannot even
    record the disconnect, try again (0.5 s doubling to 4 s) for as long as the process
    lives: nothing else knows the client went away."""
    pause = RETRY_SECONDS
    while True:
        try:
            sent = await database_sync_to_async(cancel_on_disconnect)(
                user_id=user_id, now=datetime.now(UTC))
        except OrderEntryUnavailable as exc:
            logger.warning("cannot record the disconnect of account %s yet: %s", user_id, exc)
            await asyncio.sleep(pause)
            pause = min(2 * pause, MAX_RETRY_SECONDS)
            continue
        if sent is None:
            logger.warning("cancel-on-disconnect of account %s not fired here: left due "
                           "for the beat task, or fired by another caller", user_id)
        return
