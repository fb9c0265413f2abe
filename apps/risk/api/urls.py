"""Routes: `/api/risk/positions`, `/api/risk/limits`, `/api/risk/kill-switches`,
`/api/risk/events`, `/api/risk/validate` (the what-if: funds and working orders come
from the processing context through `services.use_order_context`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.risk.api.views import (
    KillSwitchViewSet,
    LimitView,
    PositionViewSet,
    RiskEventViewSet,
    WhatIfViewSet,
)

router = SimpleRouter(trailing_slash=False)
router.register("risk/positions", PositionViewSet, basename="position")
router.register("risk/kill-switches", KillSwitchViewSet, basename="kill-switch")
router.register("risk/events", RiskEventViewSet, basename="risk-event")
router.register("risk/validate", WhatIfViewSet, basename="risk-validate")

urlpatterns = [path("risk/limits", LimitView.as_view(), name="risk-limits"), *router.urls]
