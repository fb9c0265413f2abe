"""Filters of `GET /api/orders`."""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from apps.orders.models import Order


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time in any offset, compared in UTC (PostgreSQL refuses offsets beyond
    ±15:59 that ISO 8601 allows, and a time near year 1 or 9999 may not convert at all)."""

    def filter(self, qs: QuerySet[Order], value: datetime | None) -> QuerySet[Order]:
        if value is None:
            return qs
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValidationError({self.field_name: "out of range"}) from None
        return super().filter(qs, value)


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
