"""Operator views of the ledger. Balances change only through posted transactions, so the
admin shows them read-only; an operator corrects a balance with the "Adjust a balance"
form, which requests a balanced adjustment with its reason; a second operator approves it
(four eyes, Risk > Override requests), which posts and audits it."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.processing import services
from apps.processing.breaks import BreakAlreadyResolved, resolve_break
from apps.processing.ledger import LedgerError
from apps.processing.models import Break, LedgerAccount, LedgerPosting, LedgerTransaction
from oms.admin import ReadOnlyAdmin
from oms.auth.roles import is_ops


class AdjustBalanceForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.order_by("username"))
    asset = forms.CharField(max_length=12)
    amount = forms.DecimalField(max_digits=38, decimal_places=18,
                                help_text="signed: positive credits, negative debits")
    reason = forms.CharField(max_length=200, help_text="kept in the audit with the posting")
    reference = forms.CharField(max_length=100, initial=lambda: uuid.uuid4().hex,
                                help_text="the same reference applies once")


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "user", "asset", "available", "reserved", "updated_at")
    list_filter = ("kind", "asset")
    search_fields = ("user__username", "asset")
    change_list_template = "admin/processing/ledgeraccount/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        adjust = path("adjust/", self.admin_site.admin_view(self.adjust_balance),
                      name="processing_ledgeraccount_adjust")
        return [adjust, *super().get_urls()]

    def adjust_balance(self, request: HttpRequest) -> HttpResponse:
        if not is_ops(request.user):
            return HttpResponse("operators only", status=403)
        form = AdjustBalanceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                pending = services.request_adjustment(
                    actor_id=request.user.pk, user_id=data["user"].pk,
                    asset=data["asset"].upper(), amount=data["amount"], reason=data["reason"],
                    reference=data["reference"], now=timezone.now())
            except (LedgerError, ValueError) as exc:
                form.add_error(None, ValidationError(str(exc)))
            else:
                self.message_user(request, f"adjustment of {data['user']} "
                                  f"{data['asset'].upper()} by {data['amount']} requested "
                                  f"(override {pending.id}): a second operator approves it "
                                  "under Risk > Override requests", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:processing_ledgeraccount_changelist"))
        context: dict[str, Any] = {**self.admin_site.each_context(request), "form": form,
                                   "title": "Adjust a balance", "opts": self.model._meta}
        return TemplateResponse(request, "admin/processing/adjust_balance.html", context)


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


class ResolveBreakForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea, max_length=2000,
                           help_text="why this difference needs no more action; kept with "
                                     "the break and in the audit")


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "open"), ("resolved", "resolved")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Break)
class BreakAdmin(ReadOnlyAdmin):
    """Reconciliation breaks: read here, resolved with a note ("Resolve" on an open one);
    a break that heals is closed by the next reconciliation, with its evidence."""

    list_display = ("id", "kind", "subject", "expected", "actual", "first_seen_at",
                    "last_seen_at", "resolution", "resolved_by", "resolve_link")
    list_filter = (OpenFilter, "kind", "resolution")
    search_fields = ("subject", "detail", "note")
    ordering = ("-first_seen_at", "-id")

    @admin.display(description="")
    def resolve_link(self, row: Break) -> str:
        if row.resolved_at is not None:
            return ""
        return format_html('<a href="{}">Resolve</a>',
                           reverse("admin:processing_break_resolve", args=[row.pk]))

    def get_urls(self) -> list[URLPattern]:
        resolve = path("<int:break_id>/resolve/", self.admin_site.admin_view(self.resolve),
                       name="processing_break_resolve")
        return [resolve, *super().get_urls()]

    def resolve(self, request: HttpRequest, break_id: int) -> HttpResponse:
        if not is_ops(request.user):
            return HttpResponse("operators only", status=403)
        row = Break.objects.filter(pk=break_id).first()
        if row is None:
            return HttpResponse("no such break", status=404)
        form = ResolveBreakForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                resolve_break(break_id=row.pk, actor_id=request.user.pk,
                              note=form.cleaned_data["note"], now=timezone.now())
            except (BreakAlreadyResolved, ValueError) as exc:
                form.add_error(None, ValidationError(str(exc)))
            else:
                self.message_user(request, f"resolved {row}", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:processing_break_changelist"))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
            "title": f"Resolve break {row.pk}", "submit_label": "Resolve",
            "subject": f"{row.kind}: {row.subject} (expected {row.expected}, found "
                       f"{row.actual}; first seen {row.first_seen_at})"}
        return TemplateResponse(request, "admin/processing/operator_form.html", context)
