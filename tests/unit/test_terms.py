"""The order terms and statuses (`oms.terms`) are their wire strings: the API, the events
and the database see exactly the text they saw before the terms were enums (#19)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from psycopg.adapt import PyFormat, Transformer

from apps.orders import events as order_events
from apps.orders.api.serializers import OrderSerializer, PlaceOrderSerializer
from apps.orders.models import Order
from apps.orders.selectors import OrderView, Refusal
from apps.processing import events as executions
from apps.processing.domain.lifecycle import OrderActor
from apps.processing.domain.orders import OrderSpec
from oms.events import new_event
from oms.events.envelope import InvalidEvent
from oms.events.registry import validated_json
from oms.terms import (
    ORDER_STATUS_BY_VALUE,
    ORDER_TYPE_BY_VALUE,
    SIDE_BY_VALUE,
    TIME_IN_FORCE_BY_VALUE,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    choices,
    wire_values,
)

WIRE = {
    Side: ["buy", "sell"],
    OrderType: ["limit", "market", "stop", "stop_limit"],
    TimeInForce: ["GTC", "IOC", "FOK", "GTD"],
    OrderStatus: ["NEW", "ACCEPTED", "REJECTED", "PARTIALLY_FILLED", "FILLED", "SETTLED",
                  "CANCELLED"],
}
BY_VALUE = {Side: SIDE_BY_VALUE, OrderType: ORDER_TYPE_BY_VALUE,
            TimeInForce: TIME_IN_FORCE_BY_VALUE, OrderStatus: ORDER_STATUS_BY_VALUE}


@pytest.mark.parametrize("term", list(WIRE))
def test_each_member_is_its_wire_string(term: type[Side]) -> None:
    assert wire_values(term) == WIRE[term]
    assert all(type(text) is str for text in wire_values(term))
    for member in term:
        assert member == member.value
        assert str(member) == member.value
        assert f"{member}" == member.value
        assert BY_VALUE[term][member.value] is member


@pytest.mark.parametrize("term", list(WIRE))
def test_json_and_the_database_take_a_member_as_its_text(term: type[Side]) -> None:
    member = next(iter(term))
    assert json.dumps({"v": member}) == json.dumps({"v": member.value})
    assert orjson.dumps({"v": member}) == orjson.dumps({"v": member.value})
    for form in (PyFormat.TEXT, PyFormat.BINARY):
        assert bytes(Transformer().get_dumper(member, form).dump(member)) == \
            member.value.encode()


def test_the_engine_and_the_actor_speak_the_same_terms() -> None:
    assert OrderSpec("o", "a", Side.BUY, OrderType.LIMIT, 1).tif is TimeInForce.GTC
    assert OrderActor(order_id="o", quantity=Decimal(1)).status is OrderStatus.NEW


def test_the_event_schemas_list_the_wire_strings() -> None:
    assert WIRE[Side] == order_events.SIDES
    assert WIRE[OrderType] == order_events.ORDER_TYPES
    assert WIRE[TimeInForce] == order_events.TIMES_IN_FORCE


def test_an_event_built_from_members_carries_the_wire_strings() -> None:
    payload = {
        "order_id": str(uuid.uuid4()), "user_id": 1, "symbol": "BTC-USDT",
        "fill_id": str(uuid.uuid4()), "trade_id": str(uuid.uuid4()), "side": Side.SELL,
        "price": "1", "quantity": "1", "fee": "0", "fee_asset": "USDT", "liquidity": "maker",
        "filled_quantity": "1", "remaining_quantity": "1", "average_fill_price": "1",
        "status": OrderStatus.PARTIALLY_FILLED, "counterparty_order_id": str(uuid.uuid4()),
    }
    body = json.loads(validated_json(new_event(executions.ORDER_FILL, payload)))
    assert (body["payload"]["side"], body["payload"]["status"]) == ("sell", "PARTIALLY_FILLED")
    with pytest.raises(InvalidEvent):
        validated_json(new_event(executions.ORDER_FILL, {**payload, "side": "SELL"}))


def test_the_read_model_choices_are_the_terms() -> None:
    fields = {field.name: field for field in Order._meta.get_fields()}
    for name, term in (("side", Side), ("type", OrderType), ("time_in_force", TimeInForce),
                       ("status", OrderStatus)):
        assert fields[name].choices == choices(term)
        assert [value for value, _ in choices(term)] == WIRE[term]
    assert ("PARTIALLY_FILLED", "Partially Filled") in choices(OrderStatus)
    assert fields["status"].default == "NEW"


def test_order_entry_turns_text_into_members_and_shows_text() -> None:
    request = PlaceOrderSerializer(data={"symbol": "BTC-USDT", "side": "buy",
                                         "type": "market", "quantity": "1"})
    assert request.is_valid(), request.errors
    terms = request.terms()
    assert terms.side is Side.BUY
    assert terms.type is OrderType.MARKET
    assert terms.time_in_force is TimeInForce.IOC  # the default of a market order
    now = datetime(2026, 1, 1, tzinfo=UTC)
    view = OrderView(
        id=uuid.uuid4(), user_id=1, client_order_id="c", symbol="BTC-USDT", side=Side.SELL,
        type=OrderType.STOP_LIMIT, time_in_force=TimeInForce.GTD, quantity=Decimal(1),
        price=Decimal(1), stop_price=Decimal(1), post_only=False, expires_at=now,
        status=OrderStatus.PARTIALLY_FILLED, filled_quantity=Decimal(0),
        average_fill_price=None, reason_code="", created_at=now, updated_at=now)
    shown = OrderSerializer(view).data
    for name, text in (("side", "sell"), ("type", "stop_limit"), ("time_in_force", "GTD"),
                       ("status", "PARTIALLY_FILLED")):
        assert shown[name] == text
        assert type(shown[name]) is str
    cached = OrderView.from_json(view.to_json())
    assert cached == view
    assert cached.status is OrderStatus.PARTIALLY_FILLED
    refused = replace(view, last_refusal=Refusal("amend", "order_size", now))
    assert OrderView.from_json(refused.to_json()) == refused
