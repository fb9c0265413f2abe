"""Persistence of the accounts context: API keys. A key stores no secret: only the salt the
secret is derived from (with a pepper kept out of the database) and a hash of the secret
(`domain/signing.py`). A key is never deleted, only revoked, so its history stays."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from oms.api.permissions import Scope


class ApiKey(models.Model):
    key_id = models.CharField(primary_key=True, max_length=32, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    scopes = ArrayField(models.CharField(max_length=10, choices=[(s.value, s.value)
                                                                  for s in Scope]),
                        help_text="read: safe methods; trade: also order entry")
    secret_salt = models.CharField(max_length=64, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scopes__len__gt=0)
                & models.Q(scopes__contained_by=[s.value for s in Scope]),
                name="api_key_scopes_known"),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.user_id}{', revoked' if self.revoked_at else ''})"
