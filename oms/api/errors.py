"""One error shape for every endpoint:

    {"errors": [{"field": "quantity", "code": "lot_size", "message": "..."}]}

`field` is null for errors about the request as a whole. Codes are stable strings that
clients may switch on; messages are for people."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "the request conflicts with the resource's state"


class UnprocessableEntity(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"
    default_detail = "the request cannot be processed"


class ServiceUnavailable(APIException):
    """A dependency is down; nothing took effect, and the client may retry after a while."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "a dependency is unavailable; retry later"

    def __init__(self, detail: str | None = None, code: str | None = None,
                 retry_after: int = 1) -> None:
        super().__init__(detail, code)
        self.retry_after = retry_after


class FieldErrors(APIException):
    """400 with several errors, each naming its field and code."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, errors: list[tuple[str | None, str, str]]) -> None:
        super().__init__("invalid request")
        self.errors = errors


class FieldConflicts(FieldErrors):
    """409 naming the field whose value conflicts with what is recorded."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


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


DATABASE_RETRY_AFTER_SECONDS = 5


def structured_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error body rewritten into the shape above. A database
    that cannot be reached is 503 `postgres_unavailable` with `Retry-After` (the request
    took no effect: its transaction never committed), not a 500."""
    if isinstance(exc, OperationalError | InterfaceError):
        exc = ServiceUnavailable("the database is unavailable; nothing was done, retry later",
                                 code="postgres_unavailable",
                                 retry_after=DATABASE_RETRY_AFTER_SECONDS)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, FieldErrors):
        errors = [{"field": f, "code": c, "message": m} for f, c, m in exc.errors]
    elif isinstance(exc, ValidationError):
        errors = list(_flatten(exc.detail, None))
    elif isinstance(exc, APIException):
        detail = exc.detail
        code = detail.code if isinstance(detail, ErrorDetail) else exc.default_code
        errors = [{"field": None, "code": code, "message": str(detail)}]
    else:  # Http404 and PermissionDenied from Django, converted by DRF
        errors = [{"field": None, "code": "not_found" if response.status_code == 404
                   else "permission_denied", "message": str(response.data.get("detail", ""))}]
    response.data = {"errors": errors}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
