"""URL routes: operations endpoints, the admin, the API root, schema and docs, and each
app's API. The two login forms (admin, browsable API) are throttled per client address
like the token endpoint; their routes come before the includes that also define them."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from oms.api.root import ApiRootView
from oms.api.throttling import throttled_login
from oms.observability.views import health, metrics, ready

urlpatterns = [
    path("health", health, name="health"),
    path("ready", ready, name="ready"),
    path("metrics", metrics, name="metrics"),
    path("admin/login/", throttled_login(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's own script as a file, so the page needs no inline
    # script under the Content-Security-Policy (config/settings/security.py).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    path("api-auth/login/", throttled_login(
        LoginView.as_view(template_name="rest_framework/login.html"))),
    path("api-auth/", include("rest_framework.urls")),
    path("api/", include("apps.orders.api.urls")),
    path("api/", include("apps.processing.api.urls")),
    path("api/", include("apps.risk.api.urls")),
    path("api/", include("apps.marketdata.api.urls")),
    path("api/", include("apps.accounts.api.urls")),
    path("api/", include("apps.audit.api.urls")),
]
