"""Operator overrides in the admin: halting an instrument, cancelling any order, and
setting limits (audited through the risk services)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from apps.orders.models import Instrument
from apps.risk.models import RiskAudit, RiskLimit
from tests.functional.orders.conftest import OrdersTopic
from tests.functional.orders.test_reads_and_actions import recorded

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_session(instruments: None) -> Client:
    operator = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(operator)
    return client


def test_halt_and_resume_an_instrument(admin_session: Client) -> None:
    btc = Instrument.objects.get(symbol="BTC-USDT")
    admin_session.post("/admin/orders/instrument/", {"action": "halt",
                                                     "_selected_action": [btc.pk]})
    assert Instrument.objects.get(pk=btc.pk).status == "halted"
    admin_session.post("/admin/orders/instrument/", {"action": "resume",
                                                     "_selected_action": [btc.pk]})
    assert Instrument.objects.get(pk=btc.pk).status == "trading"


def test_an_operator_cancels_any_order(admin_session: Client, alice, orders_topic: OrdersTopic
                                       ) -> None:  # type: ignore[no-untyped-def]
    order = recorded(alice)
    response = admin_session.post("/admin/orders/order/", {"action": "cancel",
                                                           "_selected_action": [order.pk]})
    assert response.status_code == 302
    [(_, event, _)] = orders_topic.events_about(str(order.id))
    assert (event.type, event.payload["reason"]) == ("order.cancel_requested", "ops")


def test_limits_set_in_the_admin_are_audited(admin_session: Client) -> None:
    response = admin_session.post("/admin/risk/risklimit/add/", {
        "user": "", "symbol": "BTC-USDT", "max_order_quantity": "5"})
    assert response.status_code == 302, response.content[:500]
    assert RiskLimit.objects.get(symbol="BTC-USDT").max_order_quantity == 5
    [audit] = RiskAudit.objects.all()
    assert audit.action == "set_limits"
    assert audit.after["max_order_quantity"] == "5"


def test_a_balance_adjustment_in_the_admin_is_posted_and_audited(
    admin_session: Client, alice: object
) -> None:
    from apps.processing.selectors import balances_of

    user = get_user_model().objects.get(username="alice")
    form = admin_session.get("/admin/processing/ledgeraccount/adjust/")
    assert form.status_code == 200
    assert b"reason" in form.content
    response = admin_session.post("/admin/processing/ledgeraccount/adjust/", {
        "user": user.pk, "asset": "usdt", "amount": "12.5", "reason": "goodwill credit",
        "reference": "case-7"})
    assert response.status_code == 302, response.content[:500]
    # Four eyes: a second operator approves the request (tests/functional/risk/test_four_eyes.py)
    from apps.risk import services as risk
    from apps.risk.models import OverrideRequest

    second = get_user_model().objects.create_superuser("root2", "root2@example.com", "pw")
    risk.approve_override(request_id=OverrideRequest.objects.get().pk, actor_id=second.pk,
                          now=timezone.now())
    [audit] = RiskAudit.objects.filter(action="adjust_balance")
    assert (audit.actor.username, audit.after["reason"]) == ("root2", "goodwill credit")
    overdraw = admin_session.post("/admin/processing/ledgeraccount/adjust/", {
        "user": user.pk, "asset": "USDT", "amount": "-1000000000", "reason": "oops",
        "reference": "case-8"})
    assert overdraw.status_code == 200
    assert b"insufficient funds" in overdraw.content
    assert [(b.asset, str(b.available)) for b in balances_of(user_id=user.pk)] \
        == [("USDT", "12.500000000000000000")]
    assert RiskAudit.objects.filter(action="adjust_balance").count() == 1
