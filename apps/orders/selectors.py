"""Public reads of the orders context. What leaves here is plain frozen data, never a
model instance, so other contexts cannot reach into our tables."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.orders.models import Instrument


@dataclass(frozen=True, slots=True)
class InstrumentRules:
    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: Decimal
    max_quantity: Decimal
    min_notional: Decimal
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal
    trading: bool


def _rules(instrument: Instrument) -> InstrumentRules:
    return InstrumentRules(
        symbol=instrument.symbol,
        base_asset=instrument.base_asset,
        quote_asset=instrument.quote_asset,
        tick_size=instrument.tick_size,
        lot_size=instrument.lot_size,
        min_quantity=instrument.min_quantity,
        max_quantity=instrument.max_quantity,
        min_notional=instrument.min_notional,
        maker_fee_rate=instrument.maker_fee_rate,
        taker_fee_rate=instrument.taker_fee_rate,
        trading=instrument.status == Instrument.Status.TRADING,
    )


def instrument_rules(*, symbol: str) -> InstrumentRules | None:
    instrument = Instrument.objects.filter(symbol=symbol).first()
    return _rules(instrument) if instrument else None


def all_instrument_rules() -> list[InstrumentRules]:
    return [_rules(instrument) for instrument in Instrument.objects.order_by("symbol")]
