"""An instrument's trading rules as plain data, shared by order entry, risk and matching.
The maximums are the effective ones: the instrument's own, narrowed by the global bounds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from oms.money import MAX_NOTIONAL, MAX_PRICE


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
    max_price: Decimal = MAX_PRICE
    max_notional: Decimal = MAX_NOTIONAL
