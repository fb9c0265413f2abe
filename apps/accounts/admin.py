"""API keys in the admin: operators see every key, revoke a leaked one and rotate one (a new
key with the same owner, name and scopes; the old one revoked). A rotated key's secret is
shown once, in the confirmation message, for the operator to hand to its owner. Keys are
never added or deleted here: owners create them through the API, and a revoked key stays
for the record."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts import services
from apps.accounts.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("key_id", "user", "name", "scopes", "created_at", "last_used_at",
                    "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("key_id", "user__username", "name")
    readonly_fields = ("key_id", "user", "scopes", "created_at", "last_used_at", "revoked_at")
    fields = ("key_id", "user", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke", "rotate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            services.revoke_api_key(key_id=key.key_id)
        self.message_user(request, f"{queryset.count()} key(s) revoked", messages.SUCCESS)

    @admin.action(description="Rotate: issue a new key, revoke the old", permissions=["change"])
    def rotate(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            issued = services.rotate_api_key(key_id=key.key_id)
            self.message_user(request, f"{key.key_id} rotated to {issued.key.key_id}; its "
                              f"secret, shown once: {issued.secret}", messages.WARNING)
