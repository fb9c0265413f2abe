"""`/health`, `/ready` and `/metrics` of the web roles (other roles serve the same from their
probe server, `oms.observability.probe_server`). The metrics say how busy the venue is and
which paths it serves, which is no business of the public: with `OMS_METRICS_ON_WEB` off
(production) `/metrics` is 404 here and served only on the probe port (`OMS_PROBE_PORT`,
which `oms.serve` opens for the web roles too)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django_prometheus.exports import ExportToDjangoView

from oms.observability.health import readiness_report, run_checks


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


def ready(request: HttpRequest) -> JsonResponse:
    status, body = readiness_report(run_checks())
    return JsonResponse(body, status=status)


def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.OMS_METRICS_ON_WEB:
        raise Http404("metrics are served on the probe port")
    response: HttpResponse = ExportToDjangoView(request)
    return response
