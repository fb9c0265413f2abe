"""Operator views of the orders context: instruments (rules, halting and resuming)."""

from django.contrib import admin

from apps.orders.models import Instrument


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ("symbol", "base_asset", "quote_asset", "tick_size", "lot_size",
                    "min_notional", "maker_fee_rate", "taker_fee_rate", "status")
    list_filter = ("status", "quote_asset")
    search_fields = ("symbol",)
