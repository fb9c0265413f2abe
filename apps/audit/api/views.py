"""`GET /api/audit`: the audit log, newest first, for operators and auditors (`IsOps`: the
auditors read, nobody writes; entries are added only by the audit middleware and services).
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, viewsets

from apps.audit import selectors
from apps.audit.api.filters import AuditEntryFilterSet
from apps.audit.api.serializers import AuditEntrySerializer
from apps.audit.models import AuditEntry
from oms.api.pagination import StrictCursorPagination
from oms.api.permissions import IsOps


class NewestFirst(StrictCursorPagination):
    ordering = ("-occurred_at", "-id")


class AuditEntryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Every privileged action: who, when, what, on what, with which outcome."""

    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    pagination_class = NewestFirst
    permission_classes = [IsOps]

    def get_queryset(self) -> QuerySet[AuditEntry]:
        return selectors.entries()
