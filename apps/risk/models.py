"""Persistence of the risk context: positions per user and symbol."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from oms.money import DECIMAL_PLACES, MAX_DIGITS


class Position(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="positions")
    symbol = models.CharField(max_length=25)
    quantity = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES,
                                   default=0)
    average_entry_price = models.DecimalField(max_digits=MAX_DIGITS,
                                              decimal_places=DECIMAL_PLACES, default=0)
    realized_pnl = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES,
                                       default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "symbol"],
                                               name="position_one_per_user_symbol")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.symbol} {self.quantity}"
