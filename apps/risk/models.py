"""Persistence of the risk context: positions, limits per scope, kill switches, daily
P&L and the audit of every override and risk event."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from oms.db import amount_field


def _limit(help_text: str) -> models.DecimalField:  # type: ignore[type-arg]
    return amount_field(null=True, blank=True, help_text=help_text)


class Position(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="positions")
    symbol = models.CharField(max_length=25)
    quantity = amount_field(default=0)
    average_entry_price = amount_field(default=0)
    realized_pnl = amount_field(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "symbol"],
                                               name="position_one_per_user_symbol")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.symbol} {self.quantity}"


class RiskLimit(models.Model):
    """Limits for a scope: global (no user, no symbol), an instrument's default (symbol),
    an account (user) or an account in one instrument (user and symbol). For each limit
    the most specific scope that sets it wins; an empty limit means "no limit here"."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="risk_limits")
    symbol = models.CharField(max_length=25, blank=True)
    max_position = _limit("maximum absolute position, in base units")
    max_position_notional = _limit("maximum absolute position, in quote at the reference price")
    max_order_quantity = _limit("maximum quantity of one order")
    max_order_notional = _limit("maximum price times quantity of one order")
    max_open_orders = models.PositiveIntegerField(null=True, blank=True)
    price_band = _limit("maximum distance of a limit price from the reference, as a fraction "
                        "(0.1 = 10 %)")
    daily_loss = _limit("maximum loss since 00:00 UTC, realized plus unrealized, in quote")
    concentration = _limit("maximum share of one symbol in the account's gross exposure "
                           "(0.5 = 50 %)")
    max_orders_per_second = models.PositiveIntegerField(null=True, blank=True)
    max_orders_per_minute = models.PositiveIntegerField(null=True, blank=True)
    max_notional_per_minute = _limit("maximum notional of the orders of one minute, in quote")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "symbol"],
                                               nulls_distinct=False,
                                               name="risk_limit_one_per_scope")]

    def __str__(self) -> str:
        return f"limits {self.user_id or 'all'} {self.symbol or '*'}"


class KillSwitch(models.Model):
    """Engaged: new orders in scope are rejected (`kill_switch`) and working ones cancelled.
    Scope: global (no user, no symbol), an account, a symbol, or both."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="kill_switches")
    symbol = models.CharField(max_length=25, blank=True)
    engaged = models.BooleanField(default=True)
    reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "symbol"], nulls_distinct=False,
                                               name="kill_switch_one_per_scope")]

    def __str__(self) -> str:
        return f"kill switch {self.user_id or 'all'} {self.symbol or '*'} {self.engaged}"


class DailyPnl(models.Model):
    """Realized P&L (fees included) of one account in one UTC day, for the daily loss check."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    day = models.DateField()
    realized = amount_field(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"],
                                               name="daily_pnl_one_per_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} {self.realized}"


class RiskAudit(models.Model):
    """Every operator override and risk event: who, when, what, before and after."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40)
    subject = models.CharField(max_length=100)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"], name="risk_audit_created")]

    def __str__(self) -> str:
        return f"{self.created_at} {self.action} {self.subject}"


class MarginAccount(models.Model):
    """An account's leverage. Without a row (or at 1) the account is spot: fully funded."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="margin_account")
    leverage = amount_field(default=1, help_text="1 = spot; above 1 the account may borrow "
                            "up to equity x leverage of gross exposure")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(leverage__gte=1),
                                              name="margin_leverage_at_least_one")]

    def __str__(self) -> str:
        return f"{self.user_id} x{self.leverage}"


class InstrumentMargin(models.Model):
    """Margin rates of one instrument; instruments without a row use the settings'
    defaults (`RISK_INITIAL_MARGIN`, `RISK_MAINTENANCE_MARGIN`)."""

    symbol = models.CharField(max_length=25, unique=True)
    initial_margin = amount_field(help_text="fraction of notional to open (0.1 = at most "
                                  "10x leverage)")
    maintenance_margin = amount_field(help_text="fraction of notional equity must stay above")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=models.Q(maintenance_margin__gt=0, initial_margin__gte=models.F(
                "maintenance_margin"), initial_margin__lte=1),
            name="margin_rates_ordered")]

    def __str__(self) -> str:
        return f"{self.symbol} im {self.initial_margin} mm {self.maintenance_margin}"


class ConfigVersion(models.Model):
    """One row whose `version` changes whenever the risk configuration does (limits, kill
    switches, leverage, margin rates: statement triggers on those tables write a new
    number from a sequence, migration 0006). A processor keeps that configuration in
    memory and reads it again only when this row says it changed (`apps.risk.batch`)."""

    id = models.SmallIntegerField(primary_key=True)
    version = models.BigIntegerField()

    def __str__(self) -> str:
        return f"risk configuration version {self.version}"


class OverrideRequest(models.Model):
    """An operator's override that waits for a second operator (four eyes) or carries an
    expiry: what to do (`action`, `params`), who asked, who decided, and, once applied, what
    it replaced (`before`), so that it can revert by itself at `expires_at`."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPLIED = "applied"
        REJECTED = "rejected"
        REVERTED = "reverted"
        FAILED = "failed"

    action = models.CharField(max_length=40)
    params = models.JSONField()
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    needs_approval = models.BooleanField(default=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="override_due")]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk} ({self.status})"
