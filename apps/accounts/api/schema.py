"""The accounts' authentication schemes in the OpenAPI schema: the API key with how to sign,
and the bearer JWT (drf-spectacular knows simplejwt's class, not our subclass)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey", "in": "header", "name": "X-API-KEY",
            "description": "Also send X-API-TIMESTAMP (ms), optional X-API-RECV-WINDOW (ms, "
                           "default 5000, at most 60000) and X-API-SIGNATURE: hex HMAC-SHA256 "
                           "with the key's secret of timestamp + X-API-RECV-WINDOW as sent "
                           "(empty if not sent) + METHOD + path (+ '?' + query) + body. "
                           "Each signature is accepted once.",
        }


class BearerScheme(SimpleJWTScheme):
    target_class = "apps.accounts.authentication.BearerAuthentication"
