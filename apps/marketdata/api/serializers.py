"""Output shapes of the market data API (amounts as strings) and its query parameters."""

from __future__ import annotations

from rest_framework import serializers

from apps.marketdata.domain.candles import Interval
from oms.api.fields import amount


class PriceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    symbol = serializers.CharField()
    last_trade_price = amount(allow_null=True)
    best_bid = amount(allow_null=True)
    best_ask = amount(allow_null=True)
    reference_price = amount(allow_null=True)
    source = serializers.CharField(allow_null=True)
    change_24h = amount(allow_null=True)
    change_percent_24h = serializers.DecimalField(max_digits=38, decimal_places=2,
                                                  allow_null=True)
    volume_24h = amount()
    high_24h = amount(allow_null=True)
    low_24h = amount(allow_null=True)


class OrderBookSerializer(serializers.Serializer):  # type: ignore[type-arg]
    symbol = serializers.CharField()
    sequence = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateTimeField(
        help_text="When this copy of the book was read (it is at most 1 s old).")
    bids = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    asks = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class TradeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    trade_id = serializers.CharField()
    price = amount()
    quantity = amount()
    taker_side = serializers.CharField()
    traded_at = serializers.DateTimeField()


class CandleSerializer(serializers.Serializer):  # type: ignore[type-arg]
    start = serializers.DateTimeField()
    open = amount()
    high = amount()
    low = amount()
    close = amount()
    volume = amount()
    trade_count = serializers.IntegerField()


class DepthQuery(serializers.Serializer):  # type: ignore[type-arg]
    depth = serializers.IntegerField(min_value=1, max_value=500, default=50)


class LimitQuery(serializers.Serializer):  # type: ignore[type-arg]
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)


class CandleQuery(LimitQuery):
    interval = serializers.ChoiceField(choices=[interval.value for interval in Interval],
                                       default=Interval.ONE_MINUTE.value)
