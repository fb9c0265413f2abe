"""Shapes of the accounts API."""

from __future__ import annotations

from rest_framework import serializers

from oms.api.fields import TextField
from oms.api.permissions import Scope


class ApiKeySerializer(serializers.Serializer):  # type: ignore[type-arg]
    key_id = serializers.CharField()
    name = serializers.CharField()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=list(Scope)))
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class IssuedApiKeySerializer(ApiKeySerializer):
    secret = serializers.CharField(help_text="Shown once: sign requests with it (HMAC-SHA256). "
                                             "It cannot be shown again.")


class CreateApiKeySerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = TextField(max_length=100, allow_blank=True, default="")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=list(Scope)), min_length=1, max_length=2,
        help_text="`read`: safe methods only; `trade`: also placing, amending and cancelling "
                  "orders (includes `read`).")


class StreamTicketSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ticket = serializers.CharField(help_text="Open `/ws/orders?ticket=<ticket>` with it, once.")
    expires_in = serializers.IntegerField(help_text="Seconds it stays valid if unused.")
