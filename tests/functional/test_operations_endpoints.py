"""Operations endpoints of the web role: liveness, readiness (with a dependency down),
metrics, the correlation id, the admin and the API root."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, override_settings

from oms.observability.logging import CorrelationIdFilter, JsonFormatter

pytestmark = pytest.mark.django_db


def test_health_needs_no_dependency(client: Client) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_ready_checks_every_dependency(client: Client) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["failing"] == []
    assert set(body["checks"]) == {"postgres", "redis", "kafka"}


def test_ready_names_the_dependency_that_is_down(client: Client) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["postgres"]["ok"] is True


def test_ready_names_kafka_when_the_broker_is_unreachable(client: Client) -> None:
    with override_settings(KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1"):
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["kafka"]


def test_metrics_expose_django_and_kernel_counters(client: Client) -> None:
    client.get("/health")
    text = client.get("/metrics").content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert "oms_events_published_total" in text
    assert "oms_events_dead_lettered_total" in text


def test_request_id_is_echoed_or_made(client: Client) -> None:
    given = client.get("/health", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    made = client.get("/health")
    assert len(made["X-Request-ID"]) == 36
    unsafe = client.get("/health", HTTP_X_REQUEST_ID="x" * 500)
    assert unsafe["X-Request-ID"] != "x" * 500


def test_log_lines_are_json_with_the_correlation_id() -> None:
    from oms.observability.context import correlation_scope

    record = logging.LogRecord("oms.test", logging.INFO, __file__, 1, "placed %s", ("o-1",), None)
    with correlation_scope("corr-9"):
        CorrelationIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "placed o-1"
    assert line["correlation_id"] == "corr-9"
    assert line["level"] == "INFO"
    assert line["logger"] == "oms.test"


def test_admin_and_api_root_are_served(client: Client) -> None:
    assert client.get("/admin/login/").status_code == 200
    root = client.get("/api/", HTTP_ACCEPT="application/json")
    assert root.status_code == 200
    assert "schema" in root.json()
    assert client.get("/api/", HTTP_ACCEPT="text/html").status_code == 200
