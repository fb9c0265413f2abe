"""A database that cannot be reached is a 503 with the structured body and `Retry-After`,
not a 500: the request took no effect and may be retried."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView


class Failing(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    error: Exception = OperationalError("connection refused")

    def get(self, request: Request) -> Response:
        raise self.error


@pytest.mark.parametrize("error", [OperationalError("connection refused"),
                                   InterfaceError("connection already closed")])
def test_database_errors_become_503_with_retry_after(error: Exception) -> None:
    response = Failing.as_view(error=error)(APIRequestFactory().get("/anything"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data == {"errors": [{
        "field": None, "code": "postgres_unavailable",
        "message": "the database is unavailable; nothing was done, retry later"}]}


def test_other_errors_are_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError):
        Failing.as_view(error=ZeroDivisionError())(APIRequestFactory().get("/anything"))
