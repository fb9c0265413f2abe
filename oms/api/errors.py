"""One error shape for every endpoint:

    {"errors": [{"field": "quantity", "code": "lot_size", "message": "..."}]}

`field` is null for errors about the request as a whole. Codes are stable strings that
clients may switch on; messages are for people."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler


def error_body(field: str | None, code: str, message: str) -> dict[str, list[dict[str, Any]]]:
    return {"errors": [{"field": field, "code": code, "message": message}]}


def _flatten(detail: Any, field: str | None) -> Iterator[dict[str, Any]]:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = None if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            yield from _flatten(value, f"{field}.{name}" if field and name else (name or field))
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, field)
    else:
        code = detail.code if isinstance(detail, ErrorDetail) else "invalid"
        yield {"field": field, "code": code or "invalid", "message": str(detail)}


def structured_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error body rewritten into the shape above."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        errors = list(_flatten(exc.detail, None))
    elif isinstance(exc, APIException):
        detail = exc.detail
        code = detail.code if isinstance(detail, ErrorDetail) else exc.default_code
        errors = [{"field": None, "code": code, "message": str(detail)}]
    else:  # Http404 and PermissionDenied from Django, converted by DRF
        errors = [{"field": None, "code": "not_found" if response.status_code == 404
                   else "permission_denied", "message": str(response.data.get("detail", ""))}]
    response.data = {"errors": errors}
    return response
