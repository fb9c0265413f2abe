"""Whatever order entry accepts, the processor can process (#14 item 4): an order that
passes `POST /api/orders` (its serializer and the instrument's rules, `check_order`) on
any instrument the venue may list (tick and lot down to 1e-8, fee rates from a rebate up
to half the notional, prices, quantities and notionals up to `oms.money`'s bounds) goes
through the processor's flow, risk decision, matching and settlement without an
exception: it is never set aside. Each example rests a counter order first, so the
order under test trades and settles when it can."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from apps.orders import services as orders
from apps.orders.domain.rules import check_order
from apps.orders.models import Order
from oms.money import MAX_NOTIONAL, MAX_PRICE, MAX_QUANTITY, format_amount
from tests.integration.conftest import trader
from tests.integration.processing.feed import DirectFeed, assert_reconciled, submission

pytestmark = pytest.mark.django_db(transaction=True)
STEPS = [Decimal(1).scaleb(-places) * factor for places in range(9) for factor in (1, 5)
         if Decimal(1).scaleb(-places) * factor >= Decimal("1e-8")]
MAKER_FEES = [Decimal(r) for r in ("-0.0002", "0", "0.0001", "0.001", "0.01", "0.5")]
TAKER_FEES = [Decimal(r) for r in ("0.0002", "0.001", "0.002", "0.01", "0.5")]
# Enough for any accepted order: a notional of MAX_NOTIONAL plus a fee of half of it.
QUOTE_FUNDS = format_amount(MAX_NOTIONAL * 2)
BASE_FUNDS = format_amount(MAX_QUANTITY * 2)


@st.composite
def instruments(draw: st.DrawFn) -> dict[str, Any]:
    tick, lot = draw(st.sampled_from(STEPS)), draw(st.sampled_from(STEPS))
    max_quantity = lot * draw(st.integers(1, int(MAX_QUANTITY / lot)))
    return {"tick_size": tick, "lot_size": lot, "min_quantity": lot,
            "max_quantity": max_quantity,
            "min_notional": draw(st.sampled_from([Decimal(0), Decimal("1e-8"), Decimal(10)])),
            "maker_fee_rate": draw(st.sampled_from(MAKER_FEES)),
            "taker_fee_rate": draw(st.sampled_from(TAKER_FEES))}


def on_step(draw: st.DrawFn, step: Decimal, top: Decimal) -> Decimal:
    """A multiple of `step` in (0, top], the ends as likely as the middle."""
    return step * draw(st.integers(1, max(1, int(top / step))))


@st.composite
def order_requests(draw: st.DrawFn, rules: dict[str, Any]) -> dict[str, Any]:
    """An order request in the API's JSON shape, within the instrument's steps and the
    global bounds (whether entry accepts it is for `check_order` to say)."""
    order_type = draw(st.sampled_from(["limit", "market", "stop", "stop_limit"]))
    price = on_step(draw, rules["tick_size"], MAX_PRICE)
    # Quantities up to the most the notional bound allows at that price.
    top = min(rules["max_quantity"], MAX_NOTIONAL / price)
    quantity = on_step(draw, rules["lot_size"], top)
    request: dict[str, Any] = {
        "side": draw(st.sampled_from(["buy", "sell"])), "type": order_type,
        "time_in_force": draw(st.sampled_from(
            ["IOC", "FOK"] if order_type in ("market", "stop") else ["GTC", "IOC", "FOK", "GTD"])),
        "quantity": format_amount(quantity),
        "price": format_amount(price) if order_type in ("limit", "stop_limit") else None,
        "stop_price": (format_amount(on_step(draw, rules["tick_size"], MAX_PRICE))
                       if order_type in ("stop", "stop_limit") else None),
        "post_only": draw(st.booleans()) if order_type == "limit" else False,
    }
    if request["time_in_force"] == "GTD":
        request["expires_at"] = (datetime.now(UTC) + timedelta(
            seconds=draw(st.integers(60, 10**8)))).isoformat()
    return {**request, "counter_price": format_amount(price)}


def test_every_order_entry_accepts_goes_through_the_processor_without_an_exception() -> None:
    feed = DirectFeed()
    symbols = itertools.count()
    outcomes: Counter[str] = Counter()

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(data=st.data())
    def one_order(data: st.DataObject) -> None:
        rules = data.draw(instruments())
        request = data.draw(order_requests(rules))
        counter_price = request.pop("counter_price")
        symbol = f"H{next(symbols)}-USDT"
        base = symbol.split("-")[0]
        try:
            terms = orders.parse_order_request({**request, "symbol": symbol})
        except ValidationError:
            assume(False)
            return
        instrument = orders.upsert_instrument(symbol=symbol, base_asset=base,
                                              quote_asset="USDT", **rules)
        assume(not check_order(instrument, terms, now=datetime.now(UTC)))
        maker = trader("maker", USDT=QUOTE_FUNDS, **{base: BASE_FUNDS})
        taker = trader("taker", USDT=QUOTE_FUNDS, **{base: BASE_FUNDS})
        # A counter order rests at the order's price (or at a price of its own for a
        # market or stop order), as large as the order, so that it can trade in full.
        counter = submission(maker, "sell" if terms.side == "buy" else "buy", terms.quantity,
                             counter_price, symbol=symbol)
        order = submission(taker, terms.side, terms.quantity, terms.price, symbol=symbol,
                           order_type=terms.type, time_in_force=terms.time_in_force,
                           stop_price=terms.stop_price, post_only=terms.post_only,
                           expires_at=terms.expires_at)
        feed.process([counter, order])
        assert feed.set_aside == [], [reason for _, reason in feed.set_aside]
        ids = [counter.payload["order_id"], order.payload["order_id"]]
        recorded = Order.objects.filter(id__in=ids).exclude(status="NEW")
        assert {str(i) for i in recorded.values_list("id", flat=True)} == set(ids)
        status = Order.objects.get(id=order.payload["order_id"]).status
        event(f"{terms.type} {terms.time_in_force}: {status}")
        outcomes[status] += 1

    one_order()
    # The examples reached the matching and the settlement, not only the risk check.
    assert outcomes["SETTLED"] + outcomes["PARTIALLY_FILLED"] > 0, outcomes
    assert_reconciled()
