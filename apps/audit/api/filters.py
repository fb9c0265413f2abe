"""Filters of `GET /api/audit`: by actor, kind, action, target, correlation id and time."""

from __future__ import annotations

import django_filters

from apps.audit.models import AuditEntry
from oms.api.filters import UtcDateTimeFilter


class AuditEntryFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_username")
    kind = django_filters.ChoiceFilter(choices=AuditEntry.Kind.choices)
    action = django_filters.CharFilter(lookup_expr="icontains")
    target = django_filters.CharFilter(lookup_expr="icontains")
    correlation_id = django_filters.CharFilter()
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["actor", "kind", "action", "target", "correlation_id"]
