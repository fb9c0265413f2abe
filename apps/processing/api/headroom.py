"""`GET /api/risk/headroom?symbol=[&price=][&user=]`: how much more the account may buy and
sell now, per pre-trade rule, in base and quote, and which rule binds first on each side.

Served by the processing API, as `POST /api/risk/validate` is: the funds rule needs the
processor's view of balances and working orders, and risk may not call processing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.processing import services
from apps.risk import services as risk
from oms.api.errors import FieldErrors
from oms.api.fields import amount
from oms.auth.roles import sees_everything
from oms.money import MAX_PRICE, MONEY_CONTEXT, InvalidAmount, parse_amount
from oms.terms import Side

SYMBOL = re.compile(r"[A-Za-z0-9]{1,12}-[A-Za-z0-9]{1,12}")
USER_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only (`str.isdigit` admits '²')


class RoomSerializer(serializers.Serializer):  # type: ignore[type-arg]
    base = amount(allow_null=True, help_text="the largest order (base) this allows; null: "
                                             "no bound")
    quote = amount(allow_null=True, help_text="base x price")
    min_base = amount(allow_null=True, help_text="the smallest order it allows, when above "
                                                 "zero")


class SideSerializer(RoomSerializer):
    binding = serializers.CharField(allow_null=True, help_text="the rule that binds first")


class RuleSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rule = serializers.CharField()
    buy = RoomSerializer()
    sell = RoomSerializer()


class PriceBandSerializer(serializers.Serializer):  # type: ignore[type-arg]
    low = amount()
    high = amount()


class HeadroomSerializer(serializers.Serializer):  # type: ignore[type-arg]
    user_id = serializers.IntegerField()
    symbol = serializers.CharField()
    base_asset = serializers.CharField()
    quote_asset = serializers.CharField()
    price = amount()
    reference_price = amount(allow_null=True)
    price_band = PriceBandSerializer(allow_null=True)
    buy = SideSerializer()
    sell = SideSerializer()
    rules = RuleSerializer(many=True)


def _room(most: Decimal | None, least: Decimal, price: Decimal) -> dict[str, Any]:
    return {"base": most, "quote": None if most is None else MONEY_CONTEXT.multiply(most, price),
            "min_base": least or None}


def headroom_body(view: risk.HeadroomView) -> dict[str, Any]:
    room, price = view.headroom, view.price
    sides = {}
    for side in Side:
        whole = room.side(side)
        sides[side] = {**_room(whole.most, whole.least, price), "binding": room.binding(side)}
    return {
        "user_id": view.user_id, "symbol": view.symbol, "base_asset": view.base_asset,
        "quote_asset": view.quote_asset, "price": price,
        "reference_price": view.reference_price,
        "price_band": None if view.price_band is None else {"low": view.price_band[0],
                                                            "high": view.price_band[1]},
        **sides,
        "rules": [{"rule": rule.rule,
                   "buy": _room(rule.buy.most, rule.buy.least, price),
                   "sell": _room(rule.sell.most, rule.sell.least, price)}
                  for rule in room.rules],
    }


class HeadroomView(APIView):
    @extend_schema(parameters=[
        OpenApiParameter("symbol", OpenApiTypes.STR, required=True),
        OpenApiParameter("price", OpenApiTypes.STR,
                         description="the limit price to ask at (default: the reference "
                                     "price)"),
        OpenApiParameter("user", OpenApiTypes.INT, description="operators only"),
    ], responses={200: HeadroomSerializer})
    def get(self, request: Request) -> Response:
        params = request.query_params
        errors: list[tuple[str | None, str, str]] = []
        symbol = params.get("symbol", "")
        if not symbol:
            errors.append(("symbol", "required", "the symbol to ask about"))
        elif not SYMBOL.fullmatch(symbol):
            errors.append(("symbol", "invalid", "a symbol such as BTC-USDT"))
        price: Decimal | None = None
        if params.get("price") not in (None, ""):
            try:
                price = parse_amount(params["price"])
            except InvalidAmount:
                errors.append(("price", "invalid", "a decimal amount"))
            else:
                if not 0 < price <= MAX_PRICE:
                    errors.append(("price", "out_of_range", f"must lie in (0, {MAX_PRICE}]"))
                    price = None
        user_id = int(request.user.pk)
        asked = params.get("user")
        if asked is not None:
            if not USER_ID.fullmatch(asked):
                errors.append(("user", "invalid", "a user id"))
            elif int(asked) != user_id and not sees_everything(request.user):
                errors.append(("user", "not_allowed",
                               "only operators may ask about another user"))
            else:
                user_id = int(asked)
        if errors:
            raise FieldErrors(errors)
        try:
            view = services.headroom(user_id=user_id, symbol=symbol, price=price,
                                     now=datetime.now(UTC))
        except risk.UnknownSymbol as exc:
            raise FieldErrors([("symbol", "unknown_symbol", str(exc))]) from exc
        except risk.NoPrice as exc:
            raise FieldErrors([("price", "required", str(exc))]) from exc
        return Response(HeadroomSerializer(headroom_body(view)).data)
