"""Routes of the orders API: `/api/orders...` (with `/api/orders/dead-man`), `/api/fills`
and `/api/instruments`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.orders.api.dead_man import DeadManView
from apps.orders.api.views import FillViewSet, InstrumentViewSet, OrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="order")
router.register("fills", FillViewSet, basename="fill")
router.register("instruments", InstrumentViewSet, basename="instrument")

# Before the router: `orders/{id}` would take `orders/dead-man`.
urlpatterns = [path("orders/dead-man", DeadManView.as_view(), name="orders-dead-man"),
               *router.urls]
