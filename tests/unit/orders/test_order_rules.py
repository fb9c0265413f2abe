"""Every trading rule of order entry, alone, on the pure domain functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.orders.domain.instruments import InstrumentRules
from apps.orders.domain.rules import OrderTerms, check_order, default_time_in_force
from oms.terms import OrderType, Side, TimeInForce

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BTC = InstrumentRules(
    symbol="BTC-USDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
    lot_size=Decimal("0.00001"), min_quantity=Decimal("0.00001"), max_quantity=Decimal("100"),
    min_notional=Decimal("10"), maker_fee_rate=Decimal("0.001"),
    taker_fee_rate=Decimal("0.001"), trading=True,
)
LIMIT = OrderTerms(symbol="BTC-USDT", side=Side.BUY, type=OrderType.LIMIT,
                   time_in_force=TimeInForce.GTC, quantity=Decimal("0.01"),
                   price=Decimal("50000.00"), stop_price=None, post_only=False, expires_at=None)


def codes(terms: OrderTerms, rules: InstrumentRules = BTC) -> list[tuple[str | None, str]]:
    return [(v.field, v.code) for v in check_order(rules, terms, now=NOW)]


def test_a_well_formed_limit_order_passes() -> None:
    assert codes(LIMIT) == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"quantity": Decimal(0)}, [("quantity", "not_positive")]),
    ({"quantity": Decimal("-1")}, [("quantity", "not_positive")]),
    ({"quantity": Decimal("0.000015")}, [("quantity", "lot_size")]),
    ({"quantity": Decimal("100.00001")}, [("quantity", "above_max_quantity")]),
    ({"price": Decimal("50000.001")}, [("price", "tick_size")]),
    ({"price": Decimal(0)}, [("price", "not_positive")]),
    ({"price": None}, [("price", "required")]),
    ({"quantity": Decimal("0.0001"), "price": Decimal("99999.99")}, [(None, "min_notional")]),
    ({"stop_price": Decimal("49000")}, [("stop_price", "not_allowed")]),
    ({"time_in_force": TimeInForce.GTD}, [("expires_at", "required")]),
    ({"time_in_force": TimeInForce.GTD, "expires_at": NOW}, [("expires_at", "not_in_future")]),
    ({"expires_at": NOW + timedelta(hours=1)}, [("expires_at", "not_allowed")]),
    ({"post_only": True, "time_in_force": TimeInForce.IOC},
     [("post_only", "post_only_not_allowed")]),
    ({"type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.GTC},
     [("time_in_force", "not_allowed")]),
    ({"type": OrderType.MARKET}, [("price", "not_allowed"), ("time_in_force", "not_allowed")]),
    ({"type": OrderType.STOP, "price": None, "time_in_force": TimeInForce.IOC},
     [("stop_price", "required")]),
    ({"type": OrderType.STOP_LIMIT}, [("stop_price", "required")]),
    ({"type": OrderType.STOP_LIMIT, "stop_price": Decimal("49000.005")},
     [("stop_price", "tick_size")]),
    ({"type": OrderType.STOP_LIMIT, "stop_price": Decimal("49000"), "post_only": True},
     [("post_only", "post_only_not_allowed")]),
])
def test_each_rule_names_its_field_and_code(
    changes: dict[str, object], expected: list[tuple[str | None, str]]
) -> None:
    assert codes(replace(LIMIT, **changes)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("terms", [
    replace(LIMIT, time_in_force=TimeInForce.GTD, expires_at=NOW + timedelta(minutes=1)),
    replace(LIMIT, post_only=True),
    replace(LIMIT, type=OrderType.MARKET, price=None, time_in_force=TimeInForce.FOK),
    replace(LIMIT, type=OrderType.STOP, price=None, stop_price=Decimal("51000"),
            time_in_force=TimeInForce.IOC),
    replace(LIMIT, type=OrderType.STOP_LIMIT, stop_price=Decimal("49000.5")),
    replace(LIMIT, quantity=Decimal("0.0002"), price=Decimal("50000")),  # notional exactly 10
])
def test_well_formed_variants_pass(terms: OrderTerms) -> None:
    assert codes(terms) == []


def test_a_halted_instrument_refuses_everything() -> None:
    assert codes(LIMIT, replace(BTC, trading=False)) == [("symbol", "symbol_halted")]


@pytest.mark.parametrize(("order_type", "expected"), [
    (OrderType.LIMIT, TimeInForce.GTC), (OrderType.STOP_LIMIT, TimeInForce.GTC),
    (OrderType.MARKET, TimeInForce.IOC), (OrderType.STOP, TimeInForce.IOC),
])
def test_default_time_in_force(order_type: OrderType, expected: TimeInForce) -> None:
    assert default_time_in_force(order_type) == expected
