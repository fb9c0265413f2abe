"""Routes, mounted under `/api/`: `/api/audit`."""

from rest_framework.routers import SimpleRouter

from apps.audit.api.views import AuditEntryViewSet

router = SimpleRouter(trailing_slash=False)
router.register("audit", AuditEntryViewSet, basename="audit")

urlpatterns = router.urls
