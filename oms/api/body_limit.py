"""Refuses request bodies larger than the endpoint needs, before any view, parser or
authentication runs, with 413 and the structured error body (nothing takes effect).

The limit is the one of the longest prefix of `settings.REQUEST_BODY_LIMITS` that the path
starts with (the JSON API: 64 KiB), else Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`. It is
judged on `Content-Length`: Django reads no more than that many bytes of a body (a body
sent without one is read as empty), so the declared length bounds what any view sees."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

CODE = "request_too_large"


def declared_length(request: HttpRequest) -> int:
    """The body's declared length; a missing or malformed one counts as 0, as Django reads
    it."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.limits = sorted(settings.REQUEST_BODY_LIMITS.items(),
                             key=lambda item: len(item[0]), reverse=True)
        self.default_limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)),
                    self.default_limit)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = self.limit_for(request.path)
        if declared_length(request) > limit:
            return JsonResponse(
                {"errors": [{"field": None, "code": CODE,
                             "message": f"the request body exceeds {limit} bytes"}]},
                status=413)
        return self.get_response(request)
