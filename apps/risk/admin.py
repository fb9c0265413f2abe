"""Operator overrides of risk in the admin. Every change goes through `apps.risk.services`,
so it is audited (`RiskAudit`) and emitted on `risk-events` exactly as through the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.risk import services
from apps.risk.models import (
    InstrumentMargin,
    KillSwitch,
    MarginAccount,
    OverrideRequest,
    Position,
    RiskAudit,
    RiskLimit,
)
from apps.risk.selectors import LIMIT_FIELDS
from oms.admin import ReadOnlyAdmin
from oms.auth.roles import is_ops


@admin.register(RiskLimit)
class RiskLimitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "symbol", *LIMIT_FIELDS)
    search_fields = ("user__username", "symbol")

    def save_model(self, request: HttpRequest, obj: RiskLimit, form: Any, change: bool) -> None:
        """Through a request: applied at once, or (a limit raised above its four-eyes
        threshold) pending a second operator."""
        try:
            done = services.request_override(
                actor_id=request.user.pk, action="set_limits", reason="admin",
                params={"user_id": obj.user_id, "symbol": obj.symbol,
                        "values": {name: getattr(obj, name) for name in LIMIT_FIELDS}},
                expires_at=None, now=timezone.now())
        except services.OverrideRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        if done.status == "pending":
            self.message_user(request, f"above the four-eyes threshold: override {done.id} "
                              "waits for a second operator (Risk > Override requests)",
                              messages.WARNING)


@admin.register(KillSwitch)
class KillSwitchAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "symbol", "engaged", "reason", "updated_at")
    list_filter = ("engaged",)
    actions = ["engage", "release"]

    def save_model(self, request: HttpRequest, obj: KillSwitch, form: Any,
                   change: bool) -> None:
        if obj.engaged:
            services.engage_kill_switch(actor_id=request.user.pk, user_id=obj.user_id,
                                        symbol=obj.symbol, reason=obj.reason)
        else:
            self._release(request, obj)

    @admin.action(description="Engage: reject new orders and cancel working ones in scope")
    def engage(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        for switch in queryset:
            count = services.engage_kill_switch(actor_id=request.user.pk,
                                                user_id=switch.user_id, symbol=switch.symbol,
                                                reason=switch.reason or "admin")
            self.message_user(request, f"{switch}: {count} cancel requests", messages.INFO)

    @admin.action(description="Release (global and symbol switches: a second operator "
                              "approves)")
    def release(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        for switch in queryset:
            self._release(request, switch)

    def _release(self, request: HttpRequest, switch: KillSwitch) -> None:
        done = services.request_override(
            actor_id=request.user.pk, action="release_kill_switch", reason="admin",
            params={"user_id": switch.user_id, "symbol": switch.symbol}, expires_at=None,
            now=timezone.now())
        if done.status == "pending":
            self.message_user(request, f"{switch}: release requested (override {done.id}); "
                              "a second operator approves it", messages.WARNING)


@admin.register(OverrideRequest)
class OverrideRequestAdmin(ReadOnlyAdmin):
    """Four eyes: pending overrides, approved or rejected by another operator than their
    requester; applied ones with an expiry revert by themselves."""

    list_display = ("id", "action", "params", "reason", "status", "requested_by",
                    "requested_at", "decided_by", "decided_at", "expires_at", "reverted_at")
    list_filter = ("status", "action")
    actions = ["approve", "reject"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_ops(request.user)  # the actions; the fields stay read-only

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in OverrideRequest._meta.fields]

    @admin.action(description="Approve (a second operator: never the requester)")
    def approve(self, request: HttpRequest, queryset: QuerySet[OverrideRequest]) -> None:
        for row in queryset:
            try:
                services.approve_override(request_id=row.pk, actor_id=request.user.pk,
                                          now=timezone.now())
            except services.OverrideRefused as exc:
                self.message_user(request, f"override {row.pk}: {exc}", messages.ERROR)
            except Exception as exc:  # noqa: BLE001 - the change's own refusal, shown
                self.message_user(request, f"override {row.pk} not applied: {exc}",
                                  messages.ERROR)
            else:
                self.message_user(request, f"override {row.pk} approved and applied",
                                  messages.SUCCESS)

    @admin.action(description="Reject")
    def reject(self, request: HttpRequest, queryset: QuerySet[OverrideRequest]) -> None:
        for row in queryset:
            try:
                services.reject_override(request_id=row.pk, actor_id=request.user.pk,
                                         now=timezone.now())
            except services.OverrideRefused as exc:
                self.message_user(request, f"override {row.pk}: {exc}", messages.ERROR)


@admin.register(RiskAudit)
class RiskAuditAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "subject")
    list_filter = ("action", "event_type")


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ("user", "symbol", "quantity", "average_entry_price", "realized_pnl")
    search_fields = ("user__username", "symbol")


@admin.register(MarginAccount)
class MarginAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Leverage per account; saved through the services, so audited and emitted."""

    list_display = ("user", "leverage", "updated_at")
    search_fields = ("user__username",)

    def save_model(self, request: HttpRequest, obj: MarginAccount, form: Any,
                   change: bool) -> None:
        services.set_leverage(actor_id=request.user.pk, user_id=obj.user_id,
                              leverage=obj.leverage)


@admin.register(InstrumentMargin)
class InstrumentMarginAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("symbol", "initial_margin", "maintenance_margin", "updated_at")

    def save_model(self, request: HttpRequest, obj: InstrumentMargin, form: Any,
                   change: bool) -> None:
        services.set_margin_rates(actor_id=request.user.pk, symbol=obj.symbol,
                                  initial=obj.initial_margin,
                                  maintenance=obj.maintenance_margin)
