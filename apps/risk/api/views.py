"""The risk API: positions, limits (read own; operators set any scope), kill switches,
the audit of risk events (operators), and the what-if pre-trade decision."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.orders import services as orders
from apps.risk import selectors, services
from apps.risk.api.serializers import (
    DecisionSerializer,
    KillSwitchSerializer,
    LimitsInForceSerializer,
    LimitsSerializer,
    OverrideSerializer,
    PositionSerializer,
    RiskEventSerializer,
    SetLimitsSerializer,
)
from oms.api.errors import FieldErrors
from oms.api.idempotency import idempotent
from oms.api.permissions import IsOps
from oms.auth.roles import sees_everything

USER_PARAMETER = OpenApiParameter("user", OpenApiTypes.INT, description="operators only")


def subject_user(request: Request) -> int:
    """The user asked about: yourself, or (operators) `?user=<id>`."""
    asked = request.query_params.get("user")
    if asked is None:
        return int(request.user.pk)
    if not asked.isdigit():
        raise FieldErrors([("user", "invalid", "a user id")])
    if int(asked) != request.user.pk and not sees_everything(request.user):
        raise FieldErrors([("user", "not_allowed",
                            "only operators may ask about another user")])
    return int(asked)


class PositionViewSet(viewsets.ViewSet):
    @extend_schema(parameters=[USER_PARAMETER], responses=PositionSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(PositionSerializer(
            selectors.positions_of(user_id=subject_user(request)), many=True).data)


class LimitView(APIView):
    """The limits in force (each from its most specific scope); operators set any scope."""

    def get_permissions(self) -> list[Any]:
        return [IsOps()] if self.request.method == "PUT" else super().get_permissions()

    @extend_schema(parameters=[USER_PARAMETER, OpenApiParameter("symbol", OpenApiTypes.STR)],
                   responses={200: LimitsInForceSerializer})
    def get(self, request: Request) -> Response:
        user_id = subject_user(request)
        symbol = request.query_params.get("symbol", "")
        limits = selectors.resolved_limits(user_id=user_id, symbol=symbol)
        return Response(LimitsInForceSerializer({
            "user_id": user_id, "symbol": symbol,
            "leverage": selectors.leverage_of(user_id=user_id), "limits": asdict(limits),
            "usage": services.limit_usage(user_id=user_id, symbol=symbol,
                                          now=datetime.now(UTC)),
        }).data)

    @extend_schema(request=SetLimitsSerializer,
                   responses={200: LimitsSerializer, 202: OverrideSerializer})
    @idempotent
    def put(self, request: Request) -> Response:
        """Set a scope's limits; 202 with the pending override when a limit is raised above
        its four-eyes threshold (a second operator approves it in the admin)."""
        serializer = SetLimitsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = data.get("user")
        user_id = None if user is None else user.pk
        done = _request(request, action="set_limits", expires_at=data["expires_at"],
                        params={"user_id": user_id, "symbol": data["symbol"],
                                "values": dict(data["limits"])})
        if done.status == "pending":
            return Response(OverrideSerializer(done).data, status=status.HTTP_202_ACCEPTED)
        row = selectors.limits_of_scope(user_id=user_id, symbol=data["symbol"])
        return Response(LimitsSerializer(asdict(row)).data)


def _request(request: Request, *, action: str, params: dict[str, Any],
             expires_at: datetime | None, reason: str = "api") -> services.OverrideView:
    try:
        return services.request_override(actor_id=request.user.pk, action=action,
                                         params=params, reason=reason, expires_at=expires_at,
                                         now=datetime.now(UTC))
    except services.OverrideRefused as exc:
        raise FieldErrors([("expires_at", exc.code, str(exc))]) from exc


class KillSwitchViewSet(viewsets.ViewSet):
    permission_classes = [IsOps]

    @extend_schema(request=KillSwitchSerializer, responses={202: None})
    @idempotent
    def create(self, request: Request) -> Response:
        """Engage: new orders in scope are rejected, working ones get cancel requests. With
        `expires_at` it is released again by itself at that time."""
        serializer = KillSwitchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = data.get("user")
        user_id = None if user is None else user.pk
        if data["expires_at"] is not None:
            done = _request(request, action="engage_kill_switch", expires_at=data["expires_at"],
                            reason=data["reason"], params={"user_id": user_id,
                                                           "symbol": data["symbol"],
                                                           "reason": data["reason"]})
            return Response({"override": OverrideSerializer(done).data},
                            status=status.HTTP_202_ACCEPTED)
        cancelled = services.engage_kill_switch(
            actor_id=request.user.pk, user_id=user_id, symbol=data["symbol"],
            reason=data["reason"])
        return Response({"cancel_requests": cancelled}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=KillSwitchSerializer,
                   responses={200: None, 202: OverrideSerializer})
    @action(detail=False, methods=["post"])
    @idempotent
    def release(self, request: Request) -> Response:
        """Release; a global or symbol switch (no account in scope) waits for a second
        operator's approval (202 with the pending override). With `expires_at` the switch
        engages again by itself at that time."""
        serializer = KillSwitchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = data.get("user")
        done = _request(request, action="release_kill_switch", expires_at=data["expires_at"],
                        params={"user_id": None if user is None else user.pk,
                                "symbol": data["symbol"]})
        if done.status == "pending":
            return Response(OverrideSerializer(done).data, status=status.HTTP_202_ACCEPTED)
        return Response({"released": True})


class RiskEventViewSet(viewsets.ViewSet):
    permission_classes = [IsOps]

    @extend_schema(responses=RiskEventSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(RiskEventSerializer(selectors.recent_risk_events(), many=True).data)


class WhatIfViewSet(viewsets.ViewSet):
    """`POST /api/risk/validate`: the decision the processor would take for this order now,
    reserving nothing."""

    @extend_schema(request=orders.ORDER_REQUEST_SERIALIZER, responses={200: DecisionSerializer})
    def create(self, request: Request) -> Response:
        decision = services.validate_order(user_id=request.user.pk,
                                           terms=orders.parse_order_request(request.data),
                                           now=datetime.now(UTC))
        return Response(DecisionSerializer(decision).data)
