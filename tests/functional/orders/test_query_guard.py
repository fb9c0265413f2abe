"""A NUL character in a query parameter is refused before any view: PostgreSQL cannot hold
it, so it would otherwise surface as a server error wherever a filter reaches the
database (found by the schema fuzzer on `GET /api/risk/limits?symbol=`)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.mark.parametrize("path", ["/api/risk/limits?symbol=%00", "/api/orders?symbol=a%00b",
                                  "/api/fills?side=buy&%00=x"])
def test_a_nul_in_a_query_parameter_is_400_naming_it(alice: APIClient, path: str) -> None:
    response = alice.get(path)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_character"
    assert error["message"]
