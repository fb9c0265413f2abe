"""WebSocket routes of the marketdata context, gathered by `config/routing.py`."""

from django.urls import path

from apps.marketdata.ws import MarketDataConsumer

websocket_urlpatterns = [
    path("ws/market-data", MarketDataConsumer.as_asgi()),
]
