"""Value types of the matching engine: its order enums (the shared terms of `oms.terms`
and self-trade prevention), the incoming order spec, open-order snapshots, the engine
events and their reason codes.

They live apart from the engine so that callers (persistence, event publishing, tests) can
depend on the vocabulary without depending on the book's internals. Everything here is
immutable; prices are integer ticks and quantities integer lots, the caller converts to and
from ``Decimal`` with the instrument's tick and lot sizes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

# The terms an order shares with every context (`oms.terms`) are the engine's too; the
# engine, its tests and benchmarks name them from here.
from oms.terms import OrderType as OrderType
from oms.terms import Side as Side
from oms.terms import TimeInForce as TimeInForce


class SelfTradePrevention(enum.Enum):
    """What happens when the incoming order would trade with a resting order of its account."""

    CANCEL_RESTING = "cancel_resting"
    CANCEL_INCOMING = "cancel_incoming"
    CANCEL_BOTH = "cancel_both"
    NONE = "none"  # self-trades are allowed


# Reasons carried by ``Cancelled`` (the order was live; ``remaining`` lots are taken off).
CANCEL_USER: Final = "user"
CANCEL_IOC_REMAINDER: Final = "ioc_remainder"
CANCEL_MARKET_REMAINDER: Final = "market_remainder"
CANCEL_FOK_UNFILLABLE: Final = "fok_unfillable"
CANCEL_SELF_TRADE: Final = "self_trade_prevention"
CANCEL_EXPIRED: Final = "expired"

# Reasons carried by ``Rejected`` (nothing changed in the engine).
REJECT_INVALID_ORDER: Final = "invalid_order"
REJECT_ALREADY_EXPIRED: Final = "already_expired"
REJECT_DUPLICATE_ORDER_ID: Final = "duplicate_order_id"
REJECT_POST_ONLY_WOULD_TAKE: Final = "post_only_would_take"
REJECT_UNKNOWN_ORDER: Final = "unknown_order"
REJECT_INVALID_AMEND: Final = "invalid_amend"


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An order as submitted to the engine.

    ``price`` is required for LIMIT and STOP_LIMIT and must be None otherwise; ``stop_price``
    is required for STOP and STOP_LIMIT only; ``expires_at`` (epoch ns) is required for GTD
    only; ``post_only`` is allowed on GTC/GTD LIMIT orders only. Violations are rejected with
    ``invalid_order``.
    """

    order_id: str
    account: str
    side: Side
    order_type: OrderType
    quantity: int
    price: int | None = None
    stop_price: int | None = None
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_RESTING
    expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """Snapshot of a live order: resting on the book, or a stop order awaiting its trigger.

    ``order_type`` is the current type (a triggered STOP_LIMIT rests as LIMIT), ``sequence``
    its time priority (lower is earlier) and ``timestamp`` the ``now`` at which it got that
    priority.
    """

    order_id: str
    account: str
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int | None
    stop_price: int | None
    remaining: int
    post_only: bool
    stp: SelfTradePrevention
    expires_at: int | None
    sequence: int
    timestamp: int

    def to_spec(self) -> OrderSpec:
        """The spec that recreates this order (with its remaining quantity) in a fresh engine."""
        return OrderSpec(
            order_id=self.order_id,
            account=self.account,
            side=self.side,
            order_type=self.order_type,
            quantity=self.remaining,
            price=self.price,
            stop_price=self.stop_price,
            tif=self.tif,
            post_only=self.post_only,
            stp=self.stp,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True, slots=True)
class Accepted:
    """The submitted order passed validation and is live (precedes its trades)."""

    order_id: str


@dataclass(frozen=True, slots=True)
class Rested:
    """The order now rests on the book at ``price`` with ``remaining`` open lots."""

    order_id: str
    price: int
    remaining: int


@dataclass(frozen=True, slots=True)
class Trade:
    """One execution between a resting maker and an incoming taker, at the maker's price."""

    maker_order_id: str
    taker_order_id: str
    maker_account: str
    taker_account: str
    taker_side: Side
    price: int
    quantity: int
    maker_remaining: int
    taker_remaining: int


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A live order was removed with ``remaining`` lots unfilled, for ``reason``."""

    order_id: str
    remaining: int
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The request was refused; the engine state is unchanged by it."""

    order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Triggered:
    """A stop order was reached by a trade at ``trade_price`` and now executes as MARKET or
    LIMIT. (When one order's sweep prints several prices, ``trade_price`` is the highest for a
    buy stop and the lowest for a sell stop.)"""

    order_id: str
    trade_price: int


@dataclass(frozen=True, slots=True)
class Amended:
    """A resting order now has ``price`` and ``remaining`` open lots.

    With ``priority_kept`` False it lost its time priority and is re-entered like a new order:
    its trades (if the new price crosses) and ``Rested``/``Cancelled`` follow.
    """

    order_id: str
    price: int
    remaining: int
    priority_kept: bool


Event = Accepted | Rested | Trade | Cancelled | Rejected | Triggered | Amended
