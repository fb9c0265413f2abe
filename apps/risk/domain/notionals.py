"""The notional an account traded in a minute, for the velocity check's notional limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from oms.money import MONEY_CONTEXT

ZERO = Decimal(0)


@dataclass(slots=True)
class MinuteNotionals:
    """An account's accepted notionals of one minute, by order, with their running total.
    The notional of an order's minute is the total less its own (a batch applied again
    decides its orders again), in constant time however many orders the minute holds:
    summing the others for each order made a batch quadratic in the minute's orders."""

    by_order: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = ZERO

    @classmethod
    def of(cls, by_order: dict[str, Decimal]) -> MinuteNotionals:
        total = ZERO
        for notional in by_order.values():
            total = MONEY_CONTEXT.add(total, notional)
        return cls(by_order, total)

    def besides(self, order_id: str) -> Decimal:
        return MONEY_CONTEXT.subtract(self.total, self.by_order.get(order_id, ZERO))

    def record(self, order_id: str, notional: Decimal) -> None:
        self.total = MONEY_CONTEXT.add(self.besides(order_id), notional)
        self.by_order[order_id] = notional
