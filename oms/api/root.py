"""The browsable API's front page: links to every resource, so a person can explore the API
from `/api/` after logging in."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# Route names of the resources to list.
RESOURCES = {
    "instruments": "instrument-list",
    "orders": "order-list",
    "balances": "balance-list",
    "positions": "position-list",
    "risk limits": "risk-limits",
    "audit": "audit-list",
    "schema": "api-schema",
    "docs": "api-docs",
}


class ApiRootView(APIView):
    permission_classes = [AllowAny]
    schema = None

    def get(self, request: Request) -> Response:
        links = {}
        for label, name in RESOURCES.items():
            try:
                links[label] = request.build_absolute_uri(reverse(name))
            except NoReverseMatch:
                continue
        return Response(links)
