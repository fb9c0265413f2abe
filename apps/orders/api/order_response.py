"""An order as order entry answers it (`POST /api/orders`, 202), built in plain Python
(issue 17: `OrderSerializer.to_representation`, a field object and its checks per value,
was a twentieth of order entry's CPU).

`OrderSerializer` stays the response's definition: the API schema is generated from it,
and the other order endpoints render with it. `represent` yields the very dict it does,
key for key in its order and value for value in its types, so the JSON is the same byte
for byte (tests/unit/orders/test_order_response.py compares the two on generated orders):
ids and terms as their text, amounts quantized and normalized as `AmountField` writes
them, moments in UTC in ISO 8601 with `Z`, as DRF's `DateTimeField` writes them under
`USE_TZ` with `TIME_ZONE = "UTC"`. An `OrderView`'s moments are aware (entry's clock, a
parsed request, the cache, the database), so DRF's handling of naive ones is not needed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.orders.selectors import OrderView
from oms.api.fields import AMOUNT_CONTEXT, AMOUNT_QUANTUM


def represent(order: OrderView) -> dict[str, Any]:
    """`OrderSerializer(order).data`, as a plain dict."""
    return {
        "id": str(order.id),
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "time_in_force": order.time_in_force.value,
        "quantity": _amount(order.quantity),
        "price": _optional_amount(order.price),
        "stop_price": _optional_amount(order.stop_price),
        "post_only": order.post_only,
        "expires_at": None if order.expires_at is None else _moment(order.expires_at),
        "status": order.status.value,
        "filled_quantity": _amount(order.filled_quantity),
        "average_fill_price": _optional_amount(order.average_fill_price),
        "reason_code": order.reason_code,
        "created_at": _moment(order.created_at),
        "updated_at": _moment(order.updated_at),
        "last_refusal": None if (refusal := order.last_refusal) is None else {
            "request": refusal.request, "reason": refusal.reason, "at": _moment(refusal.at)},
    }


def _amount(value: Decimal) -> str:
    # DRF's DecimalField: quantized in its own context, normalized in the thread's.
    return format(value.quantize(AMOUNT_QUANTUM, context=AMOUNT_CONTEXT).normalize(), "f")


def _optional_amount(value: Decimal | None) -> str | None:
    return None if value is None else _amount(value)


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()[:-len("+00:00")] + "Z"
