"""Routes: `/api/risk/positions`."""

from rest_framework.routers import SimpleRouter

from apps.risk.api.views import PositionViewSet

router = SimpleRouter(trailing_slash=False)
router.register("risk/positions", PositionViewSet, basename="position")

urlpatterns = router.urls
