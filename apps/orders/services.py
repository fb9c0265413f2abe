"""Public writes of the orders context."""

from __future__ import annotations

from decimal import Decimal

from apps.orders.models import Instrument
from apps.orders.selectors import InstrumentRules, instrument_rules


def upsert_instrument(
    *,
    symbol: str,
    base_asset: str,
    quote_asset: str,
    tick_size: Decimal,
    lot_size: Decimal,
    min_quantity: Decimal,
    max_quantity: Decimal,
    min_notional: Decimal,
    maker_fee_rate: Decimal,
    taker_fee_rate: Decimal,
) -> InstrumentRules:
    """Create an instrument or update its trading rules (status is left as it is)."""
    Instrument.objects.update_or_create(
        symbol=symbol,
        defaults={
            "base_asset": base_asset, "quote_asset": quote_asset, "tick_size": tick_size,
            "lot_size": lot_size, "min_quantity": min_quantity, "max_quantity": max_quantity,
            "min_notional": min_notional, "maker_fee_rate": maker_fee_rate,
            "taker_fee_rate": taker_fee_rate,
        },
    )
    rules = instrument_rules(symbol=symbol)
    assert rules is not None  # noqa: S101 - just written
    return rules
