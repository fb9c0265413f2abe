"""An operator changes an instrument's rules while the processor runs (#14 item 5): a
halt or a resumption takes effect from the next batch, a fee change applies to orders
that come after it while resting orders keep the rates they were accepted (and reserved)
at, and a tick or lot change under resting orders is refused with a reason, since those
orders' prices and quantities are whole ticks and lots of the old sizes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.orders import services as orders
from apps.orders.admin import InstrumentForm
from apps.orders.events import ORDER_CANCEL_REQUESTED
from apps.orders.models import Fill, Instrument, Order
from apps.processing import events as executions
from apps.processing.models import WorkingOrder
from oms.events import new_event
from tests.integration.conftest import trader
from tests.integration.processing.feed import (
    DirectFeed,
    assert_reconciled,
    outbox_of,
    submission,
)

pytestmark = pytest.mark.django_db(transaction=True)
SYMBOL = "BTC-USDT"
BTC_RULES: dict[str, Any] = {"symbol": SYMBOL, "base_asset": "BTC", "quote_asset": "USDT",
             "tick_size": Decimal("0.01"), "lot_size": Decimal("0.00001"),
             "min_quantity": Decimal("0.00001"), "max_quantity": Decimal("1000"),
             "min_notional": Decimal("10"), "maker_fee_rate": Decimal("0.001"),
             "taker_fee_rate": Decimal("0.002")}


def rejections() -> dict[str, str]:
    return {str(e.payload["order_id"]): str(e.payload["reason"])
            for e in outbox_of(executions.ORDER_REJECTED)}


def test_a_halt_applies_to_the_next_batch_and_a_resumption_too(btc: None) -> None:
    feed = DirectFeed()
    buyer = trader("buyer", USDT="100000")
    before = submission(buyer, "buy", "0.01", "40000", symbol=SYMBOL)
    feed.process([before])
    orders.set_instrument_status(symbol=SYMBOL, trading=False)
    # In flight when the symbol was halted: published before, processed after.
    halted = submission(buyer, "buy", "0.01", "40000", symbol=SYMBOL)
    feed.process([halted])
    assert Order.objects.get(id=before.payload["order_id"]).status == "ACCEPTED"
    assert Order.objects.get(id=halted.payload["order_id"]).status == "REJECTED"
    assert rejections() == {halted.payload["order_id"]: "symbol_halted"}
    # A rejected order holds nothing: only the first order's reservation is in the book.
    assert list(WorkingOrder.objects.values_list("order_id", flat=True)) == [
        Order.objects.get(id=before.payload["order_id"]).id]
    orders.set_instrument_status(symbol=SYMBOL, trading=True)
    resumed = submission(buyer, "buy", "0.01", "40000", symbol=SYMBOL)
    feed.process([resumed])
    assert Order.objects.get(id=resumed.payload["order_id"]).status == "ACCEPTED"
    assert feed.set_aside == []
    assert_reconciled()


def test_a_resting_order_keeps_its_fee_rates_and_a_new_order_pays_the_new_ones(
    btc: None,
) -> None:
    feed = DirectFeed()
    buyer, seller = trader("buyer", USDT="100000"), trader("seller", BTC="1")
    resting = submission(buyer, "buy", "0.1", "50000", symbol=SYMBOL)
    feed.process([resting])
    orders.upsert_instrument(**{**BTC_RULES, "maker_fee_rate": Decimal("0.004"),
                                "taker_fee_rate": Decimal("0.005")})
    # Another buyer rests an order at the new rates, then one sell takes both.
    late_buyer = trader("late", USDT="100000")
    late = submission(late_buyer, "buy", "0.1", "50000", symbol=SYMBOL)
    feed.process([late])
    held = dict(WorkingOrder.objects.values_list("order_id", "maker_fee_rate").all())
    assert sorted(held.values()) == [Decimal("0.001"), Decimal("0.004")]
    taker = submission(seller, "sell", "0.2", "50000", symbol=SYMBOL)
    feed.process([taker])
    fees = sorted((str(f.order_id), f.liquidity, f.fee) for f in Fill.objects.all())
    # Each trade's notional is 0.1 x 50000 = 5000 USDT.
    assert fees == sorted([
        (resting.payload["order_id"], "maker", Decimal("5")),  # 0.1 %, as accepted
        (late.payload["order_id"], "maker", Decimal("20")),  # 0.4 %, the new maker rate
        (taker.payload["order_id"], "taker", Decimal("25")),  # 0.5 %, the new taker rate
        (taker.payload["order_id"], "taker", Decimal("25")),
    ])
    assert not WorkingOrder.objects.exists()  # both reservations released in full
    assert feed.set_aside == []
    assert rejections() == {}
    assert_reconciled()


def test_a_tick_or_lot_change_under_resting_orders_is_refused_with_a_reason(
    btc: None,
) -> None:
    feed = DirectFeed()
    buyer = trader("buyer", USDT="100000")
    bid = submission(buyer, "buy", "0.01", "40000", symbol=SYMBOL)
    feed.process([bid])
    for change in ({"tick_size": Decimal("0.1")}, {"lot_size": Decimal("0.001")}):
        with pytest.raises(orders.InstrumentInUse, match="1 working orders"):
            orders.upsert_instrument(**{**BTC_RULES, **change})
        # Nothing changed.
        stored = Instrument.objects.get(symbol=SYMBOL)
        assert (stored.tick_size, stored.lot_size) == (Decimal("0.01"), Decimal("0.00001"))
        # The admin's form refuses it too, naming the reason.
        instrument = Instrument.objects.get(symbol=SYMBOL)
        data = {**{k: str(v) for k, v in BTC_RULES.items()}, **{k: str(v) for k, v
                                                              in change.items()},
                "status": instrument.status, "max_price": "", "max_notional": ""}
        form = InstrumentForm(data=data, instance=instrument)
        assert not form.is_valid()
        assert "working orders" in str(form.errors)
    # A fee change under resting orders is allowed (and same tick and lot are no change),
    # in the service and in the admin.
    orders.upsert_instrument(**{**BTC_RULES, "maker_fee_rate": Decimal("0.0005")})
    instrument = Instrument.objects.get(symbol=SYMBOL)
    fee_change = {**{k: str(v) for k, v in BTC_RULES.items()}, "maker_fee_rate": "0.0004",
                  "status": instrument.status, "max_price": "", "max_notional": ""}
    assert InstrumentForm(data=fee_change, instance=instrument).is_valid()
    # With nothing working any more, the tick may change.
    feed.process([new_event(ORDER_CANCEL_REQUESTED, {
        "order_id": bid.payload["order_id"], "user_id": buyer, "symbol": SYMBOL,
        "requested_by": buyer, "reason": "user"})])
    assert Order.objects.get(id=bid.payload["order_id"]).status == "CANCELLED"
    assert orders.upsert_instrument(**{**BTC_RULES, "tick_size": Decimal("0.1")}).tick_size == (
        Decimal("0.1"))
