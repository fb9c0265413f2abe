"""Operator views of the ledger. Balances change only through posted transactions, so the
admin shows them read-only; deposits and withdrawals go through the services."""

from django.contrib import admin

from apps.processing.models import LedgerAccount, LedgerPosting, LedgerTransaction
from oms.admin import ReadOnlyAdmin


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "user", "asset", "available", "reserved", "updated_at")
    list_filter = ("kind", "asset")
    search_fields = ("user__username", "asset")


class PostingInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LedgerPosting
    extra = 0
    can_delete = False
    readonly_fields = ("account", "bucket", "amount")


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "reference", "created_at")
    list_filter = ("kind",)
    search_fields = ("reference",)
    inlines = [PostingInline]
