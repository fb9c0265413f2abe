"""Buying power of leveraged accounts over every symbol, with the real ledger, database and
Redis: working orders of all symbols and the loans count, collateral is marked at the
feeds' reference price (not at a last trade two accounts can move), and the exposures of
a set of accounts are read in a fixed number of queries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.marketdata.cache import price_key
from apps.orders import services as orders
from apps.orders.models import Order
from apps.orders.services import OrderTerms
from apps.processing import selectors
from apps.risk import services
from apps.risk.domain.exposure import WorkingOrders
from oms.redis import redis_client
from tests.integration.conftest import Harness, trader

pytestmark = pytest.mark.django_db(transaction=True)

PRICES = {"BTC-USDT": "50000.00", "ETH-USDT": "3000.00", "SOL-USDT": "150.00"}
# 45k of notional in each symbol.
QUANTITIES = {"BTC-USDT": "0.9", "ETH-USDT": "15", "SOL-USDT": "300"}


@pytest.fixture
def three_symbols(btc: None) -> None:
    for symbol, base in (("ETH-USDT", "ETH"), ("SOL-USDT", "SOL")):
        orders.upsert_instrument(
            symbol=symbol, base_asset=base, quote_asset="USDT", tick_size=Decimal("0.01"),
            lot_size=Decimal("0.001"), min_quantity=Decimal("0.001"),
            max_quantity=Decimal("100000"), min_notional=Decimal("10"),
            maker_fee_rate=Decimal("0.001"), taker_fee_rate=Decimal("0.002"))


def terms(symbol: str, side: str, quantity: str, price: str) -> OrderTerms:
    return OrderTerms(symbol=symbol, side=side, type="limit", time_in_force="GTC",
                      quantity=Decimal(quantity), price=Decimal(price), stop_price=None,
                      post_only=False, expires_at=None)


def place_in(user_id: int, symbol: str, side: str, quantity: str, price: str) -> str:
    import uuid

    order = orders.place_order(user_id=user_id, order_id=uuid.uuid4(), client_order_id=None,
                               terms=terms(symbol, side, quantity, price))
    return str(order.id)


def status(order_id: str) -> tuple[str, str]:
    order = Order.objects.get(id=order_id)
    return order.status, order.reason_code


def leveraged(name: str, leverage: str = "5", **funds: str) -> int:
    user = trader(name, **funds)
    services.set_leverage(actor_id=None, user_id=user, leverage=Decimal(leverage))
    return user


def test_what_if_counts_working_orders_of_every_symbol(harness: Harness,
                                                       three_symbols: None) -> None:
    user = leveraged("levered", USDT="10000")
    first = place_in(user, "BTC-USDT", "buy", QUANTITIES["BTC-USDT"], PRICES["BTC-USDT"])
    harness.drain(expect=1)
    assert status(first) == ("ACCEPTED", "")
    now = datetime.now(UTC)
    eth = services.validate_order(user_id=user, now=now, terms=terms(
        "ETH-USDT", "buy", QUANTITIES["ETH-USDT"], PRICES["ETH-USDT"]))
    assert (eth.accepted, eth.code) == (False, "insufficient_funds")
    # 45k working + 4.5k more is within 10k x 5.
    assert services.validate_order(user_id=user, now=now, terms=terms(
        "SOL-USDT", "buy", "30", PRICES["SOL-USDT"])).accepted


def test_three_symbols_each_under_the_limit_cannot_borrow_past_it(
        harness: Harness, three_symbols: None) -> None:
    """Through the processor: needs it to pass `account_exposures` to the decision."""
    user = leveraged("levered", USDT="10000")
    placed = [place_in(user, symbol, "buy", QUANTITIES[symbol], PRICES[symbol])
              for symbol in ("BTC-USDT", "ETH-USDT", "SOL-USDT")]
    harness.drain(expect=3)
    # Each symbol is its own partition: whichever comes first is the one accepted.
    assert sorted(status(order_id) for order_id in placed) == [
        ("ACCEPTED", ""), ("REJECTED", "insufficient_funds"),
        ("REJECTED", "insufficient_funds")]


def test_collateral_is_marked_at_the_feed_reference_not_a_moved_last_trade(
        harness: Harness, three_symbols: None) -> None:
    user = leveraged("collateral", BTC="1")
    pump_seller, pump_buyer = trader("pumps", BTC="1"), trader("pumpb", USDT="1000000")
    # Two accounts trade 0.001 BTC at ten times the market: the last trade is 500,000.
    place_in(pump_seller, "BTC-USDT", "sell", "0.001", "500000.00")
    place_in(pump_buyer, "BTC-USDT", "buy", "0.001", "500000.00")
    harness.drain(expect=2)
    assert selectors.marks()["BTC-USDT"] == Decimal("500000")
    redis_client().set(price_key("BTC-USDT"), json.dumps({"reference_price": "50000"}))
    now = datetime.now(UTC)
    # Equity 1 BTC at 50,000: 250k of buying power at 5x, not 2.5M.
    big = services.validate_order(user_id=user, now=now,
                             terms=terms("ETH-USDT", "buy", "100", PRICES["ETH-USDT"]))
    assert (big.accepted, big.code) == (False, "insufficient_funds")
    assert services.validate_order(user_id=user, now=now,
                              terms=terms("ETH-USDT", "buy", "80", PRICES["ETH-USDT"])).accepted


def test_exposures_of_a_set_of_accounts_in_fixed_queries(
        harness: Harness, three_symbols: None, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    users = [leveraged(f"set{n}", USDT="45000", ETH="10") for n in range(3)]
    for user in users:
        place_in(user, "BTC-USDT", "buy", "0.1", "40000.00")
        place_in(user, "ETH-USDT", "sell", "2", "4000.00")
    place_in(users[0], "SOL-USDT", "buy", "300", "150.00")  # borrows 45090 - 40992
    harness.drain(expect=7)
    with django_assert_max_num_queries(2):
        exposures = selectors.account_exposures(user_ids=users)
    first = exposures[users[0]]
    assert first.working["BTC-USDT"] == WorkingOrders(
        orders=1, buy_quantity=Decimal("0.1"), buy_notional=Decimal("4000"))
    assert first.working["ETH-USDT"] == WorkingOrders(
        orders=1, sell_quantity=Decimal("2"), sell_notional=Decimal("8000"))
    assert first.open_orders == 3
    assert first.loans == {"USDT": Decimal("4098")}
    assert first.holdings == {"USDT": Decimal("49098"), "ETH": Decimal("10")}
    assert exposures[users[1]].loans == {}
    assert exposures[users[1]].open_orders == 2
