"""Operator overrides of risk in the admin. Every change goes through `apps.risk.services`,
so it is audited (`RiskAudit`) and emitted on `risk-events` exactly as through the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.risk import services
from apps.risk.models import (
    InstrumentMargin,
    KillSwitch,
    MarginAccount,
    Position,
    RiskAudit,
    RiskLimit,
)
from apps.risk.selectors import LIMIT_FIELDS
from oms.admin import ReadOnlyAdmin


@admin.register(RiskLimit)
class RiskLimitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "symbol", *LIMIT_FIELDS)
    search_fields = ("user__username", "symbol")

    def save_model(self, request: HttpRequest, obj: RiskLimit, form: Any, change: bool) -> None:
        services.set_limits(actor_id=request.user.pk, user_id=obj.user_id, symbol=obj.symbol,
                            values={name: getattr(obj, name) for name in LIMIT_FIELDS})


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
            services.release_kill_switch(actor_id=request.user.pk, user_id=obj.user_id,
                                         symbol=obj.symbol)

    @admin.action(description="Engage: reject new orders and cancel working ones in scope")
    def engage(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        for switch in queryset:
            count = services.engage_kill_switch(actor_id=request.user.pk,
                                                user_id=switch.user_id, symbol=switch.symbol,
                                                reason=switch.reason or "admin")
            self.message_user(request, f"{switch}: {count} cancel requests", messages.INFO)

    @admin.action(description="Release")
    def release(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        for switch in queryset:
            services.release_kill_switch(actor_id=request.user.pk, user_id=switch.user_id,
                                         symbol=switch.symbol)


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
