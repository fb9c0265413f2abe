"""Events the orders context emits on topic `orders` (key: symbol, D4). The processor
consumes them; see docs/events.md."""

from oms.events import register_schema
from oms.events.fields import (
    DECIMAL,
    OPTIONAL_DECIMAL,
    OPTIONAL_TIMESTAMP,
    SYMBOL,
    TIMESTAMP,
    UUID,
    payload_schema,
)
from oms.terms import OrderType, Side, TimeInForce, wire_values

ORDER_SUBMITTED = "order.submitted"
ORDER_CANCEL_REQUESTED = "order.cancel_requested"
ORDER_AMEND_REQUESTED = "order.amend_requested"

SIDES = wire_values(Side)
ORDER_TYPES = wire_values(OrderType)
TIMES_IN_FORCE = wire_values(TimeInForce)
CANCEL_REASONS = ["user", "ops", "kill_switch", "expired", "dead_man", "disconnect"]

register_schema(ORDER_SUBMITTED, payload_schema({
    "order_id": UUID,
    "user_id": {"type": "integer"},
    "client_order_id": {"type": "string", "minLength": 1, "maxLength": 64},
    "symbol": SYMBOL,
    "side": {"enum": SIDES},
    "type": {"enum": ORDER_TYPES},
    "time_in_force": {"enum": TIMES_IN_FORCE},
    "quantity": DECIMAL,
    "price": OPTIONAL_DECIMAL,
    "stop_price": OPTIONAL_DECIMAL,
    "post_only": {"type": "boolean"},
    "expires_at": OPTIONAL_TIMESTAMP,
    "submitted_at": TIMESTAMP,
}))

register_schema(ORDER_CANCEL_REQUESTED, payload_schema({
    "order_id": UUID,
    "user_id": {"type": "integer"},
    "symbol": SYMBOL,
    "requested_by": {"type": "integer"},
    "reason": {"enum": CANCEL_REASONS},
}))

register_schema(ORDER_AMEND_REQUESTED, payload_schema({
    "order_id": UUID,
    "user_id": {"type": "integer"},
    "symbol": SYMBOL,
    "requested_by": {"type": "integer"},
    "price": OPTIONAL_DECIMAL,
    "quantity": OPTIONAL_DECIMAL,
}))
