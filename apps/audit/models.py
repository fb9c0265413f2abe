"""One row per privileged action. Rows are only ever added (`services.record`); nothing in
the project updates or deletes them, and the admin shows them read-only."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEntry(models.Model):
    """Who (actor, their roles then, their address), when, what (`action`), to what
    (`target`), how it ended (`status_code`), the request's payload with secrets removed,
    the state before and after where the caller knows it, and the correlation id that ties
    the entry to the request's logs and events."""

    class Kind(models.TextChoices):
        REQUEST = "request"  # an unsafe HTTP request, recorded by the middleware
        CHANGE = "change"  # a change a service or admin action described itself

    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    # Kept as written, so the record outlives a renamed or deleted user.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_roles = models.JSONField(default=list)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=200)
    target = models.CharField(max_length=500, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    payload = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    correlation_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["-occurred_at", "-id"], name="audit_occurred"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor"),
            models.Index(fields=["correlation_id"], name="audit_correlation"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"
