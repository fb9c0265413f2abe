"""Persistence of the orders context: the instruments that can be traded and their rules.
(Orders themselves are added with the order entry API.)"""

from __future__ import annotations

from django.db import models

from oms.money import DECIMAL_PLACES, MAX_DIGITS


def amount_field(**kwargs: object) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)  # type: ignore[arg-type]


class Instrument(models.Model):
    class Status(models.TextChoices):
        TRADING = "trading"
        HALTED = "halted"

    symbol = models.CharField(max_length=25, unique=True)
    base_asset = models.CharField(max_length=12)
    quote_asset = models.CharField(max_length=12)
    tick_size = amount_field()
    lot_size = amount_field()
    min_quantity = amount_field()
    max_quantity = amount_field()
    min_notional = amount_field()
    maker_fee_rate = amount_field(default=0)
    taker_fee_rate = amount_field(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRADING)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tick_size__gt=0),
                                   name="instrument_tick_positive"),
            models.CheckConstraint(condition=models.Q(lot_size__gt=0),
                                   name="instrument_lot_positive"),
            models.CheckConstraint(condition=models.Q(min_quantity__lte=models.F("max_quantity")),
                                   name="instrument_quantity_bounds"),
        ]

    def __str__(self) -> str:
        return self.symbol
