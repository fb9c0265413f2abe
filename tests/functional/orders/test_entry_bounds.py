"""Price, quantity and notional have maximums at entry (issue 14, item 4): the global
bounds (`OMS_MAX_*`) and an instrument's own narrower ones. A breach is a 400 naming the
field, on placement and on amendment, and publishes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from apps.orders.models import Instrument
from apps.orders.selectors import forget_instrument_rules
from tests.functional.orders.conftest import OrdersTopic, limit_order

pytestmark = pytest.mark.django_db


def error_codes(response: object) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in response.json()["errors"]]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("body", "expected"), [
    # The case: 1 BTC at 1e13 got 202, then broke the processor's arithmetic.
    (limit_order(quantity="1", price="10000000000000"), ("price", "above_max_price")),
    (limit_order(type="stop_limit", price="100", stop_price="10000000000000"),
     ("stop_price", "above_max_price")),
    (limit_order(type="stop", price=None, stop_price="99999999999999999999"),
     ("stop_price", "above_max_price")),
    (limit_order(quantity="1000000000.00001", price="0.01"),
     ("quantity", "above_max_quantity")),
])
def test_amounts_beyond_the_global_bounds_are_400_and_publish_nothing(
    alice: APIClient, orders_topic: OrdersTopic, body: dict[str, object],
    expected: tuple[str, str],
) -> None:
    Instrument.objects.filter(symbol="BTC-USDT").update(max_quantity=Decimal("1e15"))
    forget_instrument_rules()
    before = orders_topic.end_offsets()
    response = alice.post("/api/orders", body, format="json")
    assert response.status_code == 400, response.content
    assert expected in error_codes(response)
    assert all(e["message"] for e in response.json()["errors"])
    assert orders_topic.end_offsets() == before


@override_settings(OMS_MAX_NOTIONAL="1000000")
def test_the_notional_maximum_comes_from_settings(alice: APIClient) -> None:
    forget_instrument_rules()
    over = alice.post("/api/orders", limit_order(quantity="21", price="50000"), format="json")
    assert over.status_code == 400
    assert error_codes(over) == [(None, "above_max_notional")]
    assert alice.post("/api/orders", limit_order(quantity="20", price="50000"),
                      format="json").status_code == 202


def test_an_instrument_narrows_the_bounds_and_amend_checks_them_too(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    Instrument.objects.filter(symbol="BTC-USDT").update(max_price=Decimal("60000"),
                                                        max_notional=Decimal("100000"))
    forget_instrument_rules()
    rules = alice.get("/api/instruments").json()
    btc = next(item for item in rules if item["symbol"] == "BTC-USDT")
    assert (btc["max_price"], btc["max_notional"]) == ("60000", "100000")
    assert error_codes(alice.post("/api/orders", limit_order(price="60000.01"),
                                  format="json")) == [("price", "above_max_price")]
    assert error_codes(alice.post("/api/orders", limit_order(quantity="2", price="50001"),
                                  format="json")) == [(None, "above_max_notional")]
    placed = alice.post("/api/orders", limit_order(), format="json").json()
    before = orders_topic.end_offsets()
    for change, expected in [({"price": "10000000000000"}, ("price", "above_max_price")),
                             ({"quantity": "1000000000000"}, ("quantity", "above_max_quantity")),
                             ({"quantity": "3"}, (None, "above_max_notional"))]:
        response = alice.patch(f"/api/orders/{placed['id']}", change, format="json")
        assert response.status_code == 400, response.content
        assert error_codes(response) == [expected]
    assert orders_topic.end_offsets() == before


@pytest.mark.parametrize("rules", [
    {"tick_size": Decimal("1e-9")}, {"lot_size": Decimal("1.5e-8")},
    {"maker_fee_rate": Decimal(1)}, {"taker_fee_rate": Decimal(-1)},
    {"max_price": Decimal(0)}, {"max_notional": Decimal("-1")},
])
def test_an_instrument_outside_what_the_money_context_is_sized_for_is_refused(
    rules: dict[str, Decimal],
) -> None:
    values = {"symbol": "FINE-USDT", "base_asset": "FINE", "quote_asset": "USDT",
              "tick_size": Decimal("1e-8"), "lot_size": Decimal("1e-8"),
              "min_quantity": Decimal("1e-8"), "max_quantity": Decimal(1000),
              "min_notional": Decimal(0), **rules}
    with pytest.raises(IntegrityError), transaction.atomic():
        Instrument.objects.create(**values)
    rules_ok = {**values, **{name: None for name in ("max_price", "max_notional")
                             if name in rules}}
    rules_ok.update({name: Decimal("1e-8") for name in ("tick_size", "lot_size")})
    rules_ok.update({name: Decimal("0.001") for name in ("maker_fee_rate", "taker_fee_rate")})
    Instrument.objects.create(**rules_ok)
