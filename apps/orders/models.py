"""Persistence of the orders context: instruments and their trading rules, and the read
model of orders and their fills."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Mod
from django.db.models.lookups import Exact

from oms.db import amount_field
from oms.money import MAX_FEE_RATE, MIN_STEP
from oms.terms import OrderStatus, OrderType, Side, TimeInForce, choices


def _on_min_step(field: str) -> Exact:
    return Exact(Mod(models.F(field), models.Value(MIN_STEP)), models.Value(0))


class Instrument(models.Model):
    """An instrument's trading rules. Tick and lot are positive multiples of `MIN_STEP`,
    fee rates lie strictly between -1 and 1, and the optional maximum price and notional
    narrow the global bounds (`OMS_MAX_PRICE`, `OMS_MAX_NOTIONAL`; `max_quantity` is
    narrowed by `OMS_MAX_QUANTITY`), so the money arithmetic has a known width."""

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
    max_price = amount_field(null=True, blank=True)
    max_notional = amount_field(null=True, blank=True)
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
            models.CheckConstraint(condition=models.Q(_on_min_step("tick_size"),
                                                      tick_size__gte=MIN_STEP),
                                   name="instrument_tick_on_min_step"),
            models.CheckConstraint(condition=models.Q(_on_min_step("lot_size"),
                                                      lot_size__gte=MIN_STEP),
                                   name="instrument_lot_on_min_step"),
            models.CheckConstraint(condition=models.Q(max_price__isnull=True)
                                   | models.Q(max_price__gt=0),
                                   name="instrument_max_price_positive"),
            models.CheckConstraint(condition=models.Q(max_notional__isnull=True)
                                   | models.Q(max_notional__gt=0),
                                   name="instrument_max_notional_positive"),
            models.CheckConstraint(condition=models.Q(maker_fee_rate__gt=-MAX_FEE_RATE,
                                                      maker_fee_rate__lt=MAX_FEE_RATE,
                                                      taker_fee_rate__gt=-MAX_FEE_RATE,
                                                      taker_fee_rate__lt=MAX_FEE_RATE),
                                   name="instrument_fee_rates_below_one"),
        ]

    def __str__(self) -> str:
        return self.symbol


class Order(models.Model):
    """The read model of an order. The API creates nothing here (D6): the processor records
    each order when it consumes `order.submitted` and is the only writer of its state. Its
    terms and status take the values of `oms.terms` (the choices are built from them)."""

    id = models.UUIDField(primary_key=True, editable=False)
    # No index of its own: the (user, client order id) constraint and the (user, created)
    # index both start with it, and each index is one more write per order (D10).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="orders", db_index=False)
    client_order_id = models.CharField(max_length=64)
    symbol = models.CharField(max_length=25)
    side = models.CharField(max_length=4, choices=choices(Side))
    type = models.CharField(max_length=10, choices=choices(OrderType))
    time_in_force = models.CharField(max_length=3, choices=choices(TimeInForce))
    expires_at = models.DateTimeField(null=True, blank=True)
    post_only = models.BooleanField(default=False)
    quantity = amount_field()
    price = amount_field(null=True, blank=True)
    stop_price = amount_field(null=True, blank=True)
    status = models.CharField(max_length=16, choices=choices(OrderStatus),
                              default=OrderStatus.NEW.value)
    filled_quantity = amount_field(default=0)
    average_fill_price = amount_field(null=True, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    # The last request on the order that the processor refused while the order stayed as
    # it was (an amend over a limit, a post-only amend that would cross): a client that
    # does not follow the stream learns it here. Defaults in the database too: the
    # processor's appends name only the columns they fill.
    refused_request = models.CharField(max_length=10, blank=True, default="", db_default="")
    refused_reason = models.CharField(max_length=40, blank=True, default="", db_default="")
    refused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_order_id"],
                                    name="order_client_order_id_unique_per_user"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_created"),
            models.Index(fields=["symbol", "status"], name="order_symbol_status"),
            models.Index(fields=["-created_at"], name="order_created"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.side} {self.quantity} {self.symbol} {self.status}"


class Fill(models.Model):
    """One side of one trade, as the processor recorded it."""

    class Liquidity(models.TextChoices):
        MAKER = "maker"
        TAKER = "taker"

    id = models.UUIDField(primary_key=True, editable=False)
    # No index of its own: the (order, trade) constraint starts with it.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fills",
                              db_index=False)
    trade_id = models.UUIDField()
    price = amount_field()
    quantity = amount_field()
    fee = amount_field()
    fee_asset = models.CharField(max_length=12)
    liquidity = models.CharField(max_length=5, choices=Liquidity.choices)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "trade_id"], name="fill_one_per_order_trade"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.quantity}@{self.price}"
