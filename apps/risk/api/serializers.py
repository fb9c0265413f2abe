"""Translation of the risk API's JSON."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from oms.api.fields import amount


class PositionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    user_id = serializers.IntegerField()
    symbol = serializers.CharField()
    quantity = amount()
    average_entry_price = amount()
    realized_pnl = amount()


class LimitsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    max_position = amount(allow_null=True, required=False, min_value=0)
    max_position_notional = amount(allow_null=True, required=False, min_value=0)
    max_order_quantity = amount(allow_null=True, required=False, min_value=0)
    max_order_notional = amount(allow_null=True, required=False, min_value=0)
    max_open_orders = serializers.IntegerField(allow_null=True, required=False, min_value=0)
    price_band = amount(allow_null=True, required=False, min_value=0)
    daily_loss = amount(allow_null=True, required=False, min_value=0)
    concentration = amount(allow_null=True, required=False, min_value=0, max_value=1)
    max_orders_per_second = serializers.IntegerField(allow_null=True, required=False,
                                                     min_value=0)
    max_orders_per_minute = serializers.IntegerField(allow_null=True, required=False,
                                                     min_value=0)
    max_notional_per_minute = amount(allow_null=True, required=False, min_value=0)


class LimitUsageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Current usage of each limit (null where a limit has no standing usage)."""

    max_position = amount(allow_null=True)
    max_position_notional = amount(allow_null=True)
    max_order_quantity = amount(allow_null=True)
    max_order_notional = amount(allow_null=True)
    max_open_orders = serializers.IntegerField()
    price_band = amount(allow_null=True)
    daily_loss = amount()
    concentration = amount(allow_null=True)
    max_orders_per_second = serializers.IntegerField()
    max_orders_per_minute = serializers.IntegerField()
    max_notional_per_minute = amount()


class LimitsInForceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The limits in force for an account (and symbol), each beside its usage."""

    user_id = serializers.IntegerField()
    symbol = serializers.CharField(allow_blank=True)
    leverage = amount()
    limits = LimitsSerializer()
    usage = LimitUsageSerializer()


class ScopeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A scope: no user and no symbol is global."""

    user = serializers.SlugRelatedField(slug_field="username", required=False,
                                        allow_null=True,
                                        queryset=get_user_model().objects.all())
    symbol = serializers.RegexField(r"^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$", required=False,
                                    allow_blank=True, default="")


class SetLimitsSerializer(ScopeSerializer):
    limits = LimitsSerializer()
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="the change reverts by itself at this time")


class KillSwitchSerializer(ScopeSerializer):
    reason = serializers.CharField(max_length=200, required=False, default="")
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="the engagement or release reverts by itself at this time")


class OverrideSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An override request: `pending` waits for a second operator (four eyes)."""

    id = serializers.IntegerField()
    action = serializers.CharField()
    status = serializers.CharField()
    needs_approval = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)


class RiskEventSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    event_type = serializers.CharField()
    subject = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class DecisionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    accepted = serializers.BooleanField()
    code = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
