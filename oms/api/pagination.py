"""Cursor pagination for list endpoints that must refuse malformed input rather than guess:
a bad `page_size` or a tampered cursor is 400 with the structured body, not the default
page or DRF's 404. Subclasses name their `ordering`."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from oms.api.errors import FieldErrors


class StrictCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        if len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) <= self.max_page_size:
            raise FieldErrors([(self.page_size_query_param, "invalid",
                                f"an integer from 1 to {self.max_page_size}")])
        return int(raw[0])

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise FieldErrors([(self.cursor_query_param, "invalid",
                                "use the `next` or `previous` link as given")]) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters
