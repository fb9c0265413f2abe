"""WebSocket routes of the orders context, gathered by `config/routing.py`. Who asks is
settled by the accounts context before the consumer runs (`config/asgi.py`)."""

from django.urls import path

from apps.orders.ws import OrdersConsumer

websocket_urlpatterns = [
    path("ws/orders", OrdersConsumer.as_asgi()),
]
