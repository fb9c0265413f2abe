"""Public reads of the orders context. What leaves the app is plain frozen data, never a
model instance, so other contexts cannot reach into our tables. (`orders_visible_to` hands
a queryset to this app's own API, which needs one for filtering and cursor pagination.)"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import cast

import orjson
import redis
from django.conf import settings
from django.db.models import Count, QuerySet

from apps.orders.domain.instruments import InstrumentRules
from apps.orders.models import Fill, Instrument, Order
from oms.db import Read, Rows
from oms.money import MAX_NOTIONAL, MAX_PRICE, MAX_QUANTITY
from oms.redis import redis_client
from oms.terms import (
    ORDER_STATUS_BY_VALUE,
    ORDER_TYPE_BY_VALUE,
    SIDE_BY_VALUE,
    TIME_IN_FORCE_BY_VALUE,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

__all__ = [
    "FINAL_STATUSES",
    "WORKING_STATUSES",
    "FillView",
    "InstrumentRules",
    "OrderView",
    "Refusal",
    "all_instrument_rules",
    "cached_order",
    "cached_order_key",
    "current_instrument_rules",
    "expired_working_orders",
    "fill_counts_by_trade",
    "fills_of",
    "fills_visible_to",
    "forget_instrument_rules",
    "instrument_rules",
    "instrument_rules_read",
    "order_view",
    "order_visible_to",
    "orders_visible_to",
    "pending_orders",
    "pending_orders_key",
    "recorded_orders",
    "recorded_orders_read",
    "working_orders_matching",
]

# How long order entry keeps a new order in its cache (`order:{id}`) and pending index.
ORDER_CACHE_SECONDS = 3600
# Working as the read model sees it: accepted at entry (NEW) and not final yet.
WORKING_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.ACCEPTED,
                              OrderStatus.PARTIALLY_FILLED})
FINAL_STATUSES = frozenset(set(OrderStatus) - WORKING_STATUSES)


def _exact_text(value: object) -> str:
    """What orjson cannot write itself: `Decimal` amounts, as their exact text."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} in an order view")


_DECIMALS = ("quantity", "price", "stop_price", "filled_quantity", "average_fill_price")
_TIMES = ("expires_at", "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request on an order (`amend`, `cancel`) that the processor refused while the order
    stayed as it was: its reason code (as on `order.rejected`) and when."""

    request: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderView:
    id: uuid.UUID
    user_id: int
    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    post_only: bool
    expires_at: datetime | None
    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    reason_code: str
    created_at: datetime
    updated_at: datetime
    last_refusal: Refusal | None = None

    @property
    def is_working(self) -> bool:
        return self.status in WORKING_STATUSES

    def to_json(self) -> str:
        """orjson writes the fields, ids and moments itself (ISO 8601, as `from_json`
        reads them), and amounts as their exact strings; `dataclasses.asdict` and
        `json.dumps` were a tenth of the CPU of an order's entry."""
        return orjson.dumps(self, default=_exact_text).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> OrderView:
        data = orjson.loads(text)
        data["id"] = uuid.UUID(data["id"])
        data["side"] = SIDE_BY_VALUE[data["side"]]
        data["type"] = ORDER_TYPE_BY_VALUE[data["type"]]
        data["time_in_force"] = TIME_IN_FORCE_BY_VALUE[data["time_in_force"]]
        data["status"] = ORDER_STATUS_BY_VALUE[data["status"]]
        for name in _DECIMALS:
            data[name] = Decimal(data[name]) if data[name] is not None else None
        for name in _TIMES:
            data[name] = datetime.fromisoformat(data[name]) if data[name] is not None else None
        refusal = data.pop("last_refusal", None)
        if refusal is not None:
            data["last_refusal"] = Refusal(refusal["request"], refusal["reason"],
                                           datetime.fromisoformat(refusal["at"]))
        return cls(**data)


@dataclass(frozen=True, slots=True)
class FillView:
    id: uuid.UUID
    order_id: uuid.UUID
    trade_id: uuid.UUID
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str
    created_at: datetime


def cached_order_key(order_id: uuid.UUID | str) -> str:
    """Where order entry caches a new order until the processor has recorded it (D6)."""
    return f"order:{order_id}"


def pending_orders_key(user_id: int | None) -> str:
    """The index of orders accepted by order entry, by submission time: one per user, and
    one for the venue (`user_id` None), each living as long as the order cache."""
    return "orders:pending" if user_id is None else f"orders:pending:{user_id}"


def pending_orders(*, user_id: int | None, symbol: str | None = None,
                   limit: int = 1000) -> list[OrderView]:
    """Orders accepted at entry (status NEW) that the processor has not recorded yet, newest
    first: a user's, or the venue's with `user_id` None; at most `limit` of the last hour.
    One Redis round trip for the index, one for the cached orders, one query to leave out
    what the processor has recorded (which the index then forgets, so it stays small).
    Raises `redis.RedisError` when Redis does not answer: callers that promise every
    order (cancel-all) must not carry on without them."""
    client = redis_client()
    key = pending_orders_key(user_id)
    members = cast("list[bytes]", client.zrevrangebyscore(
        key, "+inf", time.time() - ORDER_CACHE_SECONDS, start=0, num=limit))
    ids = [member.decode() for member in members]
    if not ids:
        return []
    views = [OrderView.from_json(text)
             for text in client.mget([cached_order_key(order_id) for order_id in ids])
             if text is not None]
    recorded = {str(order_id) for order_id in Order.objects.filter(
        id__in=[view.id for view in views]).values_list("id", flat=True)}
    forgotten = recorded | (set(ids) - {str(view.id) for view in views})
    if forgotten:
        client.zrem(key, *forgotten)
    return [view for view in views
            if str(view.id) not in recorded and (symbol is None or view.symbol == symbol)]


def _bound(own: Decimal | None, setting: str, ceiling: Decimal) -> Decimal:
    """The effective maximum: the instrument's own, the setting's and the ceiling's least."""
    return min(ceiling, Decimal(setting), ceiling if own is None else own)


_RULES_COLUMNS = ("symbol, base_asset, quote_asset, tick_size, lot_size, min_quantity, "
                  "max_quantity, min_notional, maker_fee_rate, taker_fee_rate, status, "
                  "max_price, max_notional")


def _rules_of(rows: Rows) -> list[InstrumentRules]:
    return [InstrumentRules(
        symbol=symbol, base_asset=base_asset, quote_asset=quote_asset, tick_size=tick_size,
        lot_size=lot_size, min_quantity=min_quantity,
        max_quantity=_bound(max_quantity, settings.OMS_MAX_QUANTITY, MAX_QUANTITY),
        min_notional=min_notional, maker_fee_rate=maker_fee_rate, taker_fee_rate=taker_fee_rate,
        trading=status == Instrument.Status.TRADING,
        max_price=_bound(max_price, settings.OMS_MAX_PRICE, MAX_PRICE),
        max_notional=_bound(max_notional, settings.OMS_MAX_NOTIONAL, MAX_NOTIONAL),
    ) for (symbol, base_asset, quote_asset, tick_size, lot_size, min_quantity, max_quantity,
           min_notional, maker_fee_rate, taker_fee_rate, status, max_price, max_notional)
        in rows]


def instrument_rules_read() -> Read[list[InstrumentRules]]:
    """Every instrument's rules, by symbol: a read a processor batch sends with its others
    (`oms.db.read_together`)."""
    return Read.one(f"SELECT {_RULES_COLUMNS} FROM orders_instrument ORDER BY symbol",  # noqa: S608 - constants
                    [], _rules_of)


def all_instrument_rules() -> list[InstrumentRules]:
    return instrument_rules_read().run()


def instrument_rules(*, symbol: str) -> InstrumentRules | None:
    found = Read.one(f"SELECT {_RULES_COLUMNS} FROM orders_instrument WHERE symbol = %s",  # noqa: S608 - constants
                     [symbol], _rules_of).run()
    return found[0] if found else None


_RULES_CACHE_SECONDS = 5.0
_rules_cache: dict[str, tuple[float, InstrumentRules]] = {}


def current_instrument_rules(*, symbol: str) -> InstrumentRules | None:
    """Instrument rules remembered in the process for a few seconds, so order entry does not
    query the database per request (D6). A halt reaches order entry within that time; the
    processor checks the trading status again before it accepts an order. Only real
    instruments are remembered: a request for any symbol at all must not grow the cache."""
    now = time.monotonic()
    hit = _rules_cache.get(symbol)
    if hit is not None and hit[0] > now:
        return hit[1]
    rules = instrument_rules(symbol=symbol)
    if rules is None:
        _rules_cache.pop(symbol, None)
    else:
        _rules_cache[symbol] = (now + _RULES_CACHE_SECONDS, rules)
    return rules


def forget_instrument_rules() -> None:
    _rules_cache.clear()


def order_view(order: Order) -> OrderView:
    return OrderView(
        id=order.id, user_id=order.user_id, client_order_id=order.client_order_id,
        symbol=order.symbol, side=SIDE_BY_VALUE[order.side], type=ORDER_TYPE_BY_VALUE[order.type],
        time_in_force=TIME_IN_FORCE_BY_VALUE[order.time_in_force], quantity=order.quantity,
        price=order.price, stop_price=order.stop_price, post_only=order.post_only,
        expires_at=order.expires_at, status=ORDER_STATUS_BY_VALUE[order.status],
        filled_quantity=order.filled_quantity,
        average_fill_price=order.average_fill_price, reason_code=order.reason_code,
        created_at=order.created_at, updated_at=order.updated_at,
        last_refusal=None if not order.refused_request or order.refused_at is None
        else Refusal(order.refused_request, order.refused_reason, order.refused_at),
    )


def orders_visible_to(*, user_id: int, sees_all: bool) -> QuerySet[Order]:
    orders = Order.objects.all()
    return orders if sees_all else orders.filter(user_id=user_id)


def order_visible_to(*, order_id: uuid.UUID, user_id: int, sees_all: bool) -> OrderView | None:
    """The order as the processor recorded it, else as order entry cached it, if the viewer
    may see it (another user's order is simply not found)."""
    order = orders_visible_to(user_id=user_id, sees_all=sees_all).filter(id=order_id).first()
    if order is not None:
        return order_view(order)
    view = cached_order(order_id=order_id)
    return view if view is not None and (sees_all or view.user_id == user_id) else None


def cached_order(*, order_id: uuid.UUID) -> OrderView | None:
    """The order as order entry cached it once Kafka acknowledged it (None without Redis)."""
    try:
        cached = redis_client().get(cached_order_key(order_id))
    except redis.RedisError:
        return None
    return None if cached is None else OrderView.from_json(cached)


def fills_of(*, order_id: uuid.UUID) -> list[FillView]:
    return [
        FillView(id=fill.id, order_id=fill.order_id, trade_id=fill.trade_id, price=fill.price,
                 quantity=fill.quantity, fee=fill.fee, fee_asset=fill.fee_asset,
                 liquidity=fill.liquidity, created_at=fill.created_at)
        for fill in Fill.objects.filter(order_id=order_id).order_by("created_at", "id")
    ]


def fills_visible_to(*, user_id: int) -> QuerySet[Fill]:
    """The user's own fills across all their orders, with each order's symbol and side at
    hand (one query per page, the order joined)."""
    return Fill.objects.filter(order__user_id=user_id).select_related("order")


def fill_counts_by_trade() -> dict[str, int]:
    """How many fills each trade has (two: the maker's and the taker's), for reconciliation."""
    return {str(row["trade_id"]): row["fills"]
            for row in Fill.objects.values("trade_id").annotate(fills=Count("id"))}


def expired_working_orders(*, now: datetime, limit: int = 1000) -> list[OrderView]:
    orders = Order.objects.filter(status__in=WORKING_STATUSES, time_in_force=TimeInForce.GTD,
                                  expires_at__lte=now).order_by("expires_at")[:limit]
    return [order_view(order) for order in orders]


def working_orders_matching(*, user_id: int | None, symbol: str | None) -> list[OrderView]:
    """Working orders of one user, one symbol, both, or (neither) the whole venue."""
    orders = Order.objects.filter(status__in=WORKING_STATUSES)
    if user_id is not None:
        orders = orders.filter(user_id=user_id)
    if symbol:
        orders = orders.filter(symbol=symbol)
    return [order_view(order) for order in orders]


class Submission(Enum):
    """What an `order.submitted` is to the read model (`RecordedOrders.classify`)."""

    RECORDED = "recorded"  # new: the processor records it
    # The same submission again (same id and submission time): order entry re-sent an order
    # whose first publish timed out, and both arrived. Already applied: ignore it silently.
    REPEATED = "repeated"
    # Another submission under a recorded id: the same Idempotency-Key used again after
    # Redis forgot it (24 h). Refused with `order.rejected`; the recorded order is intact.
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    # Another order of the user already has this client order id (Redis forgot it after
    # 7 days, or the first publish timed out and the client retried). Refused likewise.
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"


@dataclass(frozen=True, slots=True)
class RecordedOrder:
    order_id: uuid.UUID
    status: OrderStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RecordedOrders:
    """What the read model already holds of some orders: each by id, and by (user, client
    order id)."""

    by_id: dict[uuid.UUID, RecordedOrder]
    by_client_order_id: dict[tuple[int, str], RecordedOrder]

    def classify(self, *, order_id: uuid.UUID, user_id: int, client_order_id: str,
                 submitted_at: datetime) -> tuple[Submission, RecordedOrder | None]:
        """What a submission is, and the recorded order it collides with (if any)."""
        same_id = self.by_id.get(order_id)
        if same_id is not None:
            repeated = same_id.created_at == submitted_at
            return (Submission.REPEATED if repeated else Submission.DUPLICATE_ORDER_ID), same_id
        taken = self.by_client_order_id.get((user_id, client_order_id))
        if taken is not None:
            return Submission.DUPLICATE_CLIENT_ORDER_ID, taken
        return Submission.RECORDED, None


def recorded_orders_read(*, order_ids: list[uuid.UUID],
                         client_order_ids: list[tuple[int, str]]) -> Read[RecordedOrders]:
    """One query for a processor batch: the orders it names (by id) and those holding the
    client order ids of its submissions."""
    # Index look-ups whatever the table's size: an `OR` of the two conditions, or a plain
    # join (with few accounts), made PostgreSQL scan the whole table in every batch. The
    # `LIMIT 1` (the pair is unique) keeps the lateral a look-up per pair; an order found
    # both ways comes twice, which the dictionaries below absorb.
    return Read.one(
        "SELECT id, user_id, client_order_id, status, created_at FROM orders_order "
        "WHERE id = ANY(%s::uuid[]) UNION ALL "
        "SELECT o.id, o.user_id, o.client_order_id, o.status, o.created_at "
        "FROM unnest(%s::bigint[], %s::text[]) AS v (user_id, key) CROSS JOIN LATERAL "
        "(SELECT * FROM orders_order AS x WHERE x.user_id = v.user_id "
        "AND x.client_order_id = v.key LIMIT 1) AS o",
        [order_ids, [user for user, _ in client_order_ids],
         [key for _, key in client_order_ids]], _recorded_orders)


def _recorded_orders(rows: Rows) -> RecordedOrders:
    found = [(RecordedOrder(order_id=row[0], status=ORDER_STATUS_BY_VALUE[row[3]],
                            created_at=row[4]), row[1], row[2])
             for row in rows]
    return RecordedOrders(by_id={order.order_id: order for order, _, _ in found},
                          by_client_order_id={(user, key): order for order, user, key in found})


def recorded_orders(*, order_ids: list[uuid.UUID],
                    client_order_ids: list[tuple[int, str]]) -> RecordedOrders:
    if not order_ids and not client_order_ids:
        return RecordedOrders({}, {})
    return recorded_orders_read(order_ids=order_ids, client_order_ids=client_order_ids).run()
