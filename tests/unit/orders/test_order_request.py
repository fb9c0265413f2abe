"""The plain reading of the order request (`apps.orders.api.order_request`) against the
serializer it stands in for: on generated requests, common and odd, whatever the plain
reading takes the serializer accepts with the very same values (amounts to the last
exponent digit); the requests clients send do take it; and the rest, errors included, is
the serializer's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from apps.orders.api.order_request import parse, plain_validated
from apps.orders.api.serializers import CLIENT_ORDER_ID_PATTERN, PlaceOrderSerializer
from oms.terms import OrderType, Side, TimeInForce, wire_values

ABSENT = object()
JUNK = st.sampled_from([None, "", "   ", 1, 0, 1.5, True, False, [], {}, ["buy"]])
DIGITS = "0123456789"

# Each field is mostly what clients send (so that whole requests often are), else odd.
PLAIN_AMOUNTS = st.builds(
    lambda whole, fraction: whole + (f".{fraction}" if fraction else ""),
    st.text(DIGITS, min_size=1, max_size=20), st.text(DIGITS, max_size=18))
ODD_AMOUNTS = st.sampled_from(
    ["1" * 21, "0." + "0" * 18 + "1", "-1", "+1", "1e3", "1E-3", " 1.5", "1.5 ", "1.",
     ".5", "NaN", "Infinity", "-Infinity", "١٢", "1_000", "0x10"]
) | st.decimals(allow_nan=False, allow_infinity=False).map(str) | JUNK
PLAIN_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                     max_size=25)
ODD_TEXT = st.text(max_size=70) | st.sampled_from(
    [" BTC-USDT", "BTC-USDT\n", "a" * 26, "a" * 65, "BTC\x00USDT", "BTC USDT", "ÉTH-USDT",
     "\ud800", "x" * 64]) | JUNK


def field(plain: st.SearchStrategy[Any], odd: st.SearchStrategy[Any], *,
          required: bool = False) -> st.SearchStrategy[Any]:
    if not required:
        plain = plain | st.just(ABSENT)
    else:
        odd = odd | st.just(ABSENT)
    return st.integers(0, 9).flatmap(lambda roll: plain if roll < 8 else odd)


def choice(term: Any, *, required: bool = False) -> st.SearchStrategy[Any]:
    wire = wire_values(term)
    return field(st.sampled_from(wire),
                 st.sampled_from([value.upper() for value in wire] + [" buy"]) | JUNK,
                 required=required)


REQUESTS = st.fixed_dictionaries({
    "symbol": field(PLAIN_TEXT, ODD_TEXT, required=True),
    "side": choice(Side, required=True), "type": choice(OrderType, required=True),
    "time_in_force": choice(TimeInForce),
    "quantity": field(PLAIN_AMOUNTS, ODD_AMOUNTS, required=True),
    "price": field(PLAIN_AMOUNTS | st.none(), ODD_AMOUNTS),
    "stop_price": field(PLAIN_AMOUNTS | st.none(), ODD_AMOUNTS),
    "post_only": field(st.booleans(), st.sampled_from(["true", "false", 1, 0, "yes"]) | JUNK),
    "reduce_only": field(st.just(False), st.sampled_from([True, "false", 0, "no"]) | JUNK),
    "expires_at": field(st.none(), st.sampled_from(
        ["2030-01-01T00:00:00Z", "2030-01-01T00:00:00+02:00", "2030-01-01", "junk"]) | JUNK),
    "client_order_id": field(st.from_regex(CLIENT_ORDER_ID_PATTERN, fullmatch=True), ODD_TEXT),
    "colour": field(st.just(ABSENT), st.just("red")),
}).map(lambda drawn: {name: value for name, value in drawn.items() if value is not ABSENT})


def exact(values: dict[str, Any]) -> dict[str, Any]:
    """Values with each amount as its digits and exponent (1.5 and 1.50 are not alike)."""
    return {name: (value.as_tuple(), type(value)) if isinstance(value, Decimal)
            else (value, type(value)) for name, value in values.items()}


@settings(max_examples=3000, deadline=None)
@given(REQUESTS)
def test_what_the_plain_reading_takes_the_serializer_reads_alike(request: dict[str, Any]
                                                                 ) -> None:
    plain = plain_validated(request)
    if plain is None:
        return
    serializer = PlaceOrderSerializer(data=request)
    assert serializer.is_valid(), serializer.errors
    assert exact(plain) == exact(dict(serializer.validated_data))
    assert parse(request).terms == serializer.terms()


@pytest.mark.parametrize("request_body", [
    {"symbol": "BTC-USDT", "side": "buy", "type": "limit", "quantity": "0.001",
     "price": "20000.01", "client_order_id": "bench-1"},
    {"symbol": "ETH-USDT", "side": "sell", "type": "market", "quantity": "2"},
    {"symbol": "BTC-USDT", "side": "buy", "type": "stop_limit", "quantity": "1",
     "price": "100", "stop_price": "99.5", "time_in_force": "GTC", "post_only": False,
     "reduce_only": False},
    {"symbol": "BTC-USDT", "side": "buy", "type": "limit", "quantity": "1", "price": None,
     "stop_price": None, "expires_at": None},
])
def test_the_requests_clients_send_are_read_plainly(request_body: dict[str, Any]) -> None:
    assert plain_validated(request_body) is not None


def test_any_other_request_is_the_serializers_with_its_errors() -> None:
    request = {"symbol": " ", "side": "up", "type": "limit", "quantity": 1.5,
               "reduce_only": True, "colour": "red"}
    assert plain_validated(request) is None
    serializer = PlaceOrderSerializer(data=request)
    assert not serializer.is_valid()
    with pytest.raises(ValidationError) as raised:
        parse(request)
    assert raised.value.detail == serializer.errors
    # Valid, but with a time: the serializer reads it.
    timed = {"symbol": "BTC-USDT", "side": "buy", "type": "limit", "quantity": "1",
             "price": "1", "time_in_force": "GTD", "expires_at": "2030-01-01T00:00:00Z"}
    assert plain_validated(timed) is None
    assert parse(timed).terms.expires_at is not None
