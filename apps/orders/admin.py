"""Operator views of the orders context: instruments (rules, halting and resuming) and
orders (read-only; cancelling goes through order entry like any cancel request). A tick or
lot change on a symbol with working orders is refused with the reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.orders import selectors, services
from apps.orders.models import Instrument, Order
from oms.admin import ReadOnlyAdmin


class InstrumentForm(forms.ModelForm):  # type: ignore[type-arg]
    """Refuses a tick or lot change while orders of the symbol are working."""

    class Meta:
        model = Instrument
        fields = "__all__"  # noqa: DJ007 - the admin edits every rule of an instrument

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        tick, lot = cleaned.get("tick_size"), cleaned.get("lot_size")
        if self.instance.pk and tick is not None and lot is not None:
            refusal = services.tick_or_lot_change_refusal(
                symbol=self.instance.symbol, tick_size=tick, lot_size=lot)
            if refusal is not None:
                raise forms.ValidationError(refusal, code="instrument_in_use")
        return cleaned


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = InstrumentForm
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
