"""Filters of `GET /api/orders`."""

from __future__ import annotations

import django_filters

from apps.orders.models import Order
from oms.api.filters import UtcDateTimeFilter


class OrderFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices)
    symbol = django_filters.CharFilter()
    side = django_filters.ChoiceFilter(choices=Order.Side.choices)
    client_order_id = django_filters.CharFilter()
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "symbol", "side", "client_order_id"]
