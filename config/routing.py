"""WebSocket routes of every app, gathered for the ASGI application."""

from typing import Any

websocket_urlpatterns: list[Any] = []
