"""Routes of the orders API: `/api/orders...`, `/api/fills` and `/api/instruments`."""

from rest_framework.routers import SimpleRouter

from apps.orders.api.views import FillViewSet, InstrumentViewSet, OrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="order")
router.register("fills", FillViewSet, basename="fill")
router.register("instruments", InstrumentViewSet, basename="instrument")

urlpatterns = router.urls
