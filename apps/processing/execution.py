"""The order flow of one symbol: each request from `orders` goes through the order actor,
the pre-trade decision, the ledger and the matching engine, and comes out as changes to
the batch's state in memory (`BatchWork`) and `executions` events. No database or Redis
call happens here (D10): the batch read what the flow needs before and writes what it
changed after. Nothing here reads the clock or makes random ids, so a replay of the same
input gives the same ids, events and postings."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings

from apps.orders.selectors import FillView, InstrumentRules, Refusal, Submission
from apps.processing import events as executions
from apps.processing.domain import funds
from apps.processing.domain.lifecycle import IllegalTransition, OrderActor
from apps.processing.domain.matching import MatchingEngine
from apps.processing.domain.orders import (
    Amended,
    Cancelled,
    Event,
    OrderSpec,
    Rejected,
    Rested,
    SelfTradePrevention,
    Trade,
    Triggered,
)
from apps.processing.ledger import InsufficientFunds, LedgerError
from apps.processing.settlement import TradeSettlement, borrow, release, reserve, settle_trade
from apps.risk import services as risk
from oms.events import Event as Envelope
from oms.events import new_event
from oms.ids import NameSeries, name_based_id, name_based_uuid_and_id, parse_uuid
from oms.kafka.topics import EXECUTIONS, PRICES
from oms.money import format_amount
from oms.terms import (
    LIMIT_TYPES,
    ORDER_TYPE_BY_VALUE,
    SIDE_BY_VALUE,
    TIME_IN_FORCE_BY_VALUE,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

if TYPE_CHECKING:
    from apps.processing.batch_work import BatchWork

logger = logging.getLogger(__name__)

ID_NAMESPACE = uuid.UUID("0b7f3c1e-5a2d-4f60-8e91-3c4d5e6f7a8b")
PRIORITY_SLOTS = 10_000  # priorities are offset * PRIORITY_SLOTS + n: monotonic across restarts
SNAPSHOT_LEVELS = 500
SNAPSHOT_EVERY = 100  # book deltas between two snapshots on `prices`


def stable_key(*parts: object) -> str:
    """An id derived from the input that caused it, so a replay derives the same id (kept
    as text: event ids)."""
    return name_based_id(ID_NAMESPACE, ":".join(map(str, parts)))


def epoch_ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


@dataclass(slots=True)
class LiveOrder:
    """An order that is live in this processor's book, with what it holds in reserve. Its
    terms are `oms.terms` members, converted once as the order enters (`OrderFlow.submit`,
    or a book rebuilt from its row)."""

    order_id: str
    user_id: int
    symbol: str
    side: Side
    engine_type: OrderType
    time_in_force: TimeInForce
    price: Decimal | None
    client_price: Decimal | None
    stop_price: Decimal | None
    post_only: bool
    stp: str
    expires_at: datetime | None
    priority: int
    reserve_asset: str
    reserve_price: Decimal | None
    reserved: Decimal
    maker_fee_rate: Decimal  # the rates the order was accepted (and reserved) at: a fee
    taker_fee_rate: Decimal  # change applies to orders that come after it
    actor: OrderActor
    updated_at: datetime | None = None
    refusal: Refusal | None = None  # the last request on it refused here, for its record

    def spec(self, rules: InstrumentRules) -> OrderSpec:
        return OrderSpec(
            order_id=self.order_id, account=str(self.user_id), side=self.side,
            order_type=self.engine_type,
            quantity=funds.to_units(self.actor.remaining, rules.lot_size),
            price=None if self.price is None else funds.to_units(self.price, rules.tick_size),
            stop_price=(None if self.stop_price is None
                        else funds.to_units(self.stop_price, rules.tick_size)),
            tif=self.time_in_force, post_only=self.post_only,
            stp=SelfTradePrevention(self.stp),
            expires_at=None if self.expires_at is None else epoch_ns(self.expires_at),
        )


@dataclass(slots=True)
class _Working:
    orders: int = 0
    buy_quantity: Decimal = Decimal(0)
    sell_quantity: Decimal = Decimal(0)
    buy_notional: Decimal = Decimal(0)
    sell_notional: Decimal = Decimal(0)


class BookExposure:
    """Per account, its working orders in one book: how many, and per side their open
    quantity and notional (at the orders' prices), kept current as orders change, so a
    pre-trade decision never scans the book."""

    def __init__(self) -> None:
        self.users: dict[int, _Working] = {}
        # order -> (user, side, open quantity, notional)
        self._counted: dict[str, tuple[int, Side, Decimal, Decimal]] = {}

    def update(self, order: LiveOrder) -> None:
        now = None
        if order.actor.is_working:
            remaining = order.actor.remaining
            now = (order.user_id, order.side, remaining, remaining * (order.price or 0))
        before = self._counted.get(order.order_id)
        if before == now:
            return  # touched without a change to what it holds (accepted, then rested)
        if before is not None:
            del self._counted[order.order_id]
            self._add(*before, sign=-1)
        if now is not None:
            self._counted[order.order_id] = now
            self._add(*now, sign=1)

    def _add(self, user_id: int, side: Side, quantity: Decimal, notional: Decimal, *,
             sign: int) -> None:
        seen = self.users.setdefault(user_id, _Working())
        seen.orders += sign
        if side is Side.BUY:
            seen.buy_quantity += sign * quantity
            seen.buy_notional += sign * notional
        else:
            seen.sell_quantity += sign * quantity
            seen.sell_notional += sign * notional
        if not seen.orders:
            del self.users[user_id]

    def of(self, user_id: int) -> risk.WorkingOrders:
        seen = self.users.get(user_id)
        if seen is None:
            return risk.WorkingOrders()
        return risk.WorkingOrders(orders=seen.orders, buy_quantity=seen.buy_quantity,
                                  sell_quantity=seen.sell_quantity,
                                  buy_notional=seen.buy_notional,
                                  sell_notional=seen.sell_notional)


@dataclass(slots=True)
class Book:
    """One symbol's engine, rules and live orders."""

    symbol: str
    partition: int
    rules: InstrumentRules
    engine: MatchingEngine
    live: dict[str, LiveOrder] = field(default_factory=dict)
    last_trade_price: Decimal | None = None
    sequence: int = 0  # of the book events on `prices`
    deltas_since_snapshot: int = 0
    exposure: BookExposure = field(default_factory=lambda: BookExposure())

    def keep(self, order: LiveOrder) -> None:
        """Note the order's new state in the book's live orders and exposure index."""
        if order.actor.is_working:
            self.live[order.order_id] = order
        else:
            self.live.pop(order.order_id, None)
        self.exposure.update(order)

    def levels(self, side: Side, limit: int = SNAPSHOT_LEVELS) -> list[list[str]]:
        bids, asks = self.engine.depth(limit)
        return [[format_amount(funds.from_units(price, self.rules.tick_size)),
                 format_amount(funds.from_units(lots, self.rules.lot_size))]
                for price, lots, _count in (bids if side is Side.BUY else asks)]

    def snapshot_payload(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "sequence": self.sequence,
                "bids": self.levels(Side.BUY), "asks": self.levels(Side.SELL)}


class OrderFlow:
    """Applies one input event to one book."""

    def __init__(self, book: Book, source: Envelope, offset: int, work: BatchWork) -> None:
        self.book = book
        self.rules = book.rules
        self.source = source
        self.offset = offset
        self.work = work
        self.ledger = work.ledger
        self.now = source.occurred_at
        self.now_ns = epoch_ns(source.occurred_at)
        self._emitted = 0
        # The ids this input causes (`{source}:{n}`, `{source}:trade:…`), as `stable_key`
        # makes them, the source's part hashed once.
        self._ids = NameSeries(ID_NAMESPACE, f"{source.event_id}:")
        self._priorities = 0
        self._levels: set[tuple[Side, int]] = set()
        work.books.add(book.symbol)

    # ------------------------------------------------------------------ emitting and state

    def emit(self, event_type: str, payload: dict[str, Any], *, topic: str = EXECUTIONS) -> None:
        self._emitted += 1
        event = Envelope(event_type, payload, self._ids.text(str(self._emitted)), self.now,
                         self.source.correlation_id)
        self.work.events.append((topic, self.book.symbol, event))

    def _level_changed(self, order: LiveOrder) -> None:
        if order.price is not None and order.engine_type is OrderType.LIMIT:
            self._levels.add((order.side, funds.to_units(order.price, self.rules.tick_size)))

    def finish(self) -> None:
        """Hand the book levels this request changed to the batch, which publishes them
        once for all its requests (`publish_book_changes`)."""
        if self._levels:
            self.work.changed_levels.setdefault(self.book.symbol, set()).update(self._levels)
            self.work.last_source[self.book.symbol] = self.source

    def next_priority(self) -> int:
        self._priorities += 1
        return self.offset * PRIORITY_SLOTS + self._priorities

    def _order_payload(self, order: LiveOrder) -> dict[str, Any]:
        return {"order_id": order.order_id, "user_id": order.user_id, "symbol": order.symbol,
                "status": order.actor.status}

    def _touch(self, order: LiveOrder) -> None:
        """Note that the order changed; the batch processor writes it once at the end."""
        order.updated_at = self.now
        self.work.touched[order.order_id] = order
        self.book.keep(order)

    def _reservation(self, order: LiveOrder, remaining: Decimal) -> Decimal:
        return funds.reservation_for(
            side=order.side, remaining=remaining, reserve_price=order.reserve_price,
            maker_rate=order.maker_fee_rate, taker_rate=order.taker_fee_rate)

    # --------------------------------------------------------------------------- requests

    def submit(self, payload: dict[str, Any]) -> None:
        order_id = payload["order_id"]
        user_id = int(payload["user_id"])
        outcome, recorded_status = self.work.classify(payload)
        if outcome is Submission.REPEATED:
            logger.info("repeated submission of order %s ignored", order_id)
            return
        if outcome is not Submission.RECORDED:
            # A duplicate id leaves the recorded order as it is (its status is said); a
            # duplicate client order id rejects this new order.
            self._refuse(payload, "submit", outcome.value, status=recorded_status)
            if outcome is Submission.DUPLICATE_CLIENT_ORDER_ID:
                self.work.refused.append((parse_uuid(order_id), outcome.value))
            return
        quantity = Decimal(payload["quantity"])
        price = None if payload["price"] is None else Decimal(payload["price"])
        stop_price = None if payload["stop_price"] is None else Decimal(payload["stop_price"])
        expires_at = (None if payload["expires_at"] is None
                      else datetime.fromisoformat(payload["expires_at"]))
        # The terms enter as text and stay members from here on (one look-up each).
        side = SIDE_BY_VALUE[payload["side"]]
        order_type = ORDER_TYPE_BY_VALUE[payload["type"]]
        time_in_force = TIME_IN_FORCE_BY_VALUE[payload["time_in_force"]]
        self.work.record_submission(payload, order_type=order_type,
                                    time_in_force=time_in_force, stop_price=stop_price,
                                    expires_at=expires_at)
        engine_type, engine_price = self._engine_terms(order_type, side, price, stop_price)
        order = LiveOrder(
            order_id=order_id, user_id=user_id, symbol=self.book.symbol, side=side,
            engine_type=engine_type, time_in_force=time_in_force, price=engine_price,
            client_price=price, stop_price=stop_price, post_only=payload["post_only"],
            stp=self.work.stp_of(user_id),
            expires_at=expires_at, priority=self.next_priority(),
            reserve_asset=self.rules.quote_asset if side is Side.BUY else self.rules.base_asset,
            reserve_price=engine_price if side is Side.BUY else None, reserved=Decimal(0),
            maker_fee_rate=self.rules.maker_fee_rate, taker_fee_rate=self.rules.taker_fee_rate,
            actor=OrderActor(order_id=order_id, quantity=quantity),
        )
        order.actor.on_created()
        required = self._reservation(order, quantity)
        available = self.ledger.user(user_id, order.reserve_asset).available
        decision = self.work.risk.decide(risk.PreTradeContext(
            user_id=user_id, symbol=self.book.symbol, side=side, quantity=quantity,
            price=engine_price, is_limit=order_type in LIMIT_TYPES,
            trading=self.rules.trading, required_asset=order.reserve_asset,
            required_amount=required, available_amount=available,
            reference_price=self.book.last_trade_price, marks=self.work.marks,
        ), order_id=order_id, now=self.now,
            # Balances and loans weigh only in the margin of an order beyond the available.
            exposure=self.work.account_exposure(user_id, balances=required > available))
        if decision.accepted:
            try:
                # The loan covers exactly the shortfall, so the reservation after it holds.
                borrow(self.ledger, user_id=user_id, asset=order.reserve_asset,
                       amount=decision.borrow, reference=f"borrow:{order_id}:submit")
                reserve(self.ledger, user_id=user_id, asset=order.reserve_asset,
                        amount=required, reference=f"reserve:{order_id}:submit")
            except InsufficientFunds:
                decision = risk.Decision(False, "insufficient_funds", "funds moved meanwhile")
        if not decision.accepted:
            order.actor.on_risk_validated(accepted=False, reason_code=decision.code)
            self._touch(order)
            self.emit(executions.ORDER_REJECTED, {**self._order_payload(order),
                                                  "request": "submit", "reason": decision.code,
                                                  "message": decision.message})
            return
        order.reserved = required
        order.actor.on_risk_validated(accepted=True)
        self._touch(order)
        self.emit(executions.ORDER_ACCEPTED, {
            **self._order_payload(order), "side": side, "type": order_type,
            "quantity": format_amount(quantity),
            "price": None if price is None else format_amount(price),
            "reserved": format_amount(required), "reserved_asset": order.reserve_asset,
        })
        self.apply(self.book.engine.submit(order.spec(self.rules), now=self.now_ns))

    def _engine_terms(self, order_type: OrderType, side: Side, price: Decimal | None,
                      stop_price: Decimal | None) -> tuple[OrderType, Decimal | None]:
        """Market and stop orders trade with price protection: they become limit orders
        at `OMS_MARKET_SLIPPAGE` beyond the best opposite price (or the stop price), so
        they can never take more than they reserved. An empty book stays a market order,
        which the engine cancels as it finds nothing to take."""
        if order_type is OrderType.LIMIT or order_type is OrderType.STOP_LIMIT:
            return order_type, price
        slippage = Decimal(str(settings.OMS_MARKET_SLIPPAGE))
        if order_type is OrderType.STOP:
            assert stop_price is not None  # noqa: S101 - order entry requires it
            bound = funds.protection_price(side=side, reference=stop_price, slippage=slippage,
                                           tick=self.rules.tick_size)
            return OrderType.STOP_LIMIT, bound
        engine = self.book.engine
        best = engine.best_ask() if side is Side.BUY else engine.best_bid()
        if best is None:
            return OrderType.MARKET, None
        bound = funds.protection_price(
            side=side, reference=funds.from_units(best, self.rules.tick_size),
            slippage=slippage, tick=self.rules.tick_size)
        return OrderType.LIMIT, bound

    def cancel(self, payload: dict[str, Any]) -> None:
        order = self.book.live.get(payload["order_id"])
        if order is None:
            self._refuse(payload, "cancel", "order_not_working")
            return
        self.apply(self.book.engine.cancel(order.order_id, reason=payload["reason"]))

    def amend(self, payload: dict[str, Any]) -> None:
        order = self.book.live.get(payload["order_id"])
        if order is None or order.engine_type is not OrderType.LIMIT:
            self._refuse(payload, "amend", "order_not_amendable")
            return
        actor = order.actor
        new_price = None if payload["price"] is None else Decimal(payload["price"])
        new_total = actor.quantity if payload["quantity"] is None else Decimal(
            payload["quantity"])
        if new_total <= actor.filled_quantity:
            self._refuse(payload, "amend", "not_above_filled")
            return
        # The same pre-trade decision as a new order, on the new terms, with what the
        # order holds now released first.
        price = new_price or order.price
        remaining = new_total - actor.filled_quantity
        needed = funds.reservation_for(
            side=order.side, remaining=remaining,
            reserve_price=price if order.side is Side.BUY else None,
            maker_rate=order.maker_fee_rate, taker_rate=order.taker_fee_rate)
        decision = self.work.risk.decide(risk.PreTradeContext(
            user_id=order.user_id, symbol=self.book.symbol, side=order.side, quantity=remaining,
            price=price, is_limit=True, trading=self.rules.trading,
            required_asset=order.reserve_asset, required_amount=needed,
            available_amount=self.ledger.user(order.user_id, order.reserve_asset).available,
            reference_price=self.book.last_trade_price, marks=self.work.marks,
        ), order_id=order.order_id, now=self.now,
            exposure=self.work.account_exposure(order.user_id),
            amending=risk.RestingOrder(
                side=order.side, quantity=actor.remaining,
                notional=actor.remaining * (order.price or price or 0), reserved=order.reserved,
                filled_quantity=actor.filled_quantity))
        if not decision.accepted:
            self._refuse(payload, "amend", decision.code)
            return
        self._level_changed(order)  # the level it leaves (if the price changes)
        old_price, old_reserve_price = order.price, order.reserve_price
        order.price = order.client_price = price
        if order.side is Side.BUY:
            order.reserve_price = order.price
        extra = needed - order.reserved
        reference = f"amend:{order.order_id}:{self.source.event_id}"
        try:
            if extra > 0:
                borrow(self.ledger, user_id=order.user_id, asset=order.reserve_asset,
                       amount=decision.borrow,
                       reference=f"borrow:{order.order_id}:{self.source.event_id}")
                reserve(self.ledger, user_id=order.user_id, asset=order.reserve_asset,
                        amount=extra, reference=reference)
        except InsufficientFunds:
            order.price = order.client_price = old_price
            order.reserve_price = old_reserve_price
            self._refuse(payload, "amend", "insufficient_funds")
            return
        engine_events = self.book.engine.amend(
            order.order_id, now=self.now_ns,
            new_price=None if new_price is None else funds.to_units(new_price,
                                                                    self.rules.tick_size),
            new_quantity=funds.to_units(remaining, self.rules.lot_size),
        )
        if engine_events and isinstance(engine_events[-1], Rejected):
            if extra > 0:
                release(self.ledger, user_id=order.user_id, asset=order.reserve_asset,
                        amount=extra, reference=f"{reference}:undo")
            order.price = order.client_price = old_price
            order.reserve_price = old_reserve_price
            # What the engine did before it refused (orders that expired meanwhile) stands.
            self.apply(engine_events[:-1])
            self._refuse(payload, "amend", engine_events[-1].reason)
            return
        if extra < 0:
            release(self.ledger, user_id=order.user_id, asset=order.reserve_asset,
                    amount=-extra, reference=reference)
        order.reserved = needed
        actor.on_amended(quantity=new_total)
        self.apply(engine_events)

    def _refuse(self, payload: dict[str, Any], request: str, reason: str, *,
                status: OrderStatus | None = None) -> None:
        """A request that cannot apply: said on `executions`, with the order's true status
        (a cancel that lost the race to a fill reports FILLED); state unchanged. A live
        order also keeps the refusal in its record, for clients that do not follow the
        stream (`GET /api/orders/{id}`: `last_refusal`)."""
        live = self.book.live.get(payload["order_id"])
        if live is not None and request != "submit":
            live.refusal = Refusal(request, reason, self.now)
            self._touch(live)
        status = status or (OrderStatus.REJECTED if request == "submit" else live.actor.status
                            if live else self.work.recorded_status(payload["order_id"])
                            or OrderStatus.CANCELLED)
        logger.info("%s of order %s refused: %s", request, payload["order_id"], reason)
        self.emit(executions.ORDER_REJECTED, {
            "order_id": payload["order_id"], "user_id": int(payload["user_id"]),
            "symbol": self.book.symbol, "request": request, "reason": reason,
            "message": f"the {request} request cannot apply: {reason}", "status": status,
        })

    # ------------------------------------------------------------------- engine outcomes

    def apply(self, engine_events: list[Event]) -> None:
        for engine_event in engine_events:
            order_id = getattr(engine_event, "order_id", None) or getattr(
                engine_event, "maker_order_id", None)
            if order_id in self.book.live:
                self._level_changed(self.book.live[order_id])
            if isinstance(engine_event, Trade):
                self._trade(engine_event)
            elif isinstance(engine_event, Cancelled):
                self._cancelled(engine_event.order_id, engine_event.reason)
            elif isinstance(engine_event, Rejected):
                # Only a submit lands here (amend refusals are handled above): the order
                # passed risk but cannot enter the book, e.g. post-only that would take.
                self._cancelled(engine_event.order_id, engine_event.reason)
            elif isinstance(engine_event, Amended):
                self._amended(self.book.live[engine_event.order_id], engine_event)
            elif isinstance(engine_event, Rested):
                self._level_changed(self.book.live[engine_event.order_id])
            elif isinstance(engine_event, Triggered):
                # A triggered stop enters the book with a new time priority.
                order = self.book.live[engine_event.order_id]
                order.priority = self.next_priority()
                order.engine_type, order.stop_price = OrderType.LIMIT, None
                self._touch(order)
            # Accepted and Rested change nothing the database keeps.

    def _amended(self, order: LiveOrder, event: Amended) -> None:
        if not event.priority_kept:
            order.priority = self.next_priority()
        self._touch(order)
        self.emit(executions.ORDER_AMENDED, {
            **self._order_payload(order),
            "price": None if order.price is None else format_amount(order.price),
            "quantity": format_amount(order.actor.quantity),
            "priority_kept": event.priority_kept,
        })

    def _trade(self, trade: Trade) -> None:
        rules = self.rules
        price = funds.from_units(trade.price, rules.tick_size)
        quantity = funds.from_units(trade.quantity, rules.lot_size)
        maker = self.book.live[trade.maker_order_id]
        taker = self.book.live[trade.taker_order_id]
        trade_id, trade_key = self._ids.uuid_and_text(
            f"trade:{trade.maker_order_id}:{trade.taker_order_id}:{self._emitted}")
        notional = price * quantity
        fees = {maker.order_id: funds.fee_for(notional, maker.maker_fee_rate),
                taker.order_id: funds.fee_for(notional, taker.taker_fee_rate)}
        buyer, seller = (taker, maker) if trade.taker_side is Side.BUY else (maker, taker)
        buyer_remaining = buyer.actor.remaining - quantity
        buyer_target = self._reservation(buyer, buyer_remaining)
        # Fees round up per fill and per reservation alike, so the fee of one fill can
        # exceed what its share of the reservation held by the last place: the buyer then
        # pays what is there (at most 1e-18 less), and a release never goes negative.
        held = buyer.reserved - buyer_target - notional
        if held < 0:
            raise LedgerError(f"buy order {buyer.order_id} reserved too little")
        fees[buyer.order_id] = min(fees[buyer.order_id], held)
        buyer_release = held - fees[buyer.order_id]
        settle_trade(self.ledger, TradeSettlement(
            trade_id=trade_key, base_asset=rules.base_asset, quote_asset=rules.quote_asset,
            buyer_id=buyer.user_id, seller_id=seller.user_id, price=price, quantity=quantity,
            buyer_fee=fees[buyer.order_id], seller_fee=fees[seller.order_id],
            buyer_release=buyer_release,
        ))
        buyer.reserved = buyer_target
        seller.reserved -= quantity
        self.book.last_trade_price = price
        self.emit(executions.TRADE, {
            "symbol": self.book.symbol, "trade_id": trade_key, "price": format_amount(price),
            "quantity": format_amount(quantity), "taker_side": trade.taker_side,
        }, topic=PRICES)
        for order, liquidity, other in ((maker, "maker", taker), (taker, "taker", maker)):
            self._fill(order, trade_id=trade_id, trade_key=trade_key, price=price,
                       quantity=quantity,
                       fee=fees[order.order_id], liquidity=liquidity, counterparty=other)

    def _fill(self, order: LiveOrder, *, trade_id: uuid.UUID, trade_key: str, price: Decimal,
              quantity: Decimal, fee: Decimal, liquidity: str, counterparty: LiveOrder) -> None:
        actor = order.actor
        actor.on_filled(quantity=quantity, price=price)
        fill_id, fill_key = name_based_uuid_and_id(ID_NAMESPACE, f"{trade_key}:{order.order_id}")
        self.work.fills.append(FillView(
            id=fill_id, order_id=parse_uuid(order.order_id), trade_id=trade_id, price=price,
            quantity=quantity, fee=fee, fee_asset=self.rules.quote_asset, liquidity=liquidity,
            created_at=self.now))
        self.work.risk.record_fill(user_id=order.user_id, symbol=order.symbol, side=order.side,
                                   quantity=quantity, price=price, fee_in_quote=fee,
                                   when=self.now)
        self.emit(executions.ORDER_FILL, {
            **self._order_payload(order), "fill_id": fill_key, "trade_id": trade_key,
            "side": order.side, "price": format_amount(price),
            "quantity": format_amount(quantity), "fee": format_amount(fee),
            "fee_asset": self.rules.quote_asset, "liquidity": liquidity,
            "filled_quantity": format_amount(actor.filled_quantity),
            "remaining_quantity": format_amount(actor.remaining),
            "average_fill_price": format_amount(actor.average_fill_price or Decimal(0)),
            "counterparty_order_id": counterparty.order_id,
        })
        if actor.status is OrderStatus.FILLED:
            self._release_rest(order, "filled")
            actor.on_settled()
            self.emit(executions.ORDER_SETTLED, {
                **self._order_payload(order),
                "filled_quantity": format_amount(actor.filled_quantity),
                "average_fill_price": format_amount(actor.average_fill_price or Decimal(0)),
            })
        self._touch(order)

    def _cancelled(self, order_id: str, reason: str) -> None:
        order = self.book.live.get(order_id)
        if order is None:
            logger.error("engine cancelled unknown order %s (%s)", order_id, reason)
            return
        actor = order.actor
        try:
            actor.on_cancelled(reason_code=reason)
        except IllegalTransition:
            logger.exception("order %s cannot be cancelled from %s", order_id, actor.status)
            return
        cancelled_quantity = actor.remaining
        self._release_rest(order, "cancelled")
        self._touch(order)
        self.emit(executions.ORDER_CANCELLED, {
            **self._order_payload(order), "reason": reason,
            "filled_quantity": format_amount(actor.filled_quantity),
            "cancelled_quantity": format_amount(cancelled_quantity),
        })

    def _release_rest(self, order: LiveOrder, why: str) -> None:
        release(self.ledger, user_id=order.user_id, asset=order.reserve_asset,
                amount=order.reserved, reference=f"release:{order.order_id}:{why}")
        order.reserved = Decimal(0)



def publish_book_changes(book: Book, levels: set[tuple[Side, int]], source: Envelope,
                         work: BatchWork) -> None:
    """The levels a batch changed in one book, as one event on `prices`: a delta (the
    levels' lots after the batch: market data conflated per batch), or a full snapshot for a
    new book's first change and every `SNAPSHOT_EVERY` deltas."""
    first = book.sequence == 0  # a new book: market data needs a starting point
    book.sequence += 1
    book.deltas_since_snapshot += 1
    event_id = stable_key(source.event_id, "book", book.symbol, book.sequence)
    if first or book.deltas_since_snapshot >= SNAPSHOT_EVERY:
        book.deltas_since_snapshot = 0
        event_type, payload = executions.BOOK_SNAPSHOT, book.snapshot_payload()
    else:
        rules = book.rules
        changed: dict[Side, list[list[str]]] = {Side.BUY: [], Side.SELL: []}
        for side, price in sorted(levels):  # by side (its wire text), then price
            changed[side].append([
                format_amount(funds.from_units(price, rules.tick_size)),
                format_amount(funds.from_units(book.engine.level_lots(side, price),
                                               rules.lot_size))])
        event_type, payload = executions.BOOK_DELTA, {
            "symbol": book.symbol, "sequence": book.sequence, "bids": changed[Side.BUY],
            "asks": changed[Side.SELL]}
    work.events.append((PRICES, book.symbol, new_event(
        event_type, payload, event_id=event_id, occurred_at=source.occurred_at,
        correlation_id=source.correlation_id)))
