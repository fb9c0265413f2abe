"""Refuses a query string that carries a NUL character, before any view runs, with 400 and
the structured error body naming the parameter.

PostgreSQL cannot hold NUL in text, so a filter such as `?symbol=%00` would reach the
database and fail there as a server error; no parameter of this API can mean it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, JsonResponse

CODE = "invalid_character"


class NulQueryParameterMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return JsonResponse({"errors": [{
                    "field": name.replace("\x00", ""), "code": CODE,
                    "message": "a query parameter cannot contain a NUL character"}]},
                    status=400)
        return self.get_response(request)
