"""Limits, kill switches, daily loss and the what-if decision, through the processor and
the broker; every override audited and on `risk-events`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from apps.orders.models import Order
from apps.orders.services import OrderTerms
from apps.risk import services
from apps.risk.models import RiskAudit
from oms.auth.roles import Role
from tests.functional.orders.conftest import client_for
from tests.integration.conftest import Harness, place, risk_events_about, trader

pytestmark = pytest.mark.django_db(transaction=True)


def terms(side: str, quantity: str, price: str) -> OrderTerms:
    return OrderTerms(symbol="BTC-USDT", side=side, type="limit", time_in_force="GTC",
                      quantity=Decimal(quantity), price=Decimal(price), stop_price=None,
                      post_only=False, expires_at=None)


def status(order_id: str) -> tuple[str, str]:
    order = Order.objects.get(id=order_id)
    return order.status, order.reason_code


def test_a_limit_rejects_with_its_code_and_the_what_if_agrees(harness: Harness) -> None:
    user = trader("limited", USDT="1000000")
    services.set_limits(actor_id=None, user_id=user, symbol="", values={
        "max_order_quantity": Decimal("0.05")})
    now = datetime.now(UTC)
    assert services.validate_order(user_id=user, terms=terms("buy", "0.1", "50000"), now=now).code \
        == "order_size"
    assert services.validate_order(user_id=user, terms=terms("buy", "0.05", "50000"),
                              now=now).accepted
    too_big = place(user, "buy", "0.1", "50000.00")
    fits = place(user, "buy", "0.05", "50000.00")
    harness.drain(expect=2)
    assert status(too_big) == ("REJECTED", "order_size")
    assert status(fits) == ("ACCEPTED", "")


@pytest.mark.parametrize("scope", ["account", "symbol", "global"])
def test_kill_switch_cancels_working_orders_and_blocks_new_ones(
    harness: Harness, scope: str
) -> None:
    user = trader("switched", USDT="1000000")
    working = place(user, "buy", "0.01", "40000.00")
    harness.drain(expect=1)
    scope_user = user if scope == "account" else None
    scope_symbol = "BTC-USDT" if scope == "symbol" else ""
    assert services.engage_kill_switch(actor_id=None, user_id=scope_user,
                                       symbol=scope_symbol, reason="test") == 1
    blocked = place(user, "buy", "0.01", "40000.00")
    harness.drain(expect=2)
    assert status(working) == ("CANCELLED", "kill_switch")
    assert status(blocked) == ("REJECTED", "kill_switch")
    services.release_kill_switch(actor_id=None, user_id=scope_user, symbol=scope_symbol)
    again = place(user, "buy", "0.01", "40000.00")
    harness.drain(expect=1)
    assert status(again) == ("ACCEPTED", "")
    actions = list(RiskAudit.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["engage_kill_switch", "release_kill_switch"]


def test_daily_loss_counts_today_only_and_resets_at_midnight_utc(btc: None) -> None:
    user = trader("loser", USDT="1000000", BTC="10")
    services.set_limits(actor_id=None, user_id=user, symbol="",
                        values={"daily_loss": Decimal("100")})
    late = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    services.record_fill(user_id=user, symbol="BTC-USDT", side="buy", quantity=Decimal("1"),
                         price=Decimal("50000"), fee_in_quote=Decimal(0), when=late)
    services.record_fill(user_id=user, symbol="BTC-USDT", side="sell", quantity=Decimal("1"),
                         price=Decimal("49900"), fee_in_quote=Decimal(0), when=late)
    order = terms("buy", "0.001", "50000")
    assert services.validate_order(user_id=user, terms=order, now=late).code == "daily_loss"
    next_day = late + timedelta(minutes=2)
    assert services.validate_order(user_id=user, terms=order, now=next_day).accepted


def test_overrides_are_audited_and_emitted(btc: None) -> None:
    user = trader("watched", USDT="1")
    services.set_limits(actor_id=None, user_id=user, symbol="BTC-USDT",
                        values={"max_open_orders": 3})
    services.set_limits(actor_id=None, user_id=user, symbol="BTC-USDT",
                        values={"max_open_orders": 5})
    [first, second] = RiskAudit.objects.order_by("id")
    assert (first.before, first.after["max_open_orders"]) == (None, "3")
    assert (second.before["max_open_orders"], second.after["max_open_orders"]) == ("3", "5")
    seen = risk_events_about(str(user))
    assert sum(b"risk.limit_changed" in value for value in seen) == 2


def test_risk_api_for_traders_and_operators(btc: None) -> None:
    trader_client = client_for("riskt", Role.TRADER)
    ops = client_for("risko", Role.OPS)
    body = {"user": "riskt", "symbol": "", "limits": {"max_order_notional": "1000"}}
    assert trader_client.put("/api/risk/limits", body, format="json").status_code == 403
    assert ops.put("/api/risk/limits", body, format="json").status_code == 200
    assert trader_client.get("/api/risk/limits").json()["limits"]["max_order_notional"] \
        == "1000"
    decision = trader_client.post("/api/risk/validate", {
        "symbol": "BTC-USDT", "side": "buy", "type": "limit", "quantity": "0.1",
        "price": "50000.00"}, format="json").json()
    assert decision["code"] == "order_size"
    events = ops.get("/api/risk/events").json()
    assert events[0]["action"] == "set_limits"
    assert trader_client.get("/api/risk/events").status_code == 403
    engaged = ops.post("/api/risk/kill-switches", {"user": "riskt"}, format="json")
    assert engaged.status_code == 202
    assert trader_client.post("/api/risk/validate", {
        "symbol": "BTC-USDT", "side": "buy", "type": "limit", "quantity": "0.001",
        "price": "50000.00"}, format="json").json()["code"] == "kill_switch"


def test_limits_come_with_their_current_usage(btc: None) -> None:
    import json

    from apps.marketdata.cache import price_key
    from oms.redis import redis_client

    client = client_for("used", Role.TRADER)
    user = get_user_model().objects.get(username="used").pk
    now = datetime.now(UTC)
    services.record_fill(user_id=user, symbol="BTC-USDT", side="buy", quantity=Decimal("2"),
                         price=Decimal("100"), fee_in_quote=Decimal(0), when=now)
    services.record_fill(user_id=user, symbol="ETH-USDT", side="sell", quantity=Decimal("10"),
                         price=Decimal("10"), fee_in_quote=Decimal(0), when=now)
    redis_client().set(price_key("BTC-USDT"), json.dumps({"reference_price": "90"}))
    redis_client().set(price_key("ETH-USDT"), json.dumps({"reference_price": "6"}))
    services.pre_trade_decision(services.PreTradeContext(
        user_id=user, symbol="BTC-USDT", side="buy", quantity=Decimal("1"), price=Decimal("1"),
        is_limit=True, trading=True, required_asset="USDT", required_amount=Decimal(1),
        available_amount=Decimal(1)), order_id="counted", now=now)
    body = client.get("/api/risk/limits?symbol=BTC-USDT").json()
    assert (body["symbol"], body["leverage"]) == ("BTC-USDT", "1")
    usage = body["usage"]
    assert (usage["max_position"], usage["max_position_notional"]) == ("2", "180")
    # Loss: (90 - 100) x 2 on BTC, short ETH gains (10 - 6) x 10: a gain, so no loss.
    assert usage["daily_loss"] == "0"
    assert usage["concentration"] == str(Decimal(180) / Decimal(240))
    assert (usage["max_orders_per_minute"], usage["max_notional_per_minute"]) == (1, "1")
    assert usage["max_order_quantity"] is None
    assert client.get("/api/risk/limits").json()["usage"]["max_position"] is None


def test_limits_that_read_other_symbols_and_the_day_decide_on_them(btc: None) -> None:
    """Concentration and daily loss read the account's positions in every symbol, marked
    at the feeds' prices: the batch works them out for an account with those limits."""
    import json

    from apps.marketdata.cache import price_key
    from apps.orders import services as orders
    from apps.risk.domain.exposure import AccountExposure
    from oms.redis import redis_client

    orders.upsert_instrument(
        symbol="ETH-USDT", base_asset="ETH", quote_asset="USDT", tick_size=Decimal("0.01"),
        lot_size=Decimal("0.001"), min_quantity=Decimal("0.001"),
        max_quantity=Decimal("100000"), min_notional=Decimal("10"),
        maker_fee_rate=Decimal("0.001"), taker_fee_rate=Decimal("0.002"))
    user = trader("spread")
    now = datetime.now(UTC)
    services.record_fill(user_id=user, symbol="ETH-USDT", side="buy", quantity=Decimal("10"),
                         price=Decimal("10"), fee_in_quote=Decimal(0), when=now)
    redis_client().set(price_key("BTC-USDT"), json.dumps({"reference_price": "100"}))
    redis_client().set(price_key("ETH-USDT"), json.dumps({"reference_price": "6"}))

    def decide(quantity: str) -> tuple[bool, str]:
        decision = services.pre_trade_decision(services.PreTradeContext(
            user_id=user, symbol="BTC-USDT", side="buy", quantity=Decimal(quantity),
            price=Decimal("100"), is_limit=True, trading=True, required_asset="USDT",
            required_amount=Decimal(1), available_amount=Decimal(1)),
            order_id=f"order-{quantity}", now=now, count=False)
        return decision.accepted, decision.code

    # ETH is 60 of exposure: 0.5 BTC (50) is 45 % of the gross, 1 BTC (100) 62.5 %.
    services.set_limits(actor_id=None, user_id=user, symbol="",
                        values={"concentration": Decimal("0.5")})
    assert decide("0.5") == (True, "")
    assert decide("1") == (False, "concentration")
    # Today's loss is (6 - 10) x 10 = 40 on ETH.
    services.set_limits(actor_id=None, user_id=user, symbol="",
                        values={"concentration": None, "daily_loss": Decimal("40")})
    assert decide("1") == (False, "daily_loss")

    # Leveraged (2 x equity 100 = 200 of gross exposure): 1.5 BTC needs 150 against 100
    # available, within 200 alone, not with the ETH position's 60.
    services.set_limits(actor_id=None, user_id=user, symbol="", values={"daily_loss": None})
    services.set_leverage(actor_id=None, user_id=user, leverage=Decimal(2))
    borrowing = services.pre_trade_decision(services.PreTradeContext(
        user_id=user, symbol="BTC-USDT", side="buy", quantity=Decimal("1.5"),
        price=Decimal("100"), is_limit=True, trading=True, required_asset="USDT",
        required_amount=Decimal(150), available_amount=Decimal(100)),
        order_id="borrowing", now=now, count=False,
        exposure=AccountExposure(user_id=user, holdings={"USDT": Decimal(100)}))
    assert (borrowing.accepted, borrowing.code) == (False, "insufficient_funds")
    assert "gross exposure would be 210" in borrowing.message
