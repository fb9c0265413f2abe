"""Positions: your own, or (operators) any user's with `?user=<id>`."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.risk import selectors
from oms.api.errors import FieldErrors
from oms.auth.roles import is_ops
from oms.money import DECIMAL_PLACES, MAX_DIGITS


def amount() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES,
                                    coerce_to_string=True, normalize_output=True)


class PositionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    user_id = serializers.IntegerField()
    symbol = serializers.CharField()
    quantity = amount()
    average_entry_price = amount()
    realized_pnl = amount()


class PositionViewSet(viewsets.ViewSet):
    @extend_schema(
        parameters=[OpenApiParameter("user", OpenApiTypes.INT, description="operators only")],
        responses=PositionSerializer(many=True))
    def list(self, request: Request) -> Response:
        user_id = request.user.pk
        asked = request.query_params.get("user")
        if asked is not None:
            if not asked.isdigit():
                raise FieldErrors([("user", "invalid", "a user id")])
            if int(asked) != user_id and not is_ops(request.user):
                raise FieldErrors([("user", "not_allowed", "only operators may ask for "
                                    "another user's positions")])
            user_id = int(asked)
        return Response(PositionSerializer(selectors.positions_of(user_id=user_id),
                                           many=True).data)
