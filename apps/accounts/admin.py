"""API keys in the admin: operators see every key, revoke a leaked one and rotate one (a new
key with the same owner, name and scopes; the old one revoked). A rotated key's secret is
shown once, on the page that answers the rotation, for the operator to hand to its owner:
never in a message, which Django keeps in a cookie (or the session) until it is shown. Keys are
never added or deleted here: owners create them through the API, and a revoked key stays
for the record. Each revocation and rotation is also an audit entry with the key's state
before and after (never a secret); the audit middleware records the admin request itself.

DRF's API tokens are revoked by deleting them in the admin: its token admin is registered
again here so that a deletion also ends the owner's private streams, as every other
revocation does."""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from apps.accounts import services
from apps.accounts.models import ApiKey
from apps.audit import services as audit


def key_state(revoked_at: datetime | None) -> dict[str, str | None]:
    return {"revoked_at": revoked_at.isoformat() if revoked_at else None}


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
            before = key_state(key.revoked_at)
            revoked = services.revoke_api_key(key_id=key.key_id)
            audit.record(kind=audit.Kind.CHANGE, actor=request.user, action="api_key.revoked",
                         target=f"api_key={key.key_id} user={key.user_id}", before=before,
                         after=key_state(revoked.revoked_at if revoked else None))
        self.message_user(request, f"{queryset.count()} key(s) revoked", messages.SUCCESS)

    @admin.action(description="Rotate: issue a new key, revoke the old", permissions=["change"])
    def rotate(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> TemplateResponse:
        rotated = []
        for key in queryset.filter(revoked_at__isnull=True).select_related("user"):
            issued = services.rotate_api_key(key_id=key.key_id)
            audit.record(kind=audit.Kind.CHANGE, actor=request.user, action="api_key.rotated",
                         target=f"api_key={key.key_id} user={key.user_id}",
                         before={"active_key": key.key_id},
                         after={"active_key": issued.key.key_id,
                                "revoked_key": key.key_id})
            rotated.append({"old_key_id": key.key_id, "owner": key.user.get_username(),
                            "new_key_id": issued.key.key_id, "secret": issued.secret})
        response = TemplateResponse(request, "admin/accounts/apikey/rotated.html", {
            **self.admin_site.each_context(request), "title": "API keys rotated",
            "rotated": rotated})
        add_never_cache_headers(response)  # no-store: no cache keeps the secrets either
        return response


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class RevokingTokenAdmin(TokenAdmin):
    def delete_model(self, request: HttpRequest, obj: TokenProxy) -> None:
        super().delete_model(request, obj)
        services.end_streams_of(user_id=obj.user_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TokenProxy]) -> None:
        owners = set(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        for user_id in owners:
            services.end_streams_of(user_id=user_id)
