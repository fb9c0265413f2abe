"""Serializer fields every API shares."""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from rest_framework import serializers

from oms.money import DECIMAL_PLACES, MAX_DIGITS

# How `AmountField` quantizes, for the code that reads or writes amounts as it does without
# its machinery (order entry's plain request and response): to DECIMAL_PLACES places, in
# MAX_DIGITS digits (DRF's `DecimalField.quantize` with the default context's rounding).
AMOUNT_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
AMOUNT_CONTEXT = Context(prec=MAX_DIGITS)


class TextField(serializers.CharField):
    """A JSON string, and only a string (DRF would turn `0` or `true` into text)."""

    default_error_messages = {"not_a_string": "must be a string"}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return str(super().to_internal_value(data))


class AmountField(serializers.DecimalField):
    """An exact amount: a string in, a normalized string out (D8). A JSON float is refused
    (by the time it is parsed it may no longer be the number the client meant), and so is
    any other non-string, as the schema says."""

    default_error_messages = {
        "float_not_allowed": "send amounts as strings, not floats",
        "not_a_string": "send amounts as strings",
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, float):
            self.fail("float_not_allowed")
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


def amount(**kwargs: Any) -> AmountField:
    return AmountField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES,
                       coerce_to_string=True, normalize_output=True, **kwargs)
