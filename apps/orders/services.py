"""Public writes of the orders context: order entry (place, cancel, amend) and instruments.

Order entry never writes the database (D6): it checks the order against the instrument's
rules, reserves the client order id in Redis, publishes the request on `orders` (key:
symbol, D4) and waits for Kafka's acknowledgement, then caches the new order under
`order:{id}` for an hour. The processor is the writer of order state.

Kafka and Redis are called through their circuit breakers (`oms.resilience`): while one is
open, order entry fails at once with `OrderEntryUnavailable` whose `retry_after` is the
time until the breaker tries the dependency again, and leaves nothing behind."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import redis
from django.db.models import Q

from apps.orders import events
from apps.orders.api.serializers import PlaceOrderSerializer
from apps.orders.domain.rules import (
    LIMIT_TYPES,
    OrderTerms,
    Violation,
    check_notional,
    check_order,
    check_price,
    check_quantity,
)
from apps.orders.models import Fill, Instrument, Order
from apps.orders.selectors import (
    InstrumentRules,
    OrderView,
    cached_order_key,
    current_instrument_rules,
    forget_instrument_rules,
    instrument_rules,
    working_orders_matching,
)
from oms.events import new_event
from oms.kafka.producer import PublishError
from oms.kafka.shared import event_producer
from oms.kafka.topics import ORDERS
from oms.money import format_amount
from oms.redis import redis_client
from oms.resilience.breakers import BreakerOpen

logger = logging.getLogger(__name__)

# The request body of an order, for other contexts' OpenAPI schemas.
ORDER_REQUEST_SERIALIZER = PlaceOrderSerializer

ORDER_CACHE_SECONDS = 3600
CLIENT_ORDER_ID_SECONDS = 7 * 24 * 3600
# Order ids derived from (user, Idempotency-Key) live in this namespace (D6).
ORDER_ID_NAMESPACE = uuid.UUID("6f1c3a4e-2b0d-4c8e-9a57-0d6b8f3e2a11")


class OrderRejected(ValueError):
    """The order breaks the instrument's rules; nothing was published."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


class DuplicateClientOrderId(ValueError):
    pass


class OrderNotWorking(ValueError):
    """The order is already final (filled, settled, cancelled or rejected)."""


class OrderEntryUnavailable(RuntimeError):
    """A dependency (Kafka or Redis) failed before the request took effect: safe to retry
    after `retry_after` seconds."""

    # After a failed call with the breaker still closed: soon, but not at once.
    DEFAULT_RETRY_AFTER_SECONDS = 2

    def __init__(self, dependency: str, detail: str,
                 retry_after: int = DEFAULT_RETRY_AFTER_SECONDS) -> None:
        super().__init__(f"{dependency} unavailable: {detail}")
        self.dependency = dependency
        self.retry_after = retry_after

    @classmethod
    def caused_by(cls, dependency: str, exc: Exception) -> OrderEntryUnavailable:
        """An open breaker knows when it will try again: the client should wait that
        long (whole seconds, at least one, for `Retry-After`)."""
        if isinstance(exc, BreakerOpen):
            return cls(dependency, str(exc), retry_after=max(1, math.ceil(exc.retry_after)))
        return cls(dependency, str(exc))


def parse_order_request(data: object) -> OrderTerms:
    """The terms of an order request in the API's JSON shape; raises the API's validation
    error (400 with each field) when it is malformed. For endpoints of other contexts that
    take an order, such as the what-if decision."""
    serializer = PlaceOrderSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.terms()


def order_id_for(*, user_id: int, idempotency_key: str | None) -> uuid.UUID:
    if idempotency_key is None:
        return uuid.uuid4()
    return uuid.uuid5(ORDER_ID_NAMESPACE, f"{user_id}:{idempotency_key}")


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


def _publish(event_type: str, *, symbol: str, payload: dict[str, object]) -> None:
    try:
        event_producer().publish(ORDERS, key=symbol, event=new_event(event_type, payload))
    except PublishError as exc:
        raise OrderEntryUnavailable.caused_by("kafka", exc) from exc


def place_order(
    *,
    user_id: int,
    order_id: uuid.UUID,
    client_order_id: str | None,
    terms: OrderTerms,
    now: datetime | None = None,
) -> OrderView:
    """Check, publish `order.submitted` and cache the order; return it with status NEW."""
    now = now or datetime.now(UTC)
    rules = current_instrument_rules(symbol=terms.symbol)
    if rules is None:
        raise OrderRejected([Violation("symbol", "unknown_symbol",
                                       f"{terms.symbol} is not a known instrument")])
    violations = check_order(rules, terms, now=now)
    if violations:
        raise OrderRejected(violations)
    client_order_id = client_order_id or str(order_id)
    client_key = f"client_order:{user_id}:{client_order_id}"
    try:
        claimed = redis_client().set(client_key, str(order_id), nx=True,
                                     ex=CLIENT_ORDER_ID_SECONDS)
        if not claimed and redis_client().get(client_key) != str(order_id).encode():
            raise DuplicateClientOrderId(client_order_id)
    except redis.RedisError as exc:
        raise OrderEntryUnavailable.caused_by("redis", exc) from exc
    order = OrderView(
        id=order_id, user_id=user_id, client_order_id=client_order_id, symbol=terms.symbol,
        side=terms.side, type=terms.type, time_in_force=terms.time_in_force,
        quantity=terms.quantity, price=terms.price, stop_price=terms.stop_price,
        post_only=terms.post_only, expires_at=terms.expires_at, status="NEW",
        filled_quantity=Decimal(0), average_fill_price=None, reason_code="",
        created_at=now, updated_at=now,
    )
    try:
        _publish(events.ORDER_SUBMITTED, symbol=terms.symbol, payload=_submitted_payload(order))
    except OrderEntryUnavailable:
        _forget_quietly(client_key)
        raise
    try:
        redis_client().set(cached_order_key(order_id), order.to_json(), ex=ORDER_CACHE_SECONDS)
    except redis.RedisError as exc:
        # Published is published: reads fall back to the database once the processor has it.
        logger.warning("order %s published but not cached: %s", order_id, exc)
    return order


def _submitted_payload(order: OrderView) -> dict[str, object]:
    """The `order.submitted` payload of a new order (the cached view holds all of it)."""
    return {
        "order_id": str(order.id), "user_id": order.user_id,
        "client_order_id": order.client_order_id, "symbol": order.symbol,
        "side": order.side, "type": order.type, "time_in_force": order.time_in_force,
        "quantity": format_amount(order.quantity), "price": _amount(order.price),
        "stop_price": _amount(order.stop_price), "post_only": order.post_only,
        "expires_at": order.expires_at.isoformat() if order.expires_at else None,
        "submitted_at": order.created_at.isoformat(),
    }


def republish_unrecorded_orders() -> list[OrderView]:
    """Publish `order.submitted` again for each order that entry accepted (it is still in
    the `order:{id}` cache, an hour) but the processor never recorded, and return them.

    For a log that lost its records (a restarted memory broker): the accepted requests
    were only there. An order whose request is still in the log too is applied once: the
    processor ignores a second submission of a recorded order id."""
    client = redis_client()
    keys = list(client.scan_iter(match=cached_order_key("*"), count=1000))
    cached = [OrderView.from_json(raw) for raw in (client.mget(keys) if keys else [])
              if raw is not None]
    recorded = set(Order.objects.filter(id__in=[order.id for order in cached]
                                        ).values_list("id", flat=True))
    unrecorded = sorted((order for order in cached if order.id not in recorded),
                        key=lambda order: order.created_at)
    for order in unrecorded:
        _publish(events.ORDER_SUBMITTED, symbol=order.symbol, payload=_submitted_payload(order))
    return unrecorded


def _forget_quietly(key: str) -> None:
    try:
        redis_client().delete(key)
    except redis.RedisError as exc:
        logger.warning("could not release %s: %s", key, exc)


def request_cancel(*, order: OrderView, requested_by: int, reason: str = "user") -> None:
    """Publish `order.cancel_requested`; the processor cancels what is still working."""
    if not order.is_working:
        raise OrderNotWorking(f"order {order.id} is {order.status}")
    _publish(events.ORDER_CANCEL_REQUESTED, symbol=order.symbol, payload={
        "order_id": str(order.id), "user_id": order.user_id, "symbol": order.symbol,
        "requested_by": requested_by, "reason": reason,
    })


def request_amend(
    *, order: OrderView, requested_by: int, price: Decimal | None, quantity: Decimal | None
) -> None:
    """Publish `order.amend_requested` (cancel-replace: the processor keeps time priority
    only when the quantity goes down and the price stays)."""
    if not order.is_working:
        raise OrderNotWorking(f"order {order.id} is {order.status}")
    rules = current_instrument_rules(symbol=order.symbol)
    if rules is None:  # the instrument was deleted under a working order
        raise OrderNotWorking(f"{order.symbol} is no longer an instrument")
    violations = amend_violations(rules, order, price=price, quantity=quantity)
    if violations:
        raise OrderRejected(violations)
    _publish(events.ORDER_AMEND_REQUESTED, symbol=order.symbol, payload={
        "order_id": str(order.id), "user_id": order.user_id, "symbol": order.symbol,
        "requested_by": requested_by, "price": _amount(price), "quantity": _amount(quantity),
    })


def amend_violations(
    rules: InstrumentRules, order: OrderView, *, price: Decimal | None, quantity: Decimal | None
) -> list[Violation]:
    if price is None and quantity is None:
        return [Violation(None, "nothing_to_amend", "give a new price, a new quantity or both")]
    violations: list[Violation] = []
    if price is not None:
        if order.type not in LIMIT_TYPES:
            violations.append(Violation("price", "not_allowed",
                                        f"the price of a {order.type} order cannot change"))
        else:
            violations += check_price(rules, price, "price")
    if quantity is not None:
        violations += check_quantity(rules, quantity)
        if not violations and quantity <= order.filled_quantity:
            violations.append(Violation("quantity", "not_above_filled",
                                        f"quantity must exceed the filled {order.filled_quantity}"))
    new_price = price if price is not None else order.price
    if not violations and new_price is not None:
        violations += check_notional(rules, quantity or order.quantity, new_price)
    return violations


def cancel_all(*, user_id: int, requested_by: int, reason: str = "user",
               symbol: str | None = None) -> int:
    """Request the cancellation of every working order the processor has recorded for the
    user (optionally in one symbol); return how many were requested."""
    orders = working_orders_matching(user_id=user_id, symbol=symbol)
    for order in orders:
        request_cancel(order=order, requested_by=requested_by, reason=reason)
    return len(orders)


def upsert_instrument(
    *,
    symbol: str,
    base_asset: str,
    quote_asset: str,
    tick_size: Decimal,
    lot_size: Decimal,
    min_quantity: Decimal,
    max_quantity: Decimal,
    min_notional: Decimal,
    maker_fee_rate: Decimal,
    taker_fee_rate: Decimal,
) -> InstrumentRules:
    """Create an instrument or update its trading rules (status is left as it is)."""
    Instrument.objects.update_or_create(
        symbol=symbol,
        defaults={
            "base_asset": base_asset, "quote_asset": quote_asset, "tick_size": tick_size,
            "lot_size": lot_size, "min_quantity": min_quantity, "max_quantity": max_quantity,
            "min_notional": min_notional, "maker_fee_rate": maker_fee_rate,
            "taker_fee_rate": taker_fee_rate,
        },
    )
    forget_instrument_rules()
    rules = instrument_rules(symbol=symbol)
    assert rules is not None  # noqa: S101 - just written
    return rules


def set_instrument_status(*, symbol: str, trading: bool) -> None:
    """Halt or resume trading of an instrument."""
    Instrument.objects.filter(symbol=symbol).update(
        status=Instrument.Status.TRADING if trading else Instrument.Status.HALTED
    )
    forget_instrument_rules()


# The processor is the only writer of order state (D5). These are its calls, made inside
# its own transaction.


def record_submitted_order(
    *,
    order_id: uuid.UUID,
    user_id: int,
    client_order_id: str,
    symbol: str,
    side: str,
    order_type: str,
    time_in_force: str,
    quantity: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
    post_only: bool,
    expires_at: datetime | None,
    created_at: datetime,
) -> bool:
    """Record a newly submitted order (status NEW). False when the order id or the user's
    client order id is already recorded: a duplicate the processor must not apply."""
    if Order.objects.filter(Q(id=order_id) | Q(user_id=user_id, client_order_id=client_order_id)
                            ).exists():
        return False
    Order.objects.create(
        id=order_id, user_id=user_id, client_order_id=client_order_id, symbol=symbol,
        side=side, type=order_type, time_in_force=time_in_force, quantity=quantity, price=price,
        stop_price=stop_price, post_only=post_only, expires_at=expires_at, status="NEW",
        created_at=created_at, updated_at=created_at,
    )
    return True


def record_order_state(
    *,
    order_id: uuid.UUID,
    status: str,
    quantity: Decimal,
    price: Decimal | None,
    filled_quantity: Decimal,
    average_fill_price: Decimal | None,
    reason_code: str,
    updated_at: datetime,
) -> None:
    Order.objects.filter(id=order_id).update(
        status=status, quantity=quantity, price=price, filled_quantity=filled_quantity,
        average_fill_price=average_fill_price, reason_code=reason_code, updated_at=updated_at,
    )


def record_fill(
    *,
    fill_id: uuid.UUID,
    order_id: uuid.UUID,
    trade_id: uuid.UUID,
    price: Decimal,
    quantity: Decimal,
    fee: Decimal,
    fee_asset: str,
    liquidity: str,
    created_at: datetime,
) -> None:
    Fill.objects.create(id=fill_id, order_id=order_id, trade_id=trade_id, price=price,
                        quantity=quantity, fee=fee, fee_asset=fee_asset, liquidity=liquidity,
                        created_at=created_at)
