"""The audit log: every unsafe request of an operator (API and admin, refused ones too) and
every minting or revoking of an API key is recorded with who, when, what, on what, the
outcome and the request's correlation id, and logged as JSON; traders' ordinary requests
are not. Operators and auditors read it at `GET /api/audit`."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.accounts.models import ApiKey
from apps.audit import services as audit
from apps.audit.models import AuditEntry
from apps.orders.models import Instrument
from oms.api.permissions import Scope
from oms.auth.roles import Role
from tests.functional.accounts.conftest import client_for, create_instruments

pytestmark = pytest.mark.django_db

LIMITS = {"symbol": "ETH-USDT", "limits": {"max_open_orders": 10}}


def put_limits(client: APIClient, **headers: str) -> int:
    response = client.put("/api/risk/limits", json.dumps(LIMITS),
                          content_type="application/json", **headers)
    return int(response.status_code)


@pytest.fixture
def admin_session() -> Client:
    create_instruments()
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(root)
    return client


def test_an_operators_api_write_is_recorded_and_logged(caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    operator = client_for("operator", Role.OPS)
    with caplog.at_level(logging.INFO, logger="oms.audit"):
        assert put_limits(operator, HTTP_X_REQUEST_ID="audit-limits-1") == 200
    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.actor_username, entry.actor_roles) == ("request", "operator",
                                                                     ["ops"])
    assert (entry.action, entry.method, entry.path) == ("PUT risk-limits", "PUT",
                                                        "/api/risk/limits")
    assert (entry.status_code, entry.payload) == (200, LIMITS)
    assert entry.correlation_id == "audit-limits-1"
    assert entry.client_ip == "127.0.0.1"
    [logged] = [r for r in caplog.records if r.name == "oms.audit"]
    assert logged.audit["action"] == "PUT risk-limits"  # type: ignore[attr-defined]
    assert logged.correlation_id == "audit-limits-1"  # type: ignore[attr-defined]


def test_an_operators_refused_write_is_recorded_with_its_status() -> None:
    operator = client_for("operator", Role.OPS)
    response = operator.post("/api/api-keys/no-such-key/revoke")
    assert response.status_code == 404
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target, entry.status_code) == ("POST api-key-revoke",
                                                               "pk=no-such-key", 404)


def test_a_traders_ordinary_and_refused_writes_are_not_recorded() -> None:
    trader = client_for("alice", Role.TRADER)
    assert put_limits(trader) == 403
    assert trader.get("/api/api-keys").status_code == 200
    assert not AuditEntry.objects.exists()


def test_minting_and_revoking_an_api_key_is_recorded_whoever_does_it_without_its_secret(
        ) -> None:
    trader = client_for("alice", Role.TRADER)
    created = trader.post("/api/api-keys", {"name": "bot", "scopes": ["read"]}, format="json")
    assert created.status_code == 201
    key_id, secret = created.json()["key_id"], created.json()["secret"]
    assert trader.post(f"/api/api-keys/{key_id}/revoke").status_code == 200
    entries = list(AuditEntry.objects.order_by("id"))
    assert [(e.action, e.actor_username, e.status_code) for e in entries] == [
        ("POST api-key-list", "alice", 201), ("POST api-key-revoke", "alice", 200)]
    assert entries[1].target == f"pk={key_id}"
    assert secret not in json.dumps([e.payload for e in entries])


def test_an_admin_action_is_recorded_with_its_targets(admin_session: Client) -> None:
    btc = Instrument.objects.get(symbol="BTC-USDT")
    admin_session.post("/admin/orders/instrument/", {"action": "halt",
                                                     "_selected_action": [btc.pk],
                                                     "csrfmiddlewaretoken": "form-token"})
    entry = AuditEntry.objects.get()
    assert entry.action == "POST admin:orders_instrument_changelist action=halt"
    assert entry.target == f"selected={btc.pk}"
    assert (entry.actor_username, entry.actor_roles, entry.status_code) == ("root", ["admin"],
                                                                            302)
    assert entry.payload["csrfmiddlewaretoken"] == audit.REDACTED


def test_rotating_a_key_in_the_admin_records_before_and_after_never_the_secret(
        admin_session: Client) -> None:
    owner = client_for("alice", Role.TRADER).user  # type: ignore[attr-defined]
    old = accounts.create_api_key(user_id=owner.pk, name="bot", scopes=[Scope.READ]).key
    admin_session.post("/admin/accounts/apikey/", {"action": "rotate",
                                                   "_selected_action": [old.key_id]},
                       HTTP_X_REQUEST_ID="rotate-1")
    change, request_entry = AuditEntry.objects.order_by("kind")  # "change" < "request"
    assert (change.kind, change.action) == ("change", "api_key.rotated")
    new_key = change.after["active_key"]
    assert new_key != old.key_id
    assert change.before == {"active_key": old.key_id}
    assert change.target == f"api_key={old.key_id} user={owner.pk}"
    assert request_entry.action.endswith("action=rotate")
    assert {request_entry.correlation_id, change.correlation_id} == {"rotate-1"}
    secret = accounts.secret_of(ApiKey.objects.get(key_id=new_key))
    assert secret not in json.dumps([change.before, change.after, request_entry.payload])


def test_revoking_a_key_in_the_admin_records_when(admin_session: Client) -> None:
    owner = client_for("alice", Role.TRADER).user  # type: ignore[attr-defined]
    key = accounts.create_api_key(user_id=owner.pk, name="bot", scopes=[Scope.READ]).key
    admin_session.post("/admin/accounts/apikey/", {"action": "revoke",
                                                   "_selected_action": [key.key_id]})
    change = AuditEntry.objects.get(kind="change")
    assert change.action == "api_key.revoked"
    assert change.before == {"revoked_at": None}
    assert change.after["revoked_at"] is not None


def test_secrets_are_redacted_at_any_depth() -> None:
    assert audit.redact({"username": "u", "password": "p",
                         "nested": [{"api_secret": "s", "name": "n"}]}) == {
        "username": "u", "password": audit.REDACTED,
        "nested": [{"api_secret": audit.REDACTED, "name": "n"}]}


def test_auditors_and_operators_read_the_log_newest_first_and_filtered() -> None:
    operator = client_for("operator", Role.OPS)
    put_limits(operator, HTTP_X_REQUEST_ID="first")
    put_limits(operator, HTTP_X_REQUEST_ID="second")
    auditor = client_for("auditor", Role.AUDITOR)
    listed = auditor.get("/api/audit").json()["results"]
    assert [e["correlation_id"] for e in listed] == ["second", "first"]
    assert listed[0]["actor"] == "operator"
    only = auditor.get("/api/audit?correlation_id=first").json()["results"]
    assert [e["correlation_id"] for e in only] == ["first"]
    assert auditor.get("/api/audit?actor=nobody").json()["results"] == []
    assert auditor.get("/api/audit?page_size=0").status_code == 400
    assert client_for("alice", Role.TRADER).get("/api/audit").status_code == 403
    assert auditor.get("/api/audit").status_code == 200  # reading is not itself recorded
    assert AuditEntry.objects.count() == 2
