"""The order lifecycle of ARCHITECTURE.md as one table, and the order actor that walks it.

    NEW -> ACCEPTED | REJECTED
    ACCEPTED | PARTIALLY_FILLED -> PARTIALLY_FILLED | FILLED | CANCELLED
    FILLED -> SETTLED

No other transition exists. The statuses are the one `oms.terms.OrderStatus` the read
model and the events use too. The actor holds one order's status and fill totals; each
behaviour (`on_created`, `on_risk_validated`, `on_filled`, `on_cancelled`, `on_settled`)
either moves it along the table or raises `IllegalTransition`, which the processor logs
and answers with a rejection: never a crash, never a silent change."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from oms.terms import OrderStatus

AVERAGE_PLACES = Decimal("1e-18")

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset({OrderStatus.ACCEPTED, OrderStatus.REJECTED}),
    OrderStatus.ACCEPTED: frozenset({OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED,
                                     OrderStatus.CANCELLED}),
    OrderStatus.PARTIALLY_FILLED: frozenset({OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED,
                                             OrderStatus.CANCELLED}),
    OrderStatus.FILLED: frozenset({OrderStatus.SETTLED}),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.SETTLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
WORKING = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


class IllegalTransition(ValueError):
    def __init__(self, current: OrderStatus, wanted: OrderStatus) -> None:
        super().__init__(f"{current} -> {wanted} is not a transition of the order lifecycle")
        self.current = current
        self.wanted = wanted


@dataclass(slots=True)
class OrderActor:
    """One order's lifecycle state. Amounts are exact Decimals."""

    order_id: str
    quantity: Decimal
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = Decimal(0)
    filled_notional: Decimal = Decimal(0)
    reason_code: str = ""

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def average_fill_price(self) -> Decimal | None:
        if not self.filled_quantity:
            return None
        # To the 18 places amounts are stored and sent with, whatever the context's precision.
        return (self.filled_notional / self.filled_quantity).quantize(AVERAGE_PLACES,
                                                                       ROUND_HALF_EVEN)

    @property
    def is_working(self) -> bool:
        return self.status in WORKING

    def _move(self, wanted: OrderStatus) -> None:
        if wanted not in TRANSITIONS[self.status]:
            raise IllegalTransition(self.status, wanted)
        self.status = wanted

    def on_created(self) -> None:
        """The order is known (status NEW); only a brand-new actor may be created."""
        if self.status is not OrderStatus.NEW or self.filled_quantity:
            raise IllegalTransition(self.status, OrderStatus.NEW)

    def on_risk_validated(self, *, accepted: bool, reason_code: str = "") -> None:
        self._move(OrderStatus.ACCEPTED if accepted else OrderStatus.REJECTED)
        self.reason_code = reason_code

    def on_filled(self, *, quantity: Decimal, price: Decimal) -> None:
        if quantity <= 0 or quantity > self.remaining:
            raise IllegalTransition(self.status, OrderStatus.FILLED)
        filled = self.filled_quantity + quantity
        self._move(OrderStatus.FILLED if filled == self.quantity else OrderStatus.PARTIALLY_FILLED)
        self.filled_quantity = filled
        self.filled_notional += quantity * price

    def on_amended(self, *, quantity: Decimal) -> None:
        """Cancel-replace keeps the order working with a new total quantity."""
        if not self.is_working or quantity <= self.filled_quantity:
            raise IllegalTransition(self.status, self.status)
        self.quantity = quantity

    def on_cancelled(self, *, reason_code: str) -> None:
        self._move(OrderStatus.CANCELLED)
        self.reason_code = reason_code

    def on_expired(self) -> None:
        self.on_cancelled(reason_code="expired")

    def on_settled(self) -> None:
        self._move(OrderStatus.SETTLED)
