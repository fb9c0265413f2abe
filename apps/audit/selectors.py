"""Public reads of the audit context."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.audit.models import AuditEntry

__all__ = ["entries"]


def entries() -> QuerySet[AuditEntry]:
    """Every entry, newest first (the API filters and pages it)."""
    return AuditEntry.objects.all()
