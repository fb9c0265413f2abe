"""The order request (`POST /api/orders`) read in plain Python when it has the shape
clients send, and by `PlaceOrderSerializer` otherwise (issue 17: DRF's field machinery was
most of the cost of reading an order).

The serializer stays the request's definition: the API schema is generated from it, and it
reads every request the plain reading does not take, so every error (field, code, message)
is its own. The plain reading takes only what the serializer accepts too, and yields the
very values it would, the amounts quantized alike (tests/unit/orders/test_order_request.py
compares the two on generated requests): a JSON object of known fields, text that the
serializer would neither strip nor refuse, amounts as plain unsigned decimals that fit
NUMERIC(38, 18), booleans as JSON booleans, no `expires_at` (a time goes to the serializer,
as do `reduce_only: true` and a blank or null where text belongs)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.orders.api.serializers import (
    CLIENT_ORDER_ID_PATTERN,
    SYMBOL_MAX_LENGTH,
    PlaceOrderSerializer,
    order_terms,
)
from apps.orders.domain.rules import OrderTerms
from oms.api.fields import AMOUNT_CONTEXT, AMOUNT_QUANTUM
from oms.money import DECIMAL_PLACES, MAX_DIGITS
from oms.terms import ORDER_TYPE_BY_VALUE, SIDE_BY_VALUE, TIME_IN_FORCE_BY_VALUE

_FIELDS = frozenset(PlaceOrderSerializer().fields)
# Printable ASCII without spaces: nothing to strip, nothing the serializer refuses.
_SYMBOL = re.compile(rf"[!-~]{{1,{SYMBOL_MAX_LENGTH}}}")
_CLIENT_ORDER_ID = re.compile(CLIENT_ORDER_ID_PATTERN)
# Digits that fit the amount fields' precision, so quantizing them is exact.
_AMOUNT = re.compile(rf"[0-9]{{1,{MAX_DIGITS - DECIMAL_PLACES}}}(?:\.[0-9]{{1,{DECIMAL_PLACES}}})?")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    terms: OrderTerms
    client_order_id: str | None


def parse(data: Any) -> OrderRequest:
    """The order request as terms; raises the serializer's `ValidationError` (400 with each
    field) when it is malformed."""
    validated = plain_validated(data)
    if validated is None:
        serializer = PlaceOrderSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
    return OrderRequest(terms=order_terms(validated),
                        client_order_id=validated.get("client_order_id"))


def plain_validated(data: Any) -> dict[str, Any] | None:
    """What the serializer's `validated_data` would be, for a request in the plain shape;
    None for any other."""
    if type(data) is not dict or not _FIELDS.issuperset(data):
        return None
    symbol, side, order_type = data.get("symbol"), data.get("side"), data.get("type")
    quantity = _amount(data.get("quantity"))
    post_only = data.get("post_only", False)
    if (type(symbol) is not str or not _SYMBOL.fullmatch(symbol)
            or not _choice(side, SIDE_BY_VALUE) or not _choice(order_type, ORDER_TYPE_BY_VALUE)
            or quantity is None or type(post_only) is not bool
            or data.get("reduce_only", False) is not False
            or data.get("expires_at", None) is not None):
        return None
    validated: dict[str, Any] = {"symbol": symbol, "side": side, "type": order_type,
                                 "quantity": quantity, "post_only": post_only}
    for name in ("price", "stop_price"):
        if name in data:
            amount = None if data[name] is None else _amount(data[name])
            if amount is None and data[name] is not None:
                return None
            validated[name] = amount
    if "time_in_force" in data:
        if not _choice(data["time_in_force"], TIME_IN_FORCE_BY_VALUE):
            return None
        validated["time_in_force"] = data["time_in_force"]
    if "client_order_id" in data:
        if (type(data["client_order_id"]) is not str
                or not _CLIENT_ORDER_ID.fullmatch(data["client_order_id"])):
            return None
        validated["client_order_id"] = data["client_order_id"]
    for name in ("reduce_only", "expires_at"):  # false and null, as checked above
        if name in data:
            validated[name] = data[name]
    return validated


def _choice(value: Any, members: Mapping[str, object]) -> bool:
    return type(value) is str and value in members


def _amount(value: Any) -> Decimal | None:
    if type(value) is not str or not _AMOUNT.fullmatch(value):
        return None
    return Decimal(value).quantize(AMOUNT_QUANTUM, context=AMOUNT_CONTEXT)
