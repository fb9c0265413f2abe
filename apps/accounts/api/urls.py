"""Routes, mounted under `/api/`: `/api/auth/token`, `/api/auth/token/refresh`,
`/api/auth/token/revoke`, `/api/api-keys`, `/api/api-keys/{key_id}/revoke`, `/api/ws-ticket`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.accounts.api.views import (
    ApiKeyViewSet,
    ObtainTokenView,
    RefreshTokenView,
    RevokeTokenView,
    StreamTicketView,
)

router = SimpleRouter(trailing_slash=False)
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("auth/token", ObtainTokenView.as_view(), name="token-obtain"),
    path("auth/token/refresh", RefreshTokenView.as_view(), name="token-refresh"),
    path("auth/token/revoke", RevokeTokenView.as_view(), name="token-revoke"),
    path("ws-ticket", StreamTicketView.as_view(), name="ws-ticket"),
    *router.urls,
]
