"""Public face of the risk context: the pre-trade decision the processor asks for, and the
positions it keeps current with every fill."""

from __future__ import annotations

from decimal import Decimal

from apps.risk.domain.checks import Decision, PreTradeContext, decide
from apps.risk.domain.positions import PositionChange, apply_fill
from apps.risk.models import Position

__all__ = ["Decision", "PreTradeContext", "pre_trade_decision", "record_fill"]


def pre_trade_decision(context: PreTradeContext) -> Decision:
    """Accept, or reject with a stable code (`symbol_halted`, `insufficient_funds`, ...)."""
    return decide(context)


def record_fill(*, user_id: int, symbol: str, side: str, quantity: Decimal, price: Decimal,
                fee_in_quote: Decimal) -> None:
    """Move the user's position in `symbol` by one fill (called inside the processor's
    transaction, so a fill moves the position exactly once)."""
    position, _ = Position.objects.select_for_update().get_or_create(
        user_id=user_id, symbol=symbol)
    change = apply_fill(
        PositionChange(quantity=position.quantity, average_entry_price=position.average_entry_price,
                       realized_pnl=position.realized_pnl),
        side=side, quantity=quantity, price=price, fee_in_quote=fee_in_quote,
    )
    position.quantity = change.quantity
    position.average_entry_price = change.average_entry_price
    position.realized_pnl = change.realized_pnl
    position.save(update_fields=["quantity", "average_entry_price", "realized_pnl",
                                 "updated_at"])
