"""Events the processing context emits on `executions` (key: symbol). Every state change
of an order is one of them; see docs/events.md."""

from oms.events import register_schema
from oms.events.fields import DECIMAL, OPTIONAL_DECIMAL, SYMBOL, UUID, payload_schema
from oms.terms import OrderStatus, Side, wire_values

ORDER_ACCEPTED = "order.accepted"
ORDER_REJECTED = "order.rejected"
ORDER_FILL = "order.fill"
ORDER_CANCELLED = "order.cancelled"
ORDER_SETTLED = "order.settled"
ORDER_AMENDED = "order.amended"
# On `prices` (key: symbol): the internal venue's book and trades, as market data.
BOOK_SNAPSHOT = "book.snapshot"
BOOK_DELTA = "book.delta"
TRADE = "trade"

_ORDER = {"order_id": UUID, "user_id": {"type": "integer"}, "symbol": SYMBOL}
_STATUS = {"enum": wire_values(OrderStatus)}
_SIDE = {"enum": wire_values(Side)}

register_schema(ORDER_ACCEPTED, payload_schema({
    **_ORDER, "side": _SIDE, "type": {"type": "string"},
    "quantity": DECIMAL, "price": OPTIONAL_DECIMAL, "status": _STATUS,
    "reserved": DECIMAL, "reserved_asset": {"type": "string"},
}))
register_schema(ORDER_REJECTED, payload_schema({
    **_ORDER,
    # `submit`: the order is rejected (status REJECTED). `cancel`/`amend`: the request is
    # refused and the order keeps its state.
    "request": {"enum": ["submit", "cancel", "amend"]},
    "reason": {"type": "string"}, "message": {"type": "string"}, "status": _STATUS,
}))
register_schema(ORDER_FILL, payload_schema({
    **_ORDER, "fill_id": UUID, "trade_id": UUID, "side": _SIDE,
    "price": DECIMAL, "quantity": DECIMAL, "fee": DECIMAL, "fee_asset": {"type": "string"},
    "liquidity": {"enum": ["maker", "taker"]}, "filled_quantity": DECIMAL,
    "remaining_quantity": DECIMAL, "average_fill_price": DECIMAL, "status": _STATUS,
    "counterparty_order_id": UUID,
}))
register_schema(ORDER_CANCELLED, payload_schema({
    **_ORDER, "reason": {"type": "string"}, "filled_quantity": DECIMAL,
    "cancelled_quantity": DECIMAL, "status": _STATUS,
}))
register_schema(ORDER_SETTLED, payload_schema({
    **_ORDER, "filled_quantity": DECIMAL, "average_fill_price": DECIMAL, "status": _STATUS,
}))
register_schema(ORDER_AMENDED, payload_schema({
    **_ORDER, "price": OPTIONAL_DECIMAL, "quantity": DECIMAL, "priority_kept": {"type": "boolean"},
    "status": _STATUS,
}))

_LEVELS = {"type": "array", "items": {"type": "array", "prefixItems": [DECIMAL, DECIMAL],
                                      "minItems": 2, "maxItems": 2}}
_BOOK = {"symbol": SYMBOL, "sequence": {"type": "integer", "minimum": 1},
         "bids": _LEVELS, "asks": _LEVELS}
# A snapshot lists every level (best first); a delta lists the levels that changed since
# the previous sequence, with quantity "0" for a level that is gone.
register_schema(BOOK_SNAPSHOT, payload_schema(_BOOK))
register_schema(BOOK_DELTA, payload_schema(_BOOK))
register_schema(TRADE, payload_schema({
    "symbol": SYMBOL, "trade_id": UUID, "price": DECIMAL, "quantity": DECIMAL,
    "taker_side": _SIDE,
}))
