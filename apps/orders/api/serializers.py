"""Translation between JSON and the orders context's terms. Amounts are strings both ways
(D8); unknown fields are refused so a typo never passes silently."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from apps.orders.domain.rules import OrderTerms, default_time_in_force
from apps.orders.events import ORDER_TYPES, SIDES, TIMES_IN_FORCE
from oms.api.fields import TextField, amount
from oms.terms import (
    ORDER_TYPE_BY_VALUE,
    SIDE_BY_VALUE,
    TIME_IN_FORCE_BY_VALUE,
    OrderStatus,
    choices,
)


class TextPatternField(serializers.RegexField, TextField):
    pass


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Refuses fields it does not know, each named with code `unknown_field`."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: serializers.ErrorDetail("unknown field", code="unknown_field")
                 for name in unknown}
            )
        return attrs


class SharedFieldsSerializer(StrictSerializer):
    # Its fields are built and bound once per class, not per instance: DRF deep-copies every
    # declared field for each serializer it makes, which was the largest cost of parsing an
    # order (a third of order entry's serializer time, py-spy). Sharing them is safe because
    # validating only reads a field (its arguments, its validators, the settings); what a
    # validation finds (`validated_data`, `errors`) stays on its own serializer. For serializers
    # without context or `partial`, like the order request. (A comment, not a docstring: the
    # API schema would publish it as the order request's description.)

    _bound_fields: ClassVar[dict[type, BindingDict]] = {}

    @property  # DRF's is a cached_property of each instance
    def fields(self) -> BindingDict:
        fields = self._bound_fields.get(type(self))
        if fields is None:
            fields = BindingDict(self)
            for name, field in self.get_fields().items():
                fields[name] = field
            self._bound_fields[type(self)] = fields
        return fields


# Shared with the plain reading of the order request (`order_request`).
CLIENT_ORDER_ID_PATTERN = r"[A-Za-z0-9._:-]{1,64}"
SYMBOL_MAX_LENGTH = 25


class PlaceOrderSerializer(SharedFieldsSerializer):
    client_order_id = TextPatternField(f"^{CLIENT_ORDER_ID_PATTERN}$", required=False,
                                             help_text="Your id for the order, unique per user.")
    symbol = TextField(max_length=SYMBOL_MAX_LENGTH)
    side = serializers.ChoiceField(choices=SIDES)
    type = serializers.ChoiceField(choices=ORDER_TYPES)
    time_in_force = serializers.ChoiceField(
        choices=TIMES_IN_FORCE, required=False,
        help_text="Default GTC for limit and stop_limit, IOC for market and stop.")
    quantity = amount()
    price = amount(required=False, allow_null=True)
    stop_price = amount(required=False, allow_null=True)
    post_only = serializers.BooleanField(required=False, default=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    reduce_only = serializers.BooleanField(
        required=False,
        help_text="Tolerated for clients that always send it (ccxt's reduceOnly): a spot "
                  "order never only reduces a position, so only false is accepted.")

    def validate_reduce_only(self, value: bool) -> bool:
        if value:
            raise serializers.ValidationError(
                "this venue trades spot: an order cannot be reduce-only",
                code="reduce_only_unsupported")
        return value

    def terms(self) -> OrderTerms:
        """The validated request as terms."""
        return order_terms(self.validated_data)


def order_terms(validated: Mapping[str, Any]) -> OrderTerms:
    """A validated order request (`PlaceOrderSerializer`'s `validated_data`) as terms, its
    text turned into `oms.terms` members."""
    order_type = ORDER_TYPE_BY_VALUE[validated["type"]]
    time_in_force = validated.get("time_in_force")
    return OrderTerms(
        symbol=validated["symbol"], side=SIDE_BY_VALUE[validated["side"]], type=order_type,
        time_in_force=(TIME_IN_FORCE_BY_VALUE[time_in_force] if time_in_force
                       else default_time_in_force(order_type)),
        quantity=validated["quantity"], price=validated.get("price"),
        stop_price=validated.get("stop_price"), post_only=validated["post_only"],
        expires_at=validated.get("expires_at"),
    )


class AmendOrderSerializer(StrictSerializer):
    price = amount(required=False, allow_null=True)
    quantity = amount(required=False, allow_null=True)


class CancelAllSerializer(StrictSerializer):
    symbol = TextField(max_length=25, required=False)


# The requests on an order the processor may refuse with the order unchanged (its API
# schema enum is named in settings, `SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]`).
REFUSED_REQUESTS = ["amend", "cancel"]


class RefusalSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The last request on an order that the processor refused, the order unchanged."""

    request = serializers.ChoiceField(choices=REFUSED_REQUESTS)
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class OrderSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An order as the API shows it (from the database or the entry cache)."""

    id = serializers.UUIDField()
    client_order_id = serializers.CharField()
    symbol = serializers.CharField()
    side = serializers.CharField()
    type = serializers.CharField()
    time_in_force = serializers.CharField()
    quantity = amount()
    price = amount(allow_null=True)
    stop_price = amount(allow_null=True)
    post_only = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=choices(OrderStatus))
    filled_quantity = amount()
    average_fill_price = amount(allow_null=True)
    reason_code = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_refusal = RefusalSerializer(allow_null=True)


class FillSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    trade_id = serializers.UUIDField()
    price = amount()
    quantity = amount()
    fee = amount()
    fee_asset = serializers.CharField()
    liquidity = serializers.CharField()
    created_at = serializers.DateTimeField()


class AccountFillSerializer(FillSerializer):
    """A fill in the list of all your fills: the fill with its order's id, symbol and side."""

    order_id = serializers.UUIDField(source="order.id")
    symbol = serializers.CharField(source="order.symbol")
    side = serializers.CharField(source="order.side")


class InstrumentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    symbol = serializers.CharField()
    base_asset = serializers.CharField()
    quote_asset = serializers.CharField()
    tick_size = amount()
    lot_size = amount()
    min_quantity = amount()
    max_quantity = amount()
    min_notional = amount()
    max_price = amount(help_text="The highest price (or stop price) order entry accepts.")
    max_notional = amount(help_text="The highest price times quantity of a limit order.")
    maker_fee_rate = amount()
    taker_fee_rate = amount()
    trading = serializers.BooleanField()


class CancelAllResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    requested = serializers.IntegerField()
