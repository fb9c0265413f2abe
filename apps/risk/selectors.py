"""Public reads of the risk context."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.risk.models import Position


@dataclass(frozen=True, slots=True)
class PositionView:
    user_id: int
    symbol: str
    quantity: Decimal
    average_entry_price: Decimal
    realized_pnl: Decimal


def positions_of(*, user_id: int) -> list[PositionView]:
    return [
        PositionView(user_id=p.user_id, symbol=p.symbol, quantity=p.quantity,
                     average_entry_price=p.average_entry_price, realized_pnl=p.realized_pnl)
        for p in Position.objects.filter(user_id=user_id).order_by("symbol")
    ]
