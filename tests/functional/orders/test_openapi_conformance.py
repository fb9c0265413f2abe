"""The OpenAPI schema is valid, and the API keeps it: schemathesis generates requests from
the schema (a bounded number per operation) and checks every response against it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.specs.openapi.checks import positive_data_acceptance


def test_schema_generates_without_warnings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
         "--file", "/dev/null"], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


# Loaded at collection: serving the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case, alice: APIClient) -> None:
    token = alice._credentials["HTTP_AUTHORIZATION"]  # type: ignore[attr-defined]
    # Schema-valid requests may still break business rules (an unknown symbol, a price off
    # the tick), so "positive data acceptance" is not a property of this API.
    case.call_and_validate(headers={"Authorization": token},
                           excluded_checks=[positive_data_acceptance])
