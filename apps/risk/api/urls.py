"""Routes: `/api/risk/positions`, `/api/risk/limits`, `/api/risk/kill-switches`,
`/api/risk/events`. (`/api/risk/validate` is served by the processing API: the what-if
needs the processor's view of funds and working orders.)"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.risk.api.views import KillSwitchViewSet, LimitView, PositionViewSet, RiskEventViewSet

router = SimpleRouter(trailing_slash=False)
router.register("risk/positions", PositionViewSet, basename="position")
router.register("risk/kill-switches", KillSwitchViewSet, basename="kill-switch")
router.register("risk/events", RiskEventViewSet, basename="risk-event")

urlpatterns = [path("risk/limits", LimitView.as_view(), name="risk-limits"), *router.urls]
