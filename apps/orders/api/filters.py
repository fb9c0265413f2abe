"""Filters of `GET /api/orders`: on the database's orders (the FilterSet) and, with the
same meaning, on the orders order entry accepted that the processor has not recorded yet
(`pending_matches`), which the first page lists too."""

from __future__ import annotations

from typing import Any

import django_filters

from apps.orders.models import Fill, Order
from apps.orders.selectors import OrderView
from oms.api.filters import UtcDateTimeFilter, UuidFilter
from oms.terms import OrderStatus, Side, choices


class OrderFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=choices(OrderStatus))
    symbol = django_filters.CharFilter()
    side = django_filters.ChoiceFilter(choices=choices(Side))
    client_order_id = django_filters.CharFilter()
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "symbol", "side", "client_order_id"]


def pending_matches(filters: dict[str, Any], order: OrderView) -> bool:
    """Whether a pending order passes the FilterSet's cleaned filters."""
    statuses = filters.get("status")
    if statuses and order.status not in statuses:
        return False
    for name in ("symbol", "side", "client_order_id"):
        if filters.get(name) and getattr(order, name) != filters[name]:
            return False
    after, before = filters.get("created_after"), filters.get("created_before")
    return (after is None or order.created_at >= after) and (
        before is None or order.created_at < before)


class FillFilterSet(django_filters.FilterSet):
    """Filters of `GET /api/fills` (your fills across orders): by the order's symbol, side
    and id, and by the fill's time."""

    symbol = django_filters.CharFilter(field_name="order__symbol")
    side = django_filters.ChoiceFilter(field_name="order__side", choices=choices(Side))
    order = UuidFilter(field_name="order_id")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Fill
        fields = ["symbol", "side", "order"]
