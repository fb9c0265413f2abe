"""The audit entry as the API shows it (translation only)."""

from __future__ import annotations

from rest_framework import serializers

from apps.audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    actor = serializers.CharField(source="actor_username")

    class Meta:
        model = AuditEntry
        fields = ["id", "occurred_at", "kind", "actor", "actor_roles", "client_ip", "action",
                  "target", "method", "path", "status_code", "payload", "before", "after",
                  "correlation_id"]
        read_only_fields = fields
