"""Who may open a WebSocket, decided before any consumer runs (config/asgi.py).

A browser sends `Origin`, and sends the session cookie even when another site's page opens
the socket; so a session counts only with an `Origin` of one of `ALLOWED_HOSTS`, and any
other `Origin` is refused (403). Programs (Python `websockets`, bots, SDKs) send no
`Origin`: they are let in, but their cookies are dropped, so they prove who they are with a
ticket (`/ws/orders?ticket=`, `services.issue_stream_ticket`), never with a session."""

from __future__ import annotations

from typing import Any

from channels.security.websocket import AllowedHostsOriginValidator

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
