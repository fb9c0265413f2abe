"""The pre-trade decision of an amend, as the processor asks it (the service, with the real
database and Redis): the order's own reservation and working exposure are released
before its new terms are decided, and the amend is the same order for velocity, so its
notional replaces the old one instead of adding to it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.risk import services
from apps.risk.domain.exposure import AccountExposure, RestingOrder, WorkingOrders
from tests.integration.conftest import trader

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 5, 1, 12, 0, 30, tzinfo=UTC)


def context(user_id: int, quantity: str, *, available: str) -> services.PreTradeContext:
    amount = Decimal(quantity) * 50000
    return services.PreTradeContext(
        user_id=user_id, symbol="BTC-USDT", side="buy", quantity=Decimal(quantity),
        price=Decimal("50000"), is_limit=True, trading=True, required_asset="USDT",
        required_amount=amount, available_amount=Decimal(available),
        reference_price=Decimal("50000"))


def test_an_amend_is_decided_with_its_own_reservation_released(btc: None) -> None:
    user = trader("amends", USDT="1000")
    services.set_limits(actor_id=None, user_id=user, symbol="", values={
        "max_orders_per_minute": 1, "max_notional_per_minute": Decimal("1500"),
        "max_open_orders": 1})
    placed = services.pre_trade_decision(context(user, "0.02", available="1000"),
                                         order_id="resting", now=NOW)
    assert placed.accepted
    # The order holds 1000; 500 more is available. Amended to 0.03 (1500): 1000 + 500.
    account = AccountExposure(user_id=user, working={"BTC-USDT": WorkingOrders(
        orders=1, buy_quantity=Decimal("0.02"), buy_notional=Decimal("1000"))},
        holdings={"USDT": Decimal("1500")})
    resting = RestingOrder(side="buy", quantity=Decimal("0.02"), notional=Decimal("1000"),
                           reserved=Decimal("1000"))
    amended = services.pre_trade_decision(
        context(user, "0.03", available="500"), order_id="resting", now=NOW,
        exposure=account, amending=resting)
    assert (amended.accepted, amended.code) == (True, "")
    # A new order would be the second of the minute (and the second working order).
    other = services.pre_trade_decision(context(user, "0.001", available="500"),
                                        order_id="another", now=NOW, exposure=account)
    assert (other.accepted, other.code) == (False, "order_size")
    # The minute now holds the amended 1500, not 1000 + 1500: a further amend to 0.031
    # (1550) is over the notional limit, one back to 0.03 is not.
    assert services.pre_trade_decision(
        context(user, "0.031", available="500"), order_id="resting", now=NOW,
        exposure=account, amending=resting).code == "velocity"
    assert services.pre_trade_decision(
        context(user, "0.03", available="500"), order_id="resting", now=NOW,
        exposure=account, amending=resting).accepted
    # Beyond what is available with its own reservation released: refused.
    assert services.pre_trade_decision(
        context(user, "0.03", available="499.99"), order_id="resting", now=NOW,
        exposure=account, amending=resting).code == "insufficient_funds"


# What the batch fills in from its own state; every other field is the order's.
BATCH_FIELDS = {"reference_price", "marks", "limits", "kill_switch", "position",
                "open_orders", "open_buy_quantity", "open_sell_quantity", "daily_pnl",
                "exposures", "velocity", "account", "margin"}


def test_the_decision_sees_every_field_of_the_order_context(
        btc: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`RiskBatch.decide` builds the full context field by field (faster than
    `dataclasses.replace`): a field added to the order's context must reach the checks."""
    user = trader("fields", USDT="1000")
    order = dataclasses.replace(context(user, "0.01", available="1000"),
                                filled_quantity=Decimal("0.004"), trading=False)
    seen: list[services.PreTradeContext] = []
    monkeypatch.setattr("apps.risk.batch.decide",
                        lambda full, clock_ns: seen.append(full) or services.Decision(True))
    services.pre_trade_decision(order, order_id="o-1", now=NOW)
    [full] = seen
    order_fields = {f.name for f in dataclasses.fields(order)} - BATCH_FIELDS
    assert {name: getattr(full, name) for name in order_fields} == {
        name: getattr(order, name) for name in order_fields}


def test_a_minutes_notional_counts_each_order_once_across_batches(btc: None) -> None:
    """The processor's batches, one after another: a batch applied again decides its
    orders again without counting them twice, an order it now refuses is taken back from
    the minute, and the minute's total (exact, kept in Redis) is what the next batch sees."""
    user = trader("minute", USDT="1000000")
    services.set_limits(actor_id=None, user_id=user, symbol="", values={
        "max_notional_per_minute": Decimal("1500")})
    exposure = AccountExposure(user_id=user, working={}, holdings={"USDT": Decimal("1e6")})

    def batch(*orders: tuple[str, str]) -> dict[str, str]:
        """Decide `orders` (id, quantity) in one batch; their refusal codes ('' accepted)."""
        risk = services.risk_batch(user_ids=[user], days=[NOW.date()], claims=[
            services.VelocityClaim(user, order_id, NOW) for order_id, _ in orders])
        codes = {order_id: risk.decide(context(user, quantity, available="1e6"),
                                       order_id=order_id, now=NOW, exposure=exposure).code
                 for order_id, quantity in orders}
        risk.flush_counters()
        return codes

    assert batch(("a", "0.02")) == {"a": ""}  # 1000
    # Applied again with another order: a is not counted twice; b (600) is over 1500.
    assert batch(("a", "0.02"), ("b", "0.012")) == {"a": "", "b": "velocity"}
    # Applied again, a now smaller (a retried batch may decide differently): 400 + 1100.
    assert batch(("a", "0.008"), ("c", "0.022")) == {"a": "", "c": ""}
    assert batch(("d", "0.00000002")) == {"d": "velocity"}  # 1500 + 0.001
    assert batch(("c", "0.0220000002")) == {"c": "velocity"}  # c refused: taken back
    assert batch(("e", "0.022")) == {"e": ""}  # 400 + 1100 again
    assert batch(("f", "0.00000002")) == {"f": "velocity"}


def test_a_minutes_notional_reads_back_exactly(btc: None) -> None:
    """Notionals whose limbs are all nines, added and taken back in Redis, sum exactly."""
    user = trader("nines", USDT="1000000")
    services.set_limits(actor_id=None, user_id=user, symbol="", values={
        "max_notional_per_minute": Decimal("1e9")})
    exposure = AccountExposure(user_id=user, working={}, holdings={"USDT": Decimal("1e6")})
    quantities = {"a": "0.019999999999999999", "b": "0.000000000000000001",
                  "c": "0.019999999999999999"}
    risk = services.risk_batch(user_ids=[user], days=[NOW.date()], claims=[
        services.VelocityClaim(user, order_id, NOW) for order_id in quantities])
    for order_id, quantity in quantities.items():
        assert risk.decide(context(user, quantity, available="1e6"), order_id=order_id,
                           now=NOW, exposure=exposure).accepted
    risk.flush_counters()
    again = services.risk_batch(user_ids=[user], days=[NOW.date()],
                                claims=[services.VelocityClaim(user, "c", NOW)])
    seen = again.velocity(user, "c", NOW, with_notional=True).notional_this_minute
    # a (1000 - 5E-14; a limb of nine nines) and b (5E-14), without c: exactly 1000.
    assert seen == Decimal("1000")


def test_a_what_if_decides_a_fine_notional_exactly_as_the_processor_does(btc: None) -> None:
    """A price with more digits than the default context's 28: the notional rounded there
    equals the limit, the exact one (as the processor computes it) is above it."""
    user = trader("fine", USDT="1e15")
    services.set_limits(actor_id=None, user_id=user, symbol="", values={
        "max_order_notional": Decimal("100000000000")})
    price, quantity = Decimal("100000000000.000000000000000001"), Decimal(1)
    assert price * quantity == Decimal("100000000000")  # in the default context
    order = services.PreTradeContext(
        user_id=user, symbol="BTC-USDT", side="buy", quantity=quantity, price=price,
        is_limit=True, trading=True, required_asset="USDT", required_amount=Decimal(0),
        available_amount=Decimal("1e15"), reference_price=price)
    assert services.pre_trade_decision(order, order_id="fine", now=NOW, count=False).code == (
        "order_size")
