"""Routes of the orders API: `/api/orders...` and `/api/instruments`."""

from rest_framework.routers import SimpleRouter

from apps.orders.api.views import InstrumentViewSet, OrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="order")
router.register("instruments", InstrumentViewSet, basename="instrument")

urlpatterns = router.urls
