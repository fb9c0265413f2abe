"""The notional an account traded in a minute, for the velocity check's notional limit.

A minute's total lives in Redis, shared by every processor, and is read once per batch
whatever the number of orders the minute holds: it is kept as exact integers, the
notional in units of 10**-36 split into limbs of nine digits, each added with `HINCRBY`
(Lua's numbers are doubles, exact only to 2**53, and `HINCRBYFLOAT` is a float)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from oms.money import MONEY_CONTEXT

ZERO = Decimal(0)
NOTIONAL_PLACES = 36  # a price and a quantity of 18 places each: their product is exact
LIMB_DIGITS = 9  # a limb's sum stays far inside a 64-bit integer
LIMBS = 7  # 63 digits: the widest price times the widest quantity (10**18) needs 55
_LIMB = 10 ** LIMB_DIGITS


def to_limbs(notional: Decimal) -> str:
    """`notional` as Redis keeps it: its limbs, least significant first, separated by
    commas. A notional finer than 10**-36 (a market order valued at a feed's price) is
    rounded up to it: the minute never counts less than was traded."""
    units = int(notional.scaleb(NOTIONAL_PLACES, MONEY_CONTEXT)
                .to_integral_value(rounding=ROUND_CEILING))
    if not 0 <= units < _LIMB ** LIMBS:
        raise ValueError(f"notional {notional} is outside what a minute can hold")
    return ",".join(str(units // _LIMB ** i % _LIMB) for i in range(LIMBS))


def from_limbs(limbs: Iterable[int]) -> Decimal:
    """The notional of limbs read back (each may be any integer: a total's limbs are
    sums, less what was taken back)."""
    units = sum(limb * _LIMB ** i for i, limb in enumerate(limbs))
    return Decimal(units).scaleb(-NOTIONAL_PLACES, MONEY_CONTEXT)


@dataclass(slots=True)
class MinuteNotionals:
    """An account's notionals of one minute as a batch sees them: the minute's total, and
    the notionals already recorded of the batch's own orders (a batch applied again
    decides its orders again). An order's minute is the total less its own."""

    by_order: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = ZERO

    def besides(self, order_id: str) -> Decimal:
        return MONEY_CONTEXT.subtract(self.total, self.by_order.get(order_id, ZERO))

    def record(self, order_id: str, notional: Decimal) -> None:
        self.total = MONEY_CONTEXT.add(self.besides(order_id), notional)
        self.by_order[order_id] = notional
