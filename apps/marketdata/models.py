"""Persistence of the marketdata context: the internal venue's trades as market data (the
key for idempotency: a trade is recorded once, by `trade_id`) and the candles built from
them. The live book and prices live in Redis only; they are rebuilt from `prices`."""

from __future__ import annotations

from django.db import models

from oms.db import amount_field


class MarketTrade(models.Model):
    trade_id = models.UUIDField(primary_key=True)
    symbol = models.CharField(max_length=25)
    price = amount_field()
    quantity = amount_field()
    taker_side = models.CharField(max_length=4)
    traded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["symbol", "-traded_at"], name="mdtrade_symbol_time")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.quantity}@{self.price}"


class Candle(models.Model):
    class Interval(models.TextChoices):
        ONE_MINUTE = "1m"
        FIVE_MINUTES = "5m"
        ONE_HOUR = "1h"

    symbol = models.CharField(max_length=25)
    interval = models.CharField(max_length=3, choices=Interval.choices)
    start = models.DateTimeField()
    open = amount_field()
    high = amount_field()
    low = amount_field()
    close = amount_field()
    volume = amount_field()
    trade_count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["symbol", "interval", "start"],
                                               name="candle_one_per_bucket")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.interval} {self.start:%Y-%m-%dT%H:%M}"
