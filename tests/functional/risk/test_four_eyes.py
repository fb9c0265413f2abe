"""Four eyes and expiring overrides on the real database and broker: a limit raised above
its threshold, the release of a global kill switch and a manual ledger adjustment wait for
a second operator, whom the requester can never replace; an override with an expiry
reverts by itself (the beat task's service, at a later `now`); every step is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from apps.processing.selectors import balances_of
from apps.risk import services as risk
from apps.risk.models import KillSwitch, OverrideRequest, RiskAudit, RiskLimit
from oms.auth.roles import Role
from tests.functional.orders.conftest import client_for

pytestmark = pytest.mark.django_db


def admin_client(name: str) -> Client:
    user = get_user_model().objects.create_superuser(name, f"{name}@example.com", "pw")
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def actions() -> list[str]:
    return list(RiskAudit.objects.order_by("id").values_list("action", flat=True))


def test_a_manual_adjustment_needs_a_second_operator_in_the_admin(instruments: None) -> None:
    first, second = admin_client("ops-a"), admin_client("ops-b")
    trader = get_user_model().objects.create(username="carol")
    response = first.post("/admin/processing/ledgeraccount/adjust/", {
        "user": trader.pk, "asset": "usdt", "amount": "12.5", "reason": "goodwill credit",
        "reference": "case-7"})
    assert response.status_code == 302, response.content[:500]
    [pending] = OverrideRequest.objects.all()
    assert (pending.action, pending.status) == ("adjust_balance", "pending")
    assert balances_of(user_id=trader.pk) == []

    first.post("/admin/risk/overriderequest/", {"action": "approve",
                                                "_selected_action": [pending.pk]})
    assert OverrideRequest.objects.get().status == "pending"  # never by its requester
    assert balances_of(user_id=trader.pk) == []

    second.post("/admin/risk/overriderequest/", {"action": "approve",
                                                 "_selected_action": [pending.pk]})
    approved = OverrideRequest.objects.get()
    assert (approved.status, approved.decided_by.username) == ("applied", "ops-b")
    assert [(b.asset, b.available) for b in balances_of(user_id=trader.pk)] \
        == [("USDT", Decimal("12.5"))]
    assert actions() == ["request_override", "adjust_balance", "approve_override"]
    assert RiskAudit.objects.get(action="adjust_balance").actor.username == "ops-b"


def test_raising_a_limit_above_its_threshold_waits_for_approval(instruments: None) -> None:
    first, second = client_for("ops-1", Role.OPS), client_for("ops-2", Role.OPS)
    threshold = Decimal(settings.RISK_FOUR_EYES_THRESHOLDS["max_order_notional"])
    body = {"symbol": "BTC-USDT", "limits": {"max_order_notional": str(threshold * 2)}}
    response = first.put("/api/risk/limits", body, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "pending"
    assert not RiskLimit.objects.exists()
    request_id = response.json()["id"]
    now = datetime.now(UTC)
    with pytest.raises(risk.OverrideRefused) as refused:
        risk.approve_override(request_id=request_id, actor_id=first.user.pk,  # type: ignore[attr-defined]
                              now=now)
    assert refused.value.code == "same_operator"
    assert not RiskLimit.objects.exists()
    risk.approve_override(request_id=request_id, actor_id=second.user.pk,  # type: ignore[attr-defined]
                          now=now)
    assert RiskLimit.objects.get(symbol="BTC-USDT").max_order_notional == threshold * 2
    # within the threshold: one operator suffices
    small = first.put("/api/risk/limits", {"symbol": "ETH-USDT", "limits": {
        "max_order_notional": "1000"}}, format="json")
    assert small.status_code == 200


def test_releasing_a_global_kill_switch_waits_for_approval(instruments: None) -> None:
    first, second = client_for("ops-1", Role.OPS), client_for("ops-2", Role.OPS)
    risk.engage_kill_switch(actor_id=None, user_id=None, symbol="", reason="incident")
    response = first.post("/api/risk/kill-switches/release", {}, format="json")
    assert response.status_code == 202
    assert KillSwitch.objects.get(user=None, symbol="").engaged
    risk.approve_override(request_id=response.json()["id"],
                          actor_id=second.user.pk, now=datetime.now(UTC))  # type: ignore[attr-defined]
    assert not KillSwitch.objects.get(user=None, symbol="").engaged


def test_an_override_with_an_expiry_reverts_by_itself(instruments: None) -> None:
    ops = client_for("ops-1", Role.OPS)
    risk.set_limits(actor_id=None, user_id=None, symbol="BTC-USDT",
                    values={"max_order_quantity": Decimal("2")})
    expires = datetime.now(UTC) + timedelta(hours=1)
    response = ops.put("/api/risk/limits", {
        "symbol": "BTC-USDT", "limits": {"max_order_quantity": "5"},
        "expires_at": expires.isoformat()}, format="json")
    assert response.status_code == 200, response.json()
    assert RiskLimit.objects.get(symbol="BTC-USDT").max_order_quantity == 5
    engaged = ops.post("/api/risk/kill-switches", {"symbol": "ETH-USDT", "reason": "drill",
                                                   "expires_at": expires.isoformat()},
                       format="json")
    assert engaged.status_code == 202
    assert KillSwitch.objects.get(symbol="ETH-USDT").engaged

    assert risk.revert_expired_overrides(now=expires - timedelta(seconds=1)) == 0
    assert risk.revert_expired_overrides(now=expires) == 2
    assert RiskLimit.objects.get(symbol="BTC-USDT").max_order_quantity == 2
    assert not KillSwitch.objects.get(symbol="ETH-USDT").engaged
    assert set(OverrideRequest.objects.values_list("status", flat=True)) == {"reverted"}
    reverts = RiskAudit.objects.filter(action="revert_override")
    assert reverts.count() == 2
    assert all(audit.actor is None for audit in reverts)
    assert risk.revert_expired_overrides(now=expires + timedelta(hours=1)) == 0
    assert "risk.revert_expired_overrides" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


@pytest.mark.parametrize(("body", "code"), [
    ({"symbol": "BTC-USDT", "limits": {"max_order_quantity": "5"},
      "expires_at": "2000-01-01T00:00:00Z"}, "expiry_in_past"),
])
def test_a_bad_expiry_is_400_and_changes_nothing(instruments: None, body: dict[str, object],
                                                 code: str) -> None:
    ops = client_for("ops-1", Role.OPS)
    response = ops.put("/api/risk/limits", body, format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("expires_at", code)
    assert not OverrideRequest.objects.exists()
    assert not RiskLimit.objects.exists()
    assert not RiskAudit.objects.exists()
