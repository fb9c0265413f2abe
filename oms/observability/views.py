"""`/health` and `/ready` of the web roles (other roles serve the same from their probe
server, `oms.observability.probe_server`)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from oms.observability.health import readiness_report, run_checks


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


def ready(request: HttpRequest) -> JsonResponse:
    status, body = readiness_report(run_checks())
    return JsonResponse(body, status=status)
