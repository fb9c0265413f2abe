"""A fresh install has limits: `migrate` installs a global price band (10 % of the
reference price), a maximum order notional and velocity limits, which operators change
through the ops API; a fat-finger buy at ten times the market is refused with
`price_band` by the what-if and by the processor."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.marketdata.cache import price_key
from apps.orders.models import Order
from apps.processing import services as processing
from apps.risk.models import RiskLimit
from oms.auth.roles import Role
from oms.redis import redis_client
from tests.functional.orders.conftest import client_for
from tests.integration.conftest import Harness, place, trader

pytestmark = pytest.mark.django_db(transaction=True)

DEFAULTS = {"price_band": "0.1", "max_order_notional": "1000000",
            "max_orders_per_second": 50, "max_orders_per_minute": 1200}


@pytest.fixture
def fresh_install(btc: None) -> None:
    """The limits as `migrate` leaves them on a new database (the test database starts
    without them: see tests/conftest.py)."""
    RiskLimit.objects.filter(user=None, symbol="").delete()
    call_command("migrate", "risk", "0003", verbosity=0)
    call_command("migrate", "risk", verbosity=0)


def test_migrate_installs_safe_global_limits_that_operators_change(
        fresh_install: None) -> None:
    trader_client = client_for("fresh", Role.TRADER)
    limits = trader_client.get("/api/risk/limits").json()["limits"]
    assert {name: limits[name] for name in DEFAULTS} == DEFAULTS
    ops = client_for("freshops", Role.OPS)
    changed = ops.put("/api/risk/limits", {"symbol": "", "limits": {"price_band": "0.05"}},
                      format="json")
    assert changed.status_code == 200
    assert trader_client.get("/api/risk/limits").json()["limits"]["price_band"] == "0.05"
    call_command("set_limits", "max_orders_per_minute=none", "max_order_notional=5000",
                 verbosity=0)
    limits = trader_client.get("/api/risk/limits").json()["limits"]
    assert (limits["max_orders_per_minute"], limits["max_order_notional"]) == (None, "5000")
    assert limits["max_orders_per_second"] == 50
    # Migrating again leaves an operator's change alone.
    call_command("migrate", "risk", "0003", verbosity=0)
    call_command("migrate", "risk", verbosity=0)
    assert RiskLimit.objects.get(user=None, symbol="").price_band == Decimal("0.05")


def test_a_fat_finger_buy_is_refused_by_the_what_if(fresh_install: None) -> None:
    client = client_for("fatfinger", Role.TRADER)
    processing.deposit(user_id=client.user.pk, asset="USDT",  # type: ignore[attr-defined]
                       amount=Decimal("1000"), reference="fatfinger")
    redis_client().set(price_key("BTC-USDT"), json.dumps({"reference_price": "50000"}))
    order = {"symbol": "BTC-USDT", "side": "buy", "type": "limit", "quantity": "0.001"}
    refused = client.post("/api/risk/validate", {**order, "price": "500000.00"},
                          format="json").json()
    assert refused["code"] == "price_band"
    accepted = client.post("/api/risk/validate", {**order, "price": "54000.00"},
                           format="json").json()
    assert accepted["accepted"] is True


def test_a_fat_finger_buy_is_refused_by_the_processor(fresh_install: None,
                                                      harness: Harness) -> None:
    buyer = trader("fatbuyer", USDT="1000000")
    seller = trader("seller", BTC="1")
    place(seller, "sell", "0.01", "50000.00")
    place(buyer, "buy", "0.01", "50000.00")  # the market: a trade at 50,000
    place(seller, "sell", "0.01", "55000.00")
    fat = place(buyer, "buy", "0.01", "500000.00")
    harness.drain(expect=4)
    order = Order.objects.get(id=fat)
    assert (order.status, order.reason_code, order.filled_quantity) == (
        "REJECTED", "price_band", 0)
