"""The audit log in the admin: read-only, like the API (nobody edits the trail)."""

from django.contrib import admin

from apps.audit.models import AuditEntry
from oms.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "actor_username", "action", "target", "status_code",
                    "correlation_id")
    list_filter = ("kind", "status_code")
    search_fields = ("actor_username", "action", "target", "correlation_id")
    date_hierarchy = "occurred_at"
