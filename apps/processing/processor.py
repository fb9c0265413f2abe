"""The batch processor (D5): the single writer of the symbols on the partitions it owns.

Each consumed batch is one database transaction holding the state changes, the ledger
postings, the outbox rows of every emitted event and the next offset of each partition.
The transaction commits only if the partition epochs this process claimed are still
current, so a process that lost its partitions (a zombie) cannot write. On assignment the
processor claims the partitions (epoch + 1), rebuilds their books from the database and
resumes from the stored offsets; if a batch fails, the books of its partitions are
rebuilt, because memory may be ahead of the rolled-back database."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F

from apps.orders import events as order_events
from apps.orders import selectors as order_selectors
from apps.orders import services as orders
from apps.processing import events as executions
from apps.processing import log_identity, selectors
from apps.processing.domain import funds
from apps.processing.domain.lifecycle import OrderActor, Status
from apps.processing.domain.matching import MatchingEngine
from apps.processing.domain.orders import OrderType, Trade
from apps.processing.execution import (
    Book,
    FlowOutput,
    LiveOrder,
    OrderFlow,
    stable_id,
)
from apps.processing.models import (
    AccountSettings,
    OutboxEvent,
    PartitionOwnership,
    SymbolState,
    WorkingOrder,
)
from apps.processing.selectors import OpenExposure
from oms.events import new_event, validate_event
from oms.kafka.consumer import Batch, ConsumedEvent
from oms.kafka.topics import ORDERS, PRICES

logger = logging.getLogger(__name__)

PROCESSOR_GROUP = "order-processor-group"
OUTBOX_CHANNEL = "oms_outbox"
SETTINGS_CACHE_SECONDS = 30.0


PoisonHandler = Callable[[ConsumedEvent, str], None]


class Fenced(RuntimeError):
    """Another process owns a partition of this batch now: nothing was written."""


class BatchProcessor:
    def __init__(self, *, group: str = PROCESSOR_GROUP, topic: str = ORDERS) -> None:
        self.group = group
        self.topic = topic
        self.books: dict[str, Book] = {}
        self.epochs: dict[int, int] = {}
        self._stp_cache: dict[int, tuple[float, str]] = {}

    # ---------------------------------------------------------------- partition ownership

    def claim(self, partitions: Iterable[int]) -> dict[int, int]:
        """Take the partitions (fencing out any previous owner), rebuild their books and
        return the offset to resume each from. A partition whose stored offset does not
        belong to the broker's current log is left out (refused, see `log_identity`)."""
        resume: dict[int, int] = {}
        with transaction.atomic():
            for partition in partitions:
                PartitionOwnership.objects.get_or_create(
                    group=self.group, topic=self.topic, partition=partition)
                PartitionOwnership.objects.filter(
                    group=self.group, topic=self.topic, partition=partition
                ).update(epoch=F("epoch") + 1)
                row = PartitionOwnership.objects.get(group=self.group, topic=self.topic,
                                                     partition=partition)
                self.epochs[partition] = row.epoch
                resume[partition] = row.next_offset
        resume = log_identity.verified_offsets(group=self.group, topic=self.topic,
                                               offsets=resume)
        self._rebuild(resume)
        self._announce_books(resume)
        logger.info("claimed %s partitions %s at offsets %s", self.topic, sorted(resume), resume)
        return resume

    def _announce_books(self, partitions: Iterable[int]) -> None:
        """A fresh snapshot of each book taken over, so market data can start from it."""
        wanted = set(partitions)
        books = [book for book in self.books.values() if book.partition in wanted]
        if not books:
            return
        with transaction.atomic():
            for book in books:
                book.sequence += 1
                book.deltas_since_snapshot = 0
                event = new_event(
                    executions.BOOK_SNAPSHOT, book.snapshot_payload(),
                    event_id=str(stable_id("snapshot", book.symbol, book.sequence,
                                           self.epochs[book.partition])))
                OutboxEvent.objects.create(event_id=event.event_id, topic=PRICES,
                                           key=book.symbol, body=event.to_json())
                SymbolState.objects.filter(symbol=book.symbol).update(
                    book_sequence=book.sequence)
            with connection.cursor() as cursor:
                cursor.execute(f"NOTIFY {OUTBOX_CHANNEL}")

    def release(self, partitions: Iterable[int]) -> None:
        dropped = set(partitions)
        for partition in dropped:
            self.epochs.pop(partition, None)
        self.books = {s: b for s, b in self.books.items() if b.partition not in dropped}
        logger.info("released %s partitions %s", self.topic, sorted(dropped))

    def _rebuild(self, partitions: Iterable[int]) -> None:
        wanted = set(partitions)
        self.books = {s: b for s, b in self.books.items() if b.partition not in wanted}
        for state in SymbolState.objects.filter(partition__in=wanted):
            self.books[state.symbol] = self._load_book(state)

    def _load_book(self, state: SymbolState) -> Book:
        rules = order_selectors.instrument_rules(symbol=state.symbol)
        if rules is None:
            raise LookupError(f"instrument {state.symbol} has working state but no rules")
        last = state.last_trade_price
        book = Book(symbol=state.symbol, partition=state.partition, rules=rules,
                    engine=MatchingEngine(last_trade_price=None if last is None
                                          else funds.to_units(last, rules.tick_size)),
                    last_trade_price=last, sequence=state.book_sequence)
        for row in WorkingOrder.objects.filter(symbol=state.symbol).order_by("priority"):
            order = _live_order(row)
            book.live[order.order_id] = order
            # now=0: nothing expires while the book is rebuilt; orders that do not cross
            # (a book never is crossed) only rest or wait for their stop.
            if any(isinstance(e, Trade) for e in book.engine.submit(order.spec(rules), now=0)):
                raise RuntimeError(f"rebuilding {state.symbol} produced a trade")
        return book

    # ---------------------------------------------------------------------------- batches

    def process(self, batch: Batch, *, set_aside: PoisonHandler) -> None:
        """Apply a batch in one transaction. An event whose handling fails for a reason of
        its own (bad data, a broken invariant) is rolled back alone, handed to `set_aside`
        (the dead-letter topic) and skipped; a database outage fails the whole batch."""
        partitions = {p for (topic, p) in batch.next_offsets if topic == self.topic}
        if not partitions:
            return
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Django's foreign keys are deferred to COMMIT; checked at once, a bad
                    # event fails in its own savepoint instead of failing the whole batch.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self._check_fence(partitions)
                emitted = 0
                for consumed in batch.events:
                    emitted += self._apply(consumed, set_aside)
                for (topic, partition), offset in batch.next_offsets.items():
                    PartitionOwnership.objects.filter(
                        group=self.group, topic=topic, partition=partition
                    ).update(next_offset=offset)
                if emitted:
                    with connection.cursor() as cursor:
                        cursor.execute(f"NOTIFY {OUTBOX_CHANNEL}")
        except Exception:
            # Memory may be ahead of the rolled-back database: rebuild from the database.
            owned = [p for p in partitions if p in self.epochs]
            self._rebuild(owned)
            raise

    def _check_fence(self, partitions: set[int]) -> None:
        rows = PartitionOwnership.objects.select_for_update().filter(
            group=self.group, topic=self.topic, partition__in=partitions)
        current = {row.partition: row.epoch for row in rows}
        for partition in partitions:
            if current.get(partition) != self.epochs.get(partition):
                raise Fenced(f"{self.topic}[{partition}] is owned by another processor now")

    def _apply(self, consumed: ConsumedEvent, set_aside: PoisonHandler) -> int:
        """Handle one event in a savepoint; return how many events it emitted."""
        output = FlowOutput()
        try:
            with transaction.atomic():
                self._handle(consumed, output)
                self._persist(output)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            logger.exception("cannot apply %s %s", consumed.event.type, consumed.event.event_id)
            for symbol in output.books:  # memory may hold the rolled-back event
                self.books.pop(symbol, None)
            set_aside(consumed, f"{type(exc).__name__}: {exc}")
            return 0
        return len(output.events)

    def _handle(self, consumed: ConsumedEvent, output: FlowOutput) -> None:
        event = consumed.event
        symbol = str(event.payload["symbol"])
        book = self.books.get(symbol) or self._open_book(symbol, consumed.partition)
        flow = OrderFlow(book, event, consumed.offset, output, self)
        if event.type == order_events.ORDER_SUBMITTED:
            flow.submit(dict(event.payload))
        elif event.type == order_events.ORDER_CANCEL_REQUESTED:
            flow.cancel(dict(event.payload))
        elif event.type == order_events.ORDER_AMEND_REQUESTED:
            flow.amend(dict(event.payload))
        else:
            logger.warning("ignoring %s on %s", event.type, self.topic)
        flow.finish()

    def _open_book(self, symbol: str, partition: int) -> Book:
        state, _ = SymbolState.objects.get_or_create(symbol=symbol,
                                                     defaults={"partition": partition})
        book = self._load_book(state)
        self.books[symbol] = book
        return book

    def open_exposure(self, user_id: int, symbol: str) -> OpenExposure:
        return selectors.open_exposure(user_id=user_id, symbol=symbol)

    def marks(self) -> dict[str, Decimal]:
        """The stored last trades, with those of the books this process owns (current in
        memory) on top."""
        marks = selectors.marks()
        marks.update({symbol: book.last_trade_price for symbol, book in self.books.items()
                      if book.last_trade_price is not None})
        return marks

    def stp_of(self, user_id: int) -> str:
        now = time.monotonic()
        hit = self._stp_cache.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        mode = (AccountSettings.objects.filter(user_id=user_id)
                .values_list("self_trade_prevention", flat=True).first()
                or AccountSettings.SelfTradePrevention.CANCEL_RESTING)
        self._stp_cache[user_id] = (now + SETTINGS_CACHE_SECONDS, mode)
        return str(mode)

    def _persist(self, output: FlowOutput) -> None:
        working = [order for order in output.touched.values() if order.actor.is_working]
        done = [uuid.UUID(order_id) for order_id, order in output.touched.items()
                if not order.actor.is_working]
        if working:
            WorkingOrder.objects.bulk_create(
                [_working_row(order) for order in working], update_conflicts=True,
                unique_fields=["order_id"], update_fields=_WORKING_UPDATE_FIELDS)
        if done:
            WorkingOrder.objects.filter(order_id__in=done).delete()
        for order in output.touched.values():
            actor = order.actor
            orders.record_order_state(
                order_id=uuid.UUID(order.order_id), status=actor.status.value,
                quantity=actor.quantity, price=order.client_price,
                filled_quantity=actor.filled_quantity,
                average_fill_price=actor.average_fill_price, reason_code=actor.reason_code,
                updated_at=order.updated_at,
            )
        for symbol in output.books:
            book = self.books[symbol]
            SymbolState.objects.filter(symbol=symbol).update(
                last_trade_price=book.last_trade_price, book_sequence=book.sequence)
        for _topic, _key, event in output.events:
            validate_event(event)  # an event that breaks its schema never leaves
        if output.events:
            OutboxEvent.objects.bulk_create(
                OutboxEvent(event_id=event.event_id, topic=topic, key=key, body=event.to_json())
                for topic, key, event in output.events)


_WORKING_UPDATE_FIELDS = [
    "engine_type", "time_in_force", "price", "client_price", "stop_price", "quantity",
    "filled_quantity", "filled_notional", "status", "priority", "reserve_price", "reserved",
]


def _working_row(order: LiveOrder) -> WorkingOrder:
    actor = order.actor
    return WorkingOrder(
        order_id=uuid.UUID(order.order_id), symbol=order.symbol, user_id=order.user_id,
        side=order.side, engine_type=order.engine_type.value,
        time_in_force=order.time_in_force, price=order.price, client_price=order.client_price,
        stop_price=order.stop_price, quantity=actor.quantity,
        filled_quantity=actor.filled_quantity, filled_notional=actor.filled_notional,
        status=actor.status.value, post_only=order.post_only,
        self_trade_prevention=order.stp, expires_at=order.expires_at, priority=order.priority,
        reserve_asset=order.reserve_asset, reserve_price=order.reserve_price,
        reserved=order.reserved,
    )


def _live_order(row: WorkingOrder) -> LiveOrder:
    return LiveOrder(
        order_id=str(row.order_id), user_id=int(row.user_id), symbol=row.symbol, side=row.side,
        engine_type=OrderType(row.engine_type), time_in_force=row.time_in_force,
        price=row.price, client_price=row.client_price, stop_price=row.stop_price,
        post_only=row.post_only, stp=row.self_trade_prevention, expires_at=row.expires_at,
        priority=row.priority, reserve_asset=row.reserve_asset,
        reserve_price=row.reserve_price, reserved=Decimal(row.reserved),
        actor=OrderActor(order_id=str(row.order_id), quantity=row.quantity,
                         status=Status(row.status), filled_quantity=row.filled_quantity,
                         filled_notional=row.filled_notional),
    )
