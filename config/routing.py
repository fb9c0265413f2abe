"""WebSocket routes of every app, gathered for the ASGI application."""

from typing import Any

from apps.marketdata.routing import websocket_urlpatterns as marketdata_ws
from apps.orders.routing import websocket_urlpatterns as orders_ws

websocket_urlpatterns: list[Any] = [*marketdata_ws, *orders_ws]
