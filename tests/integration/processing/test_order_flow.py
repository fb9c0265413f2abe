"""The processor against the real broker and database: orders cross, fills move money in
the ledger, positions and read models follow, and every change is an `executions` event
in the outbox."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from apps.orders import services as orders
from apps.orders.models import Fill, Order
from apps.orders.selectors import order_visible_to
from apps.processing import selectors
from apps.processing.models import OutboxEvent, WorkingOrder
from apps.risk.selectors import positions_of
from tests.integration.conftest import Harness, place, trader


def balances(user_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.available, b.reserved) for b in selectors.balances_of(user_id=user_id)}


def outbox_types(order_id: str) -> list[str]:
    types = []
    for row in OutboxEvent.objects.order_by("id"):
        body = json.loads(bytes(row.body))
        if body["payload"].get("order_id") == order_id:
            types.append(body["type"])
    return types


@pytest.mark.django_db(transaction=True)
def test_two_traders_cross_and_settle(harness: Harness) -> None:
    seller = trader("seller", BTC="1")
    buyer = trader("buyer", USDT="100000")
    ask = place(seller, "sell", "0.5", "50000.00")
    harness.drain(expect=1)
    assert balances(seller)["BTC"] == (Decimal("0.5"), Decimal("0.5"))
    assert Order.objects.get(id=ask).status == "ACCEPTED"

    bid = place(buyer, "buy", "0.2", "50100.00")
    harness.drain(expect=1)
    # Trade 0.2 at the maker's 50000: notional 10000; maker fee 0.1 %, taker fee 0.2 %.
    assert Order.objects.get(id=bid).status == "SETTLED"
    sell_order = Order.objects.get(id=ask)
    assert sell_order.status == "PARTIALLY_FILLED"
    assert sell_order.filled_quantity == Decimal("0.2")
    assert balances(buyer) == {"BTC": (Decimal("0.2"), Decimal(0)),
                               "USDT": (Decimal("89980"), Decimal(0))}
    assert balances(seller) == {"BTC": (Decimal("0.5"), Decimal("0.3")),
                                "USDT": (Decimal("9990"), Decimal(0))}
    [buy_fill] = Fill.objects.filter(order_id=bid)
    assert (buy_fill.price, buy_fill.quantity, buy_fill.fee, buy_fill.liquidity) == (
        Decimal("50000"), Decimal("0.2"), Decimal("20"), "taker")
    assert outbox_types(bid) == ["order.accepted", "order.fill", "order.settled"]
    assert outbox_types(ask) == ["order.accepted", "order.fill"]
    [position] = positions_of(user_id=buyer)
    assert (position.quantity, position.average_entry_price) == (Decimal("0.2"), Decimal("50000"))
    assert WorkingOrder.objects.filter(order_id=ask).exists()
    assert not WorkingOrder.objects.filter(order_id=bid).exists()


@pytest.mark.django_db(transaction=True)
def test_insufficient_funds_is_rejected_and_reserves_nothing(harness: Harness) -> None:
    poor = trader("poor", USDT="100")
    order_id = place(poor, "buy", "0.01", "50000.00")
    harness.drain(expect=1)
    order = Order.objects.get(id=order_id)
    assert (order.status, order.reason_code) == ("REJECTED", "insufficient_funds")
    assert balances(poor) == {"USDT": (Decimal("100"), Decimal(0))}
    assert outbox_types(order_id) == ["order.rejected"]


@pytest.mark.django_db(transaction=True)
def test_cancel_releases_the_reservation(harness: Harness) -> None:
    buyer = trader("buyer", USDT="1000")
    order_id = place(buyer, "buy", "0.01", "50000.00")
    harness.drain(expect=1)
    assert balances(buyer)["USDT"] == (Decimal("499"), Decimal("501"))  # 500 + 0.2 % fee
    view = order_visible_to(order_id=uuid.UUID(order_id), user_id=buyer, sees_all=False)
    assert view is not None
    orders.request_cancel(order=view, requested_by=buyer)
    harness.drain(expect=1)
    assert Order.objects.get(id=order_id).status == "CANCELLED"
    assert balances(buyer)["USDT"] == (Decimal("1000"), Decimal(0))
    assert outbox_types(order_id) == ["order.accepted", "order.cancelled"]


@pytest.mark.django_db(transaction=True)
def test_market_buy_sweeps_with_protection_and_releases_the_rest(harness: Harness) -> None:
    seller = trader("seller", BTC="1")
    buyer = trader("buyer", USDT="100000")
    place(seller, "sell", "0.1", "50000.00")
    place(seller, "sell", "0.1", "50010.00")
    harness.drain(expect=2)
    market = place(buyer, "buy", "0.3", order_type="market")
    harness.drain(expect=1)
    order = Order.objects.get(id=market)
    assert order.status == "CANCELLED"
    assert order.filled_quantity == Decimal("0.2")
    assert order.reason_code == "ioc_remainder"
    # Paid 5000 + 5001 + 0.2 % taker fees (10 + 10.002); nothing stays reserved.
    assert balances(buyer)["USDT"] == (Decimal("100000") - Decimal("10001") - Decimal("20.002"),
                                       Decimal(0))
    assert balances(buyer)["BTC"] == (Decimal("0.2"), Decimal(0))


@pytest.mark.django_db(transaction=True)
def test_restart_rebuilds_the_book_from_the_database(harness: Harness) -> None:
    seller = trader("seller", BTC="1")
    buyer = trader("buyer", USDT="100000")
    ask = place(seller, "sell", "0.3", "50000.00")
    harness.drain(expect=1)
    group = harness.processor.group
    harness.close()

    restarted = Harness(group, new=False)
    try:
        bid = place(buyer, "buy", "0.3", "50000.00")
        restarted.drain(expect=1)
    finally:
        restarted.close()
    assert Order.objects.get(id=bid).status == "SETTLED"
    assert Order.objects.get(id=ask).status == "SETTLED"


def prices_events(symbol: str = "BTC-USDT") -> list[dict[str, object]]:
    bodies = [json.loads(bytes(row.body)) for row in
              OutboxEvent.objects.filter(topic="prices", key=symbol).order_by("id")]
    return [{"type": body["type"], **body["payload"]} for body in bodies]


@pytest.mark.django_db(transaction=True)
def test_book_changes_and_trades_are_market_data_on_prices(harness: Harness) -> None:
    seller = trader("seller", BTC="1")
    buyer = trader("buyer", USDT="100000")
    place(seller, "sell", "0.5", "50000.00")
    place(seller, "sell", "0.2", "50010.00")
    harness.drain(expect=2)
    place(buyer, "buy", "0.6", "50005.00")  # takes 0.5 at 50000, rests 0.1 at 50005
    harness.drain(expect=1)
    events = prices_events()
    # A new book starts with a snapshot, so market data has a starting point at once; then
    # each batch's changes to the book are one delta (conflated), after its trades.
    assert events[0]["type"] == "book.snapshot"
    assert events[0]["asks"][0] == ["50000", "0.5"]
    *_, trade, last = events
    assert (trade["type"], trade["price"], trade["quantity"], trade["taker_side"]) == (
        "trade", "50000", "0.5", "buy")
    assert (last["type"], last["asks"], last["bids"]) == (
        "book.delta", [["50000", "0"]], [["50005", "0.1"]])
    sequences = [e["sequence"] for e in events if e["type"] != "trade"]
    assert sequences == list(range(1, len(sequences) + 1))


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_plus_deltas_rebuilds_the_book(harness: Harness) -> None:
    seller = trader("seller", BTC="10")
    buyer = trader("buyer", USDT="1000000")
    for n in range(5):
        place(seller, "sell", "0.1", f"{50000 + 10 * n}.00")
        place(buyer, "buy", "0.1", f"{49990 - 10 * n}.00")
    harness.drain(expect=10)
    place(buyer, "buy", "0.25", "50010.00")
    harness.drain(expect=1)
    book: dict[str, dict[str, str]] = {"bids": {}, "asks": {}}
    for event in prices_events():
        if event["type"] == "book.snapshot":
            book = {side: dict(event[side]) for side in ("bids", "asks")}  # type: ignore[arg-type]
        elif event["type"] == "book.delta":
            for side in ("bids", "asks"):
                for price, quantity in event[side]:  # type: ignore[attr-defined]
                    if quantity == "0":
                        book[side].pop(price, None)
                    else:
                        book[side][price] = quantity
    engine_book = harness.processor.books["BTC-USDT"]
    from apps.processing.domain.orders import Side

    assert sorted(book["asks"].items()) == sorted(map(tuple, engine_book.levels(Side.SELL)))
    assert sorted(book["bids"].items()) == sorted(map(tuple, engine_book.levels(Side.BUY)))
