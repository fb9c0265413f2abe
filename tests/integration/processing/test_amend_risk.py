"""An amend runs the same pre-trade decision as a new order on its new terms: refused, it
is said on `executions` with its code and the order stays as it was (quantity, price,
reservation, no fill). These go through the real processor and broker."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from apps.orders import services as orders
from apps.orders.api.order_response import represent
from apps.orders.models import Fill, Order
from apps.orders.selectors import order_visible_to
from apps.processing import selectors
from apps.processing.models import OutboxEvent
from apps.risk import services as risk
from oms.kafka.topics import EXECUTIONS
from tests.integration.conftest import Harness, place, trader

pytestmark = pytest.mark.django_db(transaction=True)


def view(order_id: str, user_id: int) -> orders.OrderView:
    found = order_visible_to(order_id=uuid.UUID(order_id), user_id=user_id, sees_all=False)
    assert found is not None
    return found


def executions_of(order_id: str) -> list[dict[str, object]]:
    """The order's history as `executions` tells it (the outbox, in order)."""
    bodies = [json.loads(bytes(row.body)) for row in
              OutboxEvent.objects.filter(topic=EXECUTIONS).order_by("id")]
    return [body for body in bodies if body["payload"].get("order_id") == order_id]


def usdt(user_id: int) -> tuple[Decimal, Decimal]:
    [balance] = [b for b in selectors.balances_of(user_id=user_id) if b.asset == "USDT"]
    return balance.available, balance.reserved


def assert_refused_and_unchanged(order_id: str, user_id: int, code: str,
                                 funds: tuple[Decimal, Decimal]) -> None:
    last = executions_of(order_id)[-1]
    assert (last["type"], last["payload"].get("request"), last["payload"].get("reason")) == (
        "order.rejected", "amend", code)
    order = Order.objects.get(id=order_id)
    assert (order.status, order.quantity, order.price, order.filled_quantity) == (
        "ACCEPTED", Decimal("0.01"), Decimal("49000"), 0)
    # A client that does not follow the stream reads the refusal in the order's record.
    refusal = represent(view(order_id, user_id))["last_refusal"]
    assert refusal is not None
    assert (refusal["request"], refusal["reason"]) == ("amend", code)
    assert not Fill.objects.filter(order_id=order_id).exists()
    assert usdt(user_id) == funds


def test_an_amend_through_the_order_size_limit_is_refused(harness: Harness) -> None:
    buyer = trader("amender", USDT="1000000")
    seller = trader("seller", BTC="1")
    risk.set_limits(actor_id=None, user_id=buyer, symbol="",
                    values={"max_order_quantity": Decimal("0.01")})
    bid = place(buyer, "buy", "0.01", "49000.00")
    place(seller, "sell", "0.5", "50000.00")
    harness.drain(expect=2)
    before = usdt(buyer)
    # Fifty times the size at a crossing price: it would trade 0.5 at once.
    orders.request_amend(order=view(bid, buyer), requested_by=buyer,
                         price=Decimal("50000.00"), quantity=Decimal("0.5"))
    harness.drain(expect=1)
    assert_refused_and_unchanged(bid, buyer, "order_size", before)


def test_an_amend_on_a_halted_symbol_is_refused(harness: Harness) -> None:
    buyer = trader("amender", USDT="1000000")
    seller = trader("seller", BTC="1")
    bid = place(buyer, "buy", "0.01", "49000.00")
    place(seller, "sell", "0.5", "50000.00")
    harness.drain(expect=2)
    before = usdt(buyer)
    orders.set_instrument_status(symbol="BTC-USDT", trading=False)
    orders.request_amend(order=view(bid, buyer), requested_by=buyer,
                         price=Decimal("50000.00"), quantity=None)
    harness.drain(expect=1)
    assert_refused_and_unchanged(bid, buyer, "symbol_halted", before)


def test_a_refusal_stays_in_the_record_until_another_request_is_refused(
        harness: Harness) -> None:
    buyer = trader("amender", USDT="1000000")
    seller = trader("seller", BTC="1")
    risk.set_limits(actor_id=None, user_id=buyer, symbol="",
                    values={"max_order_quantity": Decimal("0.01")})
    bid = place(buyer, "buy", "0.01", "49000.00")
    harness.drain(expect=1)
    assert view(bid, buyer).last_refusal is None
    orders.request_amend(order=view(bid, buyer), requested_by=buyer, price=None,
                         quantity=Decimal("0.5"))
    harness.drain(expect=1)
    refused = view(bid, buyer).last_refusal
    assert refused is not None
    assert (refused.request, refused.reason) == ("amend", "order_size")
    # An amend that applies changes the order and leaves the last refusal as it was.
    orders.request_amend(order=view(bid, buyer), requested_by=buyer,
                         price=Decimal("49500.00"), quantity=None)
    harness.drain(expect=1)
    assert view(bid, buyer).price == Decimal("49500")
    assert view(bid, buyer).last_refusal == refused
    # A new owner rebuilds the book from the rows (it does not know the refusal); the fill
    # it then records keeps it.
    partitions = list(harness.processor.epochs)
    harness.processor.release(partitions)
    harness.processor.claim(partitions)
    place(seller, "sell", "0.01", "49500.00")
    harness.drain(expect=1)
    filled = view(bid, buyer)
    assert filled.filled_quantity == Decimal("0.01")
    assert filled.last_refusal == refused
