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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

import redis
from django.db import connection

from apps.orders import events
from apps.orders.api.serializers import PlaceOrderSerializer
from apps.orders.domain.rules import (
    OrderTerms as OrderTerms,  # part of this public face (the terms of an order)
)
from apps.orders.domain.rules import (
    Violation,
    check_notional,
    check_order,
    check_price,
    check_quantity,
)
from apps.orders.models import Instrument, Order
from apps.orders.selectors import (
    ORDER_CACHE_SECONDS,
    WORKING_STATUSES,
    FillView,
    InstrumentRules,
    OrderView,
    Refusal,
    cached_order_key,
    current_instrument_rules,
    forget_instrument_rules,
    instrument_rules,
    pending_orders,
    pending_orders_key,
    recorded_orders,
    working_orders_matching,
)
from oms.db import Append, sent_together
from oms.events import new_event
from oms.kafka.producer import PublishError, PublishOutcomeUnknown
from oms.kafka.shared import event_producer
from oms.kafka.topics import ORDERS
from oms.money import format_amount
from oms.redis import lua_script, redis_client, run_script
from oms.resilience.breakers import BreakerOpen
from oms.terms import LIMIT_TYPES, OrderStatus, OrderType, Side, TimeInForce

logger = logging.getLogger(__name__)

# The request body of an order, for other contexts' OpenAPI schemas.
ORDER_REQUEST_SERIALIZER = PlaceOrderSerializer

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


class OrderOutcomeUnknown(OrderEntryUnavailable):
    """Kafka did not confirm the publish in time: the request may have taken effect or not.
    Nothing says which until the processor records the order (or never does)."""

    def __init__(self, detail: str) -> None:
        super().__init__("kafka", detail)


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
    except PublishOutcomeUnknown as exc:
        raise OrderOutcomeUnknown(str(exc)) from exc
    except PublishError as exc:
        raise OrderEntryUnavailable.caused_by("kafka", exc) from exc


def place_order(
    *,
    user_id: int,
    order_id: uuid.UUID,
    client_order_id: str | None,
    terms: OrderTerms,
    now: datetime | None = None,
    keyed: bool = False,
) -> OrderView:
    """Check, claim the client order id, publish `order.submitted` and cache the order;
    return it with status NEW.

    `keyed`: the order id derives from an Idempotency-Key, so a retry sends this very order
    again (same id, same `now` as its submission time) and the processor records it once.
    Then a publish whose outcome is unknown keeps the client order id for that retry;
    otherwise it is released, and should the first publish have landed after all, the
    processor rejects the second order as a duplicate (`order.rejected`)."""
    order = new_order(user_id=user_id, order_id=order_id, client_order_id=client_order_id,
                      terms=terms, now=now or datetime.now(UTC))
    client_key = client_order_key(user_id=user_id, client_order_id=order.client_order_id)
    try:
        claimed = redis_client().set(client_key, str(order_id), nx=True,
                                     ex=CLIENT_ORDER_ID_SECONDS)
        if not claimed and redis_client().get(client_key) != str(order_id).encode():
            raise DuplicateClientOrderId(order.client_order_id)
    except redis.RedisError as exc:
        raise OrderEntryUnavailable.caused_by("redis", exc) from exc
    publish_new_order(order, keyed=keyed)
    return order


def new_order(*, user_id: int, order_id: uuid.UUID, client_order_id: str | None,
              terms: OrderTerms, now: datetime) -> OrderView:
    """The order as entry accepts it (status NEW, submitted `now`; without a client order
    id, its id stands for one), once it passes the instrument's rules: else
    `OrderRejected`, with every rule it breaks. No I/O but the process's rules cache, so
    order entry checks an order before it claims anything for it."""
    rules = current_instrument_rules(symbol=terms.symbol)
    if rules is None:
        raise OrderRejected([Violation("symbol", "unknown_symbol",
                                       f"{terms.symbol} is not a known instrument")])
    violations = check_order(rules, terms, now=now)
    if violations:
        raise OrderRejected(violations)
    return OrderView(
        id=order_id, user_id=user_id, client_order_id=client_order_id or str(order_id),
        symbol=terms.symbol, side=terms.side, type=terms.type,
        time_in_force=terms.time_in_force, quantity=terms.quantity, price=terms.price,
        stop_price=terms.stop_price, post_only=terms.post_only, expires_at=terms.expires_at,
        status=OrderStatus.NEW, filled_quantity=Decimal(0), average_fill_price=None, reason_code="",
        created_at=now, updated_at=now,
    )


def client_order_key(*, user_id: int, client_order_id: str) -> str:
    """Where a user's client order id is claimed (the order's id, for a week): entry's
    synchronous duplicate check. The processor refuses a duplicate that passed it anyway."""
    return f"client_order:{user_id}:{client_order_id}"


@dataclass(frozen=True, slots=True)
class AlsoSet:
    """A key written with a new order's cache entry, in its round trip: order entry's
    stored response to an Idempotency-Key."""

    key: str
    value: str
    seconds: int


def publish_new_order(order: OrderView, *, keyed: bool, also_set: AlsoSet | None = None
                      ) -> None:
    """Publish `order.submitted` of an order whose client order id is claimed and wait for
    Kafka's acknowledgement; then cache it and index it as pending, with `also_set`, in
    one round trip.

    A publish that failed releases the client order id, except when its outcome is unknown
    and the order is `keyed` (see `place_order`); then `OrderEntryUnavailable` (or
    `OrderOutcomeUnknown`) is raised. A failed cache write is only logged: published is
    published, and reads fall back to the database once the processor has the order."""
    client_key = client_order_key(user_id=order.user_id, client_order_id=order.client_order_id)
    try:
        _publish(events.ORDER_SUBMITTED, symbol=order.symbol, payload=_submitted_payload(order))
    except OrderOutcomeUnknown:
        if not keyed:
            _forget_quietly(client_key)
        raise
    except OrderEntryUnavailable:
        _forget_quietly(client_key)
        raise
    try:
        _cache_pending(order, also_set)
    except redis.RedisError as exc:
        logger.warning("order %s published but not cached: %s", order.id, exc)


# KEYS: the order's cache entry, the user's and the venue's pending indexes, then the key
# to set with them if any. ARGV: the order's JSON, the cache's TTL, the order's id, its
# score (submission time) and the score below which entries are trimmed, then that key's
# value and TTL.
_CACHE_PENDING = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], ARGV[4], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[5])
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
if KEYS[4] then redis.call('SET', KEYS[4], ARGV[6], 'EX', ARGV[7]) end
return 1
"""


def _cache_pending(order: OrderView, also_set: AlsoSet | None) -> None:
    """Write the new order's cache entry and its place in the pending indexes (the user's
    and the venue's), so reads, cancel-all and the kill switch find it before the
    processor records it; entries older than the cache are trimmed as new ones arrive.
    One script, atomic as the MULTI/EXEC pipeline of its eight commands (and `also_set`)
    that it replaces, for about a quarter of its CPU (redis-py encodes and parses one
    command instead of eleven)."""
    score = order.created_at.timestamp()
    keys = [cached_order_key(order.id), pending_orders_key(order.user_id),
            pending_orders_key(None)]
    args: list[str | int | float] = [order.to_json(), ORDER_CACHE_SECONDS, str(order.id),
                                     score, score - ORDER_CACHE_SECONDS]
    if also_set is not None:
        keys.append(also_set.key)
        args += [also_set.value, also_set.seconds]
    run_script(lua_script(_CACHE_PENDING), keys, args)


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
    recorded = recorded_orders(order_ids=[order.id for order in cached],
                               client_order_ids=[]).by_id
    # An order the processor refused without recording it (a duplicate) is final.
    unrecorded = sorted((order for order in cached
                         if order.id not in recorded and order.status != OrderStatus.REJECTED),
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
    """Request the cancellation of every working order of the user (optionally in one
    symbol), including those accepted but not yet processed; return how many."""
    return cancel_working_orders(user_id=user_id, symbol=symbol, requested_by=requested_by,
                                 reason=reason)


def cancel_working_orders(*, user_id: int | None, symbol: str | None,
                          requested_by: int | None, reason: str) -> int:
    """Request the cancellation of every working order in scope (a user's, or the venue's
    with `user_id` None; optionally one symbol): those the processor has recorded and
    those it has accepted at entry but not recorded yet (the pending index). A request for
    the latter follows its `order.submitted` on the symbol's partition, so the processor
    cancels it as soon as it is working. `requested_by` None: each order's own user. The
    scope is read in full before anything is published; Redis or Kafka down raises
    `OrderEntryUnavailable`. Returns how many were requested."""
    try:
        pending = pending_orders(user_id=user_id, symbol=symbol, limit=100_000)
    except redis.RedisError as exc:
        raise OrderEntryUnavailable.caused_by("redis", exc) from exc
    # A pending order the processor refused (`record_refused_submission`) is final.
    in_scope = {order.id: order for order in pending if order.is_working}
    in_scope.update((order.id, order)
                    for order in working_orders_matching(user_id=user_id, symbol=symbol))
    for order in in_scope.values():
        request_cancel(order=order, requested_by=requested_by or order.user_id, reason=reason)
    return len(in_scope)


class InstrumentInUse(ValueError):
    """A tick or lot change on a symbol with working orders, refused: their prices and
    quantities are whole ticks and lots of the old sizes, and the processor holds them in
    those units (#14 item 5)."""


def tick_or_lot_change_refusal(*, symbol: str, tick_size: Decimal,
                               lot_size: Decimal) -> str | None:
    """Why this tick and lot may not replace the symbol's current ones now (None: they
    may, because they are unchanged, the symbol is new, or no order of it is working)."""
    current = Instrument.objects.filter(symbol=symbol).values_list("tick_size",
                                                                  "lot_size").first()
    if current is None or (current[0] == tick_size and current[1] == lot_size):
        return None
    working = Order.objects.filter(symbol=symbol, status__in=WORKING_STATUSES).count()
    if not working:
        return None
    return (f"{symbol} has {working} working orders: its tick and lot sizes cannot change "
            "while orders rest; halt it and cancel them (or wait until they are filled), "
            "then change them")


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
    max_price: Decimal | None = None,
    max_notional: Decimal | None = None,
) -> InstrumentRules:
    """Create an instrument or update its trading rules (status is left as it is). Without
    its own `max_price` or `max_notional`, the global bounds (`OMS_MAX_*`) apply. A fee,
    bound or status change applies to the orders that come after it; a tick or lot change
    while orders of the symbol are working raises `InstrumentInUse`."""
    refusal = tick_or_lot_change_refusal(symbol=symbol, tick_size=tick_size,
                                         lot_size=lot_size)
    if refusal is not None:
        raise InstrumentInUse(refusal)
    Instrument.objects.update_or_create(
        symbol=symbol,
        defaults={
            "base_asset": base_asset, "quote_asset": quote_asset, "tick_size": tick_size,
            "lot_size": lot_size, "min_quantity": min_quantity, "max_quantity": max_quantity,
            "min_notional": min_notional, "maker_fee_rate": maker_fee_rate,
            "taker_fee_rate": taker_fee_rate, "max_price": max_price,
            "max_notional": max_notional,
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
# its own transaction, once per batch (D10).


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order's state as the processor leaves it at the end of a batch."""

    order_id: uuid.UUID
    status: OrderStatus
    quantity: Decimal
    price: Decimal | None
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    reason_code: str
    updated_at: datetime | None
    refusal: Refusal | None = None  # a request refused in the batch, the order unchanged


def record_refused_submission(*, order_id: uuid.UUID, reason_code: str,
                              updated_at: datetime) -> None:
    """A submission the processor refused without recording it (a duplicate): the entry
    cache, which reads and the pending list show until the processor records an order,
    says REJECTED with the reason instead of NEW. Idempotent; raises `redis.RedisError`."""
    client = redis_client()
    cached = client.get(cached_order_key(order_id))
    if cached is None:
        return
    view = replace(OrderView.from_json(cached), status=OrderStatus.REJECTED,
                   reason_code=reason_code, updated_at=updated_at)
    client.set(cached_order_key(order_id), view.to_json(), keepttl=True)


@dataclass(frozen=True, slots=True)
class SubmittedOrder:
    """An order a batch saw first: its terms, and its state at the end of the batch."""

    state: OrderState
    user_id: int
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    stop_price: Decimal | None
    post_only: bool
    expires_at: datetime | None
    created_at: datetime


_ORDER_COLUMNS = ("id", "user_id", "client_order_id", "symbol", "side", "type",
                  "time_in_force", "expires_at", "post_only", "quantity", "price",
                  "stop_price", "status", "filled_quantity", "average_fill_price",
                  "reason_code", "created_at", "updated_at", "refused_request",
                  "refused_reason", "refused_at")


def record_orders(*, submitted: list[SubmittedOrder], changed: list[OrderState],
                  fills: list[FillView]) -> None:
    """Write a batch's orders: the ones it submitted with their terms and state and its
    fills (`new_order_appends`), and the state of older ones it changed
    (`record_order_changes`)."""
    with sent_together(appending=new_order_appends(submitted=submitted, fills=fills)):
        record_order_changes(changed)


def new_order_appends(*, submitted: list[SubmittedOrder], fills: list[FillView]
                      ) -> list[Append]:
    """A batch's new orders with their terms and state, and its fills."""
    return [
        Append("orders_order", _ORDER_COLUMNS, [
            (o.state.order_id, o.user_id, o.client_order_id, o.symbol, o.side, o.order_type,
             o.time_in_force, o.expires_at, o.post_only, o.state.quantity, o.state.price,
             o.stop_price, o.state.status, o.state.filled_quantity,
             o.state.average_fill_price, o.state.reason_code, o.created_at,
             o.state.updated_at or o.created_at, *_refusal_values(o.state.refusal))
            for o in submitted]),
        Append("orders_fill", ("id", "order_id", "trade_id", "price", "quantity", "fee",
                               "fee_asset", "liquidity", "created_at"),
               [(f.id, f.order_id, f.trade_id, f.price, f.quantity, f.fee, f.fee_asset,
                 f.liquidity, f.created_at) for f in fills])]


def _refusal_values(refusal: Refusal | None) -> tuple[str, str, datetime | None]:
    """The `refused_*` columns of an order state: empty when nothing was refused."""
    return ("", "", None) if refusal is None else (refusal.request, refusal.reason,
                                                   refusal.at)


def record_refusal(*, order_id: uuid.UUID, refusal: Refusal) -> None:
    """A request on a recorded order refused outside a batch's flow (one the processor
    set aside as unprocessable): the record of a working order says so, as it does for a
    refusal the flow decided, so a client that polls the order learns it too. Nothing else
    changes; a final order's record is left as it is, as the flow leaves it (its status
    already says that nothing more can be done to it)."""
    Order.objects.filter(id=order_id, status__in=WORKING_STATUSES).update(
        refused_request=refusal.request, refused_reason=refusal.reason,
        refused_at=refusal.at, updated_at=refusal.at)


def record_order_changes(changed: list[OrderState]) -> None:
    """The state of older orders a batch changed, in one `UPDATE … FROM unnest` (sendable
    with other statements: nothing is read back). An order's last refusal stays until
    another request is refused (a book rebuilt from its rows does not know it)."""
    if changed:
        refusals = [_refusal_values(o.refusal) for o in changed]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE orders_order AS o SET status = v.status, quantity = v.quantity, "
                "price = v.price, filled_quantity = v.filled, average_fill_price = v.average, "
                "reason_code = v.reason, updated_at = v.updated, "
                "refused_request = CASE WHEN v.refused = '' THEN o.refused_request "
                "ELSE v.refused END, refused_reason = CASE WHEN v.refused = '' "
                "THEN o.refused_reason ELSE v.refused_reason END, refused_at = CASE "
                "WHEN v.refused = '' THEN o.refused_at ELSE v.refused_at END "
                "FROM unnest(%s::uuid[], "
                "%s::text[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], "
                "%s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::timestamptz[]) "
                "AS v (id, status, quantity, price, filled, average, reason, updated, "
                "refused, refused_reason, refused_at) WHERE o.id = v.id",
                [[o.order_id for o in changed], [o.status for o in changed],
                 [o.quantity for o in changed], [o.price for o in changed],
                 [o.filled_quantity for o in changed], [o.average_fill_price for o in changed],
                 [o.reason_code for o in changed], [o.updated_at for o in changed],
                 [r[0] for r in refusals], [r[1] for r in refusals],
                 [r[2] for r in refusals]])
