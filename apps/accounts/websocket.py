"""Who may open a WebSocket, decided before any consumer runs (config/asgi.py).

A browser sends `Origin`, and sends the session cookie even when another site's page opens
the socket; so a session counts only with an `Origin` of one of `ALLOWED_HOSTS`, and any
other `Origin` is refused (403). Programs (Python `websockets`, bots, SDKs) send no
`Origin`: they are let in, but their cookies are dropped, so they prove who they are with a
ticket (`/ws/orders?ticket=`, `services.issue_stream_ticket`), never with a session.

`StreamTicketAuth` wraps every WebSocket route (`config/asgi.py`): a `?ticket=` is
redeemed (once) and its user replaces the session's in `scope["user"]`; an unknown, used
or expired ticket makes the user anonymous. The consumer only reads `scope["user"]`: who
asks is decided here, as the DRF authentication classes (`authentication.py`) decide it
for HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from apps.accounts import services

Scope = dict[str, Any]
Asgi = Any


class OriginPolicy:
    """ASGI middleware around the session and auth middleware of the WebSocket routes."""

    def __init__(self, inner: Asgi) -> None:
        self.inner = inner
        self.with_origin = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        headers = scope.get("headers", [])
        if any(name == b"origin" for name, _ in headers):
            return await self.with_origin(scope, receive, send)
        cookieless = {**scope, "headers": [(name, value) for name, value in headers
                                           if name != b"cookie"]}
        return await self.inner(cookieless, receive, send)


@database_sync_to_async
def _user_of_ticket(ticket: str) -> Any:
    user_id = services.redeem_stream_ticket(ticket=ticket)
    user = (None if user_id is None
            else get_user_model().objects.filter(pk=user_id, is_active=True).first())
    return user or AnonymousUser()


class StreamTicketAuth:
    """ASGI middleware of a private stream's route: `?ticket=` decides who asks."""

    def __init__(self, inner: Asgi) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode())
        if query.get("ticket"):
            scope = {**scope, "user": await _user_of_ticket(query["ticket"][0])}
        return await self.inner(scope, receive, send)
