"""Pre-trade checks as pure functions over an explicit context, so the decision is fast,
deterministic and testable without the stack. Each check returns None (pass) or a
rejection with a stable code and a human message; the first failing check decides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PreTradeContext:
    """What the processor knows when it asks for a decision."""

    user_id: int
    symbol: str
    side: str
    quantity: Decimal
    trading: bool
    required_asset: str
    required_amount: Decimal
    available_amount: Decimal


@dataclass(frozen=True, slots=True)
class Decision:
    accepted: bool
    code: str = ""
    message: str = ""


ACCEPT = Decision(accepted=True)


def symbol_halted(context: PreTradeContext) -> Decision | None:
    if not context.trading:
        return Decision(False, "symbol_halted", f"{context.symbol} is halted")
    return None


def insufficient_funds(context: PreTradeContext) -> Decision | None:
    if context.required_amount > context.available_amount:
        return Decision(False, "insufficient_funds",
                        f"needs {context.required_amount} {context.required_asset}, "
                        f"{context.available_amount} available")
    return None


CHECKS: tuple[Callable[[PreTradeContext], Decision | None], ...] = (
    symbol_halted,
    insufficient_funds,
)


def decide(context: PreTradeContext) -> Decision:
    for check in CHECKS:
        decision = check(context)
        if decision is not None:
            return decision
    return ACCEPT
