"""Balances (own) and money movements (operators): thin views over services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.processing import selectors, services
from apps.processing.ledger import InsufficientFunds
from oms.api.errors import Conflict, FieldConflicts
from oms.api.fields import amount
from oms.api.idempotency import idempotent
from oms.api.permissions import IsOps


class BalanceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    asset = serializers.CharField()
    available = amount()
    reserved = amount()
    total = amount()


class MoneyMovementSerializer(serializers.Serializer):  # type: ignore[type-arg]
    user = serializers.SlugRelatedField(slug_field="username",
                                        queryset=get_user_model().objects.all())
    asset = serializers.RegexField(r"^[A-Z0-9]{2,12}$")
    amount = amount(min_value=0)
    reference = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,100}$",
                                       help_text="Your id of the movement: the same reference "
                                                 "applies once.")

    def validate_amount(self, value: Any) -> Any:
        if value <= 0:
            raise serializers.ValidationError("must be positive", code="not_positive")
        return value


class BalanceViewSet(viewsets.ViewSet):
    """Your balances per asset: available, reserved by working orders, and total."""

    @extend_schema(responses=BalanceSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(BalanceSerializer(selectors.balances_of(user_id=request.user.pk),
                                          many=True).data)


class MoneyMovementViewSet(viewsets.ViewSet):
    """Operators move money in and out of the venue; the only way money enters or leaves."""

    permission_classes = [IsOps]
    movement = staticmethod(services.deposit)

    @extend_schema(request=MoneyMovementSerializer,
                   responses={201: BalanceSerializer(many=True)})
    @idempotent
    def create(self, request: Request) -> Response:
        serializer = MoneyMovementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            balances = self.movement(user_id=data["user"].pk, asset=data["asset"],
                                           amount=data["amount"], reference=data["reference"])
        except InsufficientFunds as exc:
            raise Conflict(str(exc), code="insufficient_funds") from exc
        except services.LoansOutstanding as exc:
            raise FieldConflicts([("amount", "loans_outstanding", str(exc))]) from exc
        except services.ReferenceReused as exc:
            raise FieldConflicts([("reference", "reference_conflict",
                                   "this reference was used for another movement (user, "
                                   "asset or amount); choose a new reference")]) from exc
        return Response(BalanceSerializer(balances, many=True).data,
                        status=status.HTTP_201_CREATED)


class DepositViewSet(MoneyMovementViewSet):
    movement = staticmethod(services.deposit)


class WithdrawalViewSet(MoneyMovementViewSet):
    movement = staticmethod(services.withdraw)
