"""`POST /api/orders/dead-man` `{"countdown": seconds}`: arm or renew the account's
dead-man switch (0 disarms it); see `apps.orders.dead_man`."""

from __future__ import annotations

from datetime import UTC, datetime

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.orders.dead_man import MAX_COUNTDOWN_SECONDS, arm_dead_man
from apps.orders.services import OrderEntryUnavailable
from oms.api.errors import ServiceUnavailable
from oms.api.idempotency import idempotent


class DeadManRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    countdown = serializers.IntegerField(
        min_value=0, max_value=MAX_COUNTDOWN_SECONDS,
        help_text="seconds until every working order is cancelled unless renewed; 0 disarms")

    def to_internal_value(self, data: object) -> object:
        if isinstance(data, dict):
            unknown = set(data) - {"countdown"}
            if unknown:
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail("unknown field", code="unknown_field")]
                     for name in sorted(unknown)})
        return super().to_internal_value(data)


class DeadManSerializer(serializers.Serializer):  # type: ignore[type-arg]
    countdown = serializers.IntegerField()
    fires_at = serializers.DateTimeField(allow_null=True)


class DeadManView(APIView):
    @extend_schema(request=DeadManRequestSerializer, responses={200: DeadManSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = DeadManRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            armed = arm_dead_man(user_id=request.user.pk,
                                 countdown=serializer.validated_data["countdown"],
                                 now=datetime.now(UTC))
        except OrderEntryUnavailable as exc:
            raise ServiceUnavailable(str(exc), code=f"{exc.dependency}_unavailable",
                                     retry_after=exc.retry_after) from exc
        return Response(DeadManSerializer(armed).data)
