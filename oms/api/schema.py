"""OpenAPI generation: every operation documents the structured error body for the
errors any endpoint can answer (authentication, permission, validation, throttling, a
dependency down), so clients and schema-based tests know every status they may see; and
every handler marked `@idempotent` documents its `Idempotency-Key` header, its 409 (in
flight) and its 422 (the key reused with another request)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from oms.api import idempotency

ERROR_BODY = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string", "nullable": True,
                              "description": "the field at fault, null for the whole request"},
                    "code": {"type": "string", "description": "stable, for programs"},
                    "message": {"type": "string", "description": "for people"},
                },
            },
        },
    },
}

COMMON_ERRORS = {
    "400": "Invalid request: `errors` names each field and a stable code.",
    "401": "Not authenticated.",
    "403": "Authenticated but not allowed.",
    "429": "Rate limited; retry after `Retry-After` seconds.",
    "503": "A dependency is unavailable and nothing took effect; retry after `Retry-After`.",
}
NOT_FOUND = "No such resource visible to you."
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"},
                               "description": "seconds to wait before retrying"}}


def _error_response(description: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    if description.endswith("`Retry-After`.") or "Retry-After" in description:
        response["headers"] = RETRY_AFTER
    return response


def add_error_responses(result: dict[str, Any], generator: Any, request: Any,
                        public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = ERROR_BODY
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            errors = dict(COMMON_ERRORS)
            if "{" in path:
                errors["404"] = NOT_FOUND
            for status, description in errors.items():
                responses.setdefault(status, _error_response(description))
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "content" not in response:
                    responses[status] = _error_response(response.get("description", ""))
    return result


class IdempotentAutoSchema(AutoSchema):
    """drf-spectacular's schema, with `Idempotency-Key` on the handlers that honour it."""

    def _handler(self) -> object:
        action = getattr(self.view, "action", None)
        return getattr(self.view, action or self.method.lower(), None)

    def get_override_parameters(self) -> list[Any]:
        parameters: list[Any] = list(super().get_override_parameters())
        named = {parameter.name for parameter in parameters
                 if isinstance(parameter, OpenApiParameter)}
        if idempotency.is_idempotent(self._handler()) and idempotency.HEADER not in named:
            parameters.append(idempotency.HEADER_PARAMETER)
        return parameters

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str,
                      registry: Any) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None and idempotency.is_idempotent(self._handler()):
            responses = operation.setdefault("responses", {})
            responses.setdefault("409", {"description": idempotency.CONFLICT_DESCRIPTION})
            responses.setdefault("422", {"description": idempotency.MISMATCH_DESCRIPTION})
        return operation
