"""Operator views of the orders context: instruments (rules, halting and resuming) and
orders (read-only; cancelling goes through order entry like any cancel request)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.orders import selectors, services
from apps.orders.models import Instrument, Order
from oms.admin import ReadOnlyAdmin


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("symbol", "base_asset", "quote_asset", "tick_size", "lot_size",
                    "min_notional", "max_price", "max_notional", "maker_fee_rate",
                    "taker_fee_rate", "status")
    list_filter = ("status", "quote_asset")
    search_fields = ("symbol",)
    actions = ["halt", "resume"]

    @admin.action(description="Halt trading")
    def halt(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        for instrument in queryset:
            services.set_instrument_status(symbol=instrument.symbol, trading=False)

    @admin.action(description="Resume trading")
    def resume(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        for instrument in queryset:
            services.set_instrument_status(symbol=instrument.symbol, trading=True)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "symbol", "side", "type", "quantity", "price", "status",
                    "filled_quantity", "reason_code", "created_at")
    list_filter = ("status", "symbol", "side", "type")
    search_fields = ("id", "client_order_id", "user__username")
    actions = ["cancel"]

    @admin.action(description="Cancel (operator)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        requested = 0
        for order in queryset.filter(status__in=selectors.WORKING_STATUSES):
            services.request_cancel(order=selectors.order_view(order),
                                    requested_by=request.user.pk, reason="ops")
            requested += 1
        self.message_user(request, f"{requested} cancel requests sent", messages.INFO)
