"""Order entry's plain response (`apps.orders.api.order_response`) against the serializer
it stands in for: on generated orders, common and odd (amounts of every size and exponent,
moments in any zone, with or without microseconds), the same dict, value for value and type
for type, in the same key order, and so the same JSON byte for byte."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from apps.orders.api.order_response import represent
from apps.orders.api.serializers import OrderSerializer
from apps.orders.selectors import OrderView, Refusal
from oms.terms import OrderStatus, OrderType, Side, TimeInForce

# Entry's amounts (18 places at most, within NUMERIC(38, 18)), and others: more places than
# the field keeps, exponents, zeros of every scale, 28 digits and more.
AMOUNTS = (st.decimals(min_value=0, max_value=Decimal(10) ** 9, places=18)
           | st.decimals(min_value=0, max_value=Decimal(10) ** 12, allow_nan=False,
                         allow_infinity=False)
           | st.sampled_from([Decimal("0"), Decimal("0E-18"), Decimal("0.000"),
                              Decimal("1E+3"), Decimal("1.000000000000000000"),
                              Decimal("999999999.999999999999999999"),
                              Decimal("1000000000.000000000000000000"),
                              Decimal("0.0000000000000000005"), Decimal("12345.6789E-2")]))
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)),
                         timezone(-timedelta(hours=5, minutes=30))])
# Years a moment in UTC can be written in (neither renders year 1 at +02:00); hypothesis
# takes naive bounds and draws the zone apart.
ANY_MOMENT = st.datetimes(min_value=datetime(2, 1, 1),  # noqa: DTZ001
                          max_value=datetime(9998, 12, 31),  # noqa: DTZ001
                          timezones=ZONES)
MOMENTS = ANY_MOMENT | ANY_MOMENT.map(lambda moment: moment.replace(microsecond=0))

ORDERS = st.builds(
    OrderView, id=st.uuids(), user_id=st.integers(1, 10**6),
    client_order_id=st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
    symbol=st.sampled_from(["BTC-USDT", "ETH-USDT", "Ünïcode-X"]),
    side=st.sampled_from(Side), type=st.sampled_from(OrderType),
    time_in_force=st.sampled_from(TimeInForce), quantity=AMOUNTS,
    price=st.none() | AMOUNTS, stop_price=st.none() | AMOUNTS, post_only=st.booleans(),
    expires_at=st.none() | MOMENTS, status=st.sampled_from(OrderStatus),
    filled_quantity=AMOUNTS, average_fill_price=st.none() | AMOUNTS,
    reason_code=st.sampled_from(["", "post_only_would_take", "risk:max_order_notional"]),
    created_at=MOMENTS, updated_at=MOMENTS,
    last_refusal=st.none() | st.builds(
        Refusal, request=st.sampled_from(["amend", "cancel"]),
        reason=st.sampled_from(["order_size", "post_only_would_take"]), at=MOMENTS))


def typed(data: dict[str, Any]) -> list[tuple[str, Any, type]]:
    """Keys in order, with each value and its exact type (a `Side` is not a `str`)."""
    return [(name, value, type(value)) for name, value in data.items()]


@settings(max_examples=3000, deadline=None)
@given(ORDERS)
def test_the_plain_response_is_the_serializers(order: OrderView) -> None:
    plain = represent(order)
    serialized = OrderSerializer(order).data
    assert typed(plain) == typed(dict(serialized))
    assert JSONRenderer().render(plain) == JSONRenderer().render(serialized)


def test_an_accepted_order_reads_as_entry_writes_it() -> None:
    now = datetime(2030, 1, 2, 4, 4, 5, 6, tzinfo=timezone(timedelta(hours=1)))
    order = OrderView(
        id=uuid.UUID("6f1c3a4e-2b0d-4c8e-9a57-0d6b8f3e2a11"), user_id=7, client_order_id="c-1",
        symbol="BTC-USDT", side=Side.BUY, type=OrderType.LIMIT, time_in_force=TimeInForce.GTC,
        quantity=Decimal("0.001000000000000000"), price=Decimal("20000.010000000000000000"),
        stop_price=None, post_only=False, expires_at=None, status=OrderStatus.NEW,
        filled_quantity=Decimal(0), average_fill_price=None, reason_code="",
        created_at=now, updated_at=now)
    assert represent(order) == {
        "id": "6f1c3a4e-2b0d-4c8e-9a57-0d6b8f3e2a11", "client_order_id": "c-1",
        "symbol": "BTC-USDT", "side": "buy", "type": "limit", "time_in_force": "GTC",
        "quantity": "0.001", "price": "20000.01", "stop_price": None, "post_only": False,
        "expires_at": None, "status": "NEW", "filled_quantity": "0",
        "average_fill_price": None, "reason_code": "",
        "created_at": "2030-01-02T03:04:05.000006Z", "updated_at": "2030-01-02T03:04:05.000006Z",
        "last_refusal": None,
    }
