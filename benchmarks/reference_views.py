"""Reference views that `benchmarks.ingest` measures beside `POST /api/orders`, mounted next
to the real routes when the web role runs with `OMS_ROOT_URLCONF=benchmarks.reference_views`.

* `bench/bare-django`: a plain Django view returning a small JSON dict, no authentication,
  no database - the ceiling of this server and middleware stack.
* `bench/bare-drf`: a DRF `APIView` authenticated like order entry
  (`CachedTokenAuthentication`, so no database after the first token lookup) returning a
  small JSON body - what DRF itself costs before any order entry work.

Both accept any method and ignore the request body, so the benchmark can send them the same
POST it sends to order entry."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import CachedTokenAuthentication


@csrf_exempt
def bare_django(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "view": "bare-django"})


class BareDrfView(APIView):
    authentication_classes = [CachedTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"status": "ok", "view": "bare-drf", "user_id": request.user.pk})

    post = get


urlpatterns = [
    path("bench/bare-django", bare_django, name="bench-bare-django"),
    path("bench/bare-drf", BareDrfView.as_view(), name="bench-bare-drf"),
    path("", include("config.urls")),
]
