"""WebSocket routes of the orders context, gathered by `config/routing.py`. Who asks is
settled by the accounts context (`StreamTicketAuth`) before the consumer runs."""

from django.urls import path

from apps.accounts.websocket import StreamTicketAuth
from apps.orders.ws import OrdersConsumer

websocket_urlpatterns = [
    path("ws/orders", StreamTicketAuth(OrdersConsumer.as_asgi())),
]
