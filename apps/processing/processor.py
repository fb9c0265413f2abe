"""The batch processor (D5, D10): the single writer of the symbols on the partitions it owns.

It keeps their books and working orders in memory. Each consumed batch is one database
transaction: the fence check, a fixed number of set-based reads (`BatchWork.prepare`: the
accounts it may touch, locked in id order; risk state; rules; duplicates), the whole
order flow in memory, and one write per table (`BatchWork.flush`) with the outbox rows of
every emitted event and the next offset of each partition. The transaction commits only
if the partition epochs this process claimed are still current, so a process that lost
its partitions (a zombie) cannot write. On assignment the processor claims the partitions
(epoch + 1), rebuilds their books from the database and resumes from the stored offsets.

A failed batch rolls back and its books are rebuilt (memory may be ahead of the database).
A dependency failure (PostgreSQL, Redis, the broker, an open breaker) is transient: the
caller consumes the batch again later. Any other failure is some event's own fault: the
batch is applied again one event at a time, and an event that still fails is set aside
(dead-letter topic) with its rejection on `executions`, so its client learns its fate
(D11)."""

from __future__ import annotations

import gc
import logging
import sys
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from functools import partial

import redis
from confluent_kafka import KafkaException
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F
from prometheus_client import Histogram

from apps.orders import events as order_events
from apps.orders import selectors as order_selectors
from apps.orders import services as orders
from apps.processing import events as executions
from apps.processing import log_identity
from apps.processing.batch_ledger import StaleBalances, UnreadAccounts
from apps.processing.batch_work import BatchWork, BatchWrite
from apps.processing.domain import funds
from apps.processing.domain.lifecycle import OrderActor
from apps.processing.domain.matching import MatchingEngine
from apps.processing.domain.orders import Trade
from apps.processing.execution import Book, LiveOrder, OrderFlow, stable_key
from apps.processing.models import OutboxEvent, PartitionOwnership, SymbolState, WorkingOrder
from oms.db import Read, Rows
from oms.events import new_event, validate_event
from oms.gc_tuning import settle_heap
from oms.kafka.consumer import Batch, ConsumedEvent
from oms.kafka.producer import PublishError
from oms.kafka.topics import EXECUTIONS, ORDERS, PRICES
from oms.money import MONEY_CONTEXT
from oms.resilience.breakers import BreakerOpen
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

logger = logging.getLogger(__name__)

PROCESSOR_GROUP = "order-processor-group"
OUTBOX_CHANNEL = "oms_outbox"
# The reason code of an event set aside for an operator, on its `order.rejected` and in
# its order's record.
UNPROCESSABLE = "unprocessable"
# A dependency that failed: the batch is consumed again, never set aside.
# (A constraint or data error of the database is an event's own fault, not transient.)
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, redis.RedisError, BreakerOpen, PublishError,
    KafkaException, OSError)

# Where a pipelined batch's time goes: `compute` (the main thread: `read`, `flow` and
# `seal` within it), `wait` (the main thread waiting for the batch before it to be
# written) and `write` (the writer thread: fence, balance check, writes, offsets, commit).
BATCH_SECONDS = Histogram(
    "oms_processor_batch_seconds", "Time of each phase of a pipelined batch", ["phase"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))

WRITER_SWITCH_SECONDS = 0.0005

PoisonHandler = Callable[[ConsumedEvent, str], None]
Offsets = dict[tuple[str, int], int]


def tune_for_pipelining() -> None:
    """Set up the process that runs a pipelined processor: the writer thread waits on
    PostgreSQL with the GIL released, and when an answer comes it needs the GIL back (the
    default 5 ms switch interval would keep it waiting behind the next batch's flow after
    every statement); and the heap settled, so that collections do not walk every live
    order (`oms.gc_tuning`)."""
    sys.setswitchinterval(WRITER_SWITCH_SECONDS)
    settle_heap()


class Fenced(RuntimeError):
    """Another process owns a partition of this batch now: nothing was written."""


# What propagates to the caller, which consumes the batch again (or leaves it to the owner).
FENCED_OR_TRANSIENT: tuple[type[BaseException], ...] = (Fenced, *TRANSIENT_ERRORS)


@dataclass(frozen=True, slots=True)
class InFlight:
    """A pipelined batch handed to the writer: its events and offsets (to apply again if
    the write fails), what it computed (the next batch's read may not see it yet), and the
    write's outcome."""

    events: list[ConsumedEvent]
    offsets: Offsets
    work: BatchWork
    written: Future[None]


class BatchProcessor:
    def __init__(self, *, group: str = PROCESSOR_GROUP, topic: str = ORDERS,
                 pipelined: bool = False) -> None:
        """`pipelined`: write each batch on a writer thread while the next one is computed
        (D10): the process's Python and PostgreSQL's work overlap instead of taking turns.
        The role runs pipelined; a caller that needs each batch written when `process`
        returns (replay of single events, tests) does not."""
        self.group = group
        self.topic = topic
        self.books: dict[str, Book] = {}
        self.epochs: dict[int, int] = {}
        self.next_offsets: dict[int, int] = {}  # committed, per owned partition
        self._writer = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-writer")
                        if pipelined else None)
        self._in_flight: InFlight | None = None
        self._kept: list[tuple[list[ConsumedEvent], Offsets]] = []  # to apply first
        self._collect_first = True  # before the next freeze (`_freeze_survivors`)
        self._set_aside: PoisonHandler | None = None

    # ---------------------------------------------------------------- partition ownership

    def claim(self, partitions: Iterable[int]) -> dict[int, int]:
        """Take the partitions (fencing out any previous owner), rebuild their books and
        return the offset to resume each from. A partition whose stored offset does not
        belong to the broker's current log is left out (refused, see `log_identity`)."""
        self._settle_quietly()
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
        self.next_offsets.update(resume)
        self._rebuild(resume)
        self._announce_books(resume)
        logger.info("claimed %s partitions %s at offsets %s", self.topic, sorted(resume), resume)
        return resume

    def _settle_quietly(self) -> None:
        """Before ownership changes: account for the batch in flight; if its write failed
        on a dependency it is kept (and dropped with its partitions if they go)."""
        try:
            self.settle()
        except FENCED_OR_TRANSIENT as exc:
            logger.warning("the batch in flight was not written (%s)", exc)

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
                    event_id=stable_key("snapshot", book.symbol, book.sequence,
                                        self.epochs[book.partition]))
                OutboxEvent.objects.create(event_id=event.event_id, topic=PRICES,
                                           key=book.symbol, body=event.to_json())
                SymbolState.objects.filter(symbol=book.symbol).update(
                    book_sequence=book.sequence)
            with connection.cursor() as cursor:
                cursor.execute(f"NOTIFY {OUTBOX_CHANNEL}")

    def release(self, partitions: Iterable[int]) -> None:
        self._settle_quietly()
        dropped = set(partitions)
        # What was kept of these partitions is their new owner's to consume.
        self._kept = [([e for e in events if e.partition not in dropped],
                       {key: offset for key, offset in offsets.items()
                        if key[1] not in dropped})
                      for events, offsets in self._kept]
        self._kept = [(events, offsets) for events, offsets in self._kept if offsets]
        for partition in dropped:
            self.epochs.pop(partition, None)
            self.next_offsets.pop(partition, None)
        self.books = {s: b for s, b in self.books.items() if b.partition not in dropped}
        logger.info("released %s partitions %s", self.topic, sorted(dropped))

    def _freeze_survivors(self) -> None:
        """After a pipelined batch: what it left alive (its books' new orders, the state
        of the batch in flight) is moved out of the collector's sight, so that no
        collection walks the books again. Young collections every few batches walked
        them, and every twentieth walked all that had piled up (12 ms each, and 446 ms,
        under `make bench-processor`). The pipelined path leaves no reference cycles
        (tested), so nothing it leaves is garbage that freezing would keep; the objects
        go by refcount as orders leave the books. After any other path (a rebuild, a
        batch applied under the lock), whose cycles are not vouched for, a full
        collection comes first."""
        if self._collect_first:
            gc.collect()
            self._collect_first = False
        gc.freeze()

    def _rebuild(self, partitions: Iterable[int]) -> None:
        self._collect_first = True
        wanted = set(partitions)
        self.books = {s: b for s, b in self.books.items() if b.partition not in wanted}
        for state in SymbolState.objects.filter(partition__in=wanted):
            self.books[state.symbol] = self._load_book(state)

    def _load_book(self, state: SymbolState) -> Book:
        """A book as the database holds it: its working orders in priority order."""
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
            book.keep(order)
            # now=0: nothing expires while the book is rebuilt; orders that do not cross
            # (a book never is crossed) only rest or wait for their stop.
            if any(isinstance(e, Trade) for e in book.engine.submit(order.spec(rules), now=0)):
                raise RuntimeError(f"rebuilding {state.symbol} produced a trade")
        return book

    # ---------------------------------------------------------------------------- batches

    def process(self, batch: Batch, *, set_aside: PoisonHandler) -> None:
        """Apply a batch. A transient failure (see `TRANSIENT_ERRORS`) or a fence
        propagates, with nothing of this batch written; an event that fails for a reason
        of its own is found by applying the batch one event at a time and set aside.

        Pipelined, the batch is computed while the one before it is written, and handed
        to the writer once that one committed: this returns before it is written. A
        failure of the earlier write then shows here (or in `settle`): the earlier batch is
        kept and applied again first on the next call, so the caller, which consumes the
        current batch again after a transient failure, loses neither."""
        self._set_aside = set_aside
        offsets = {key: offset for key, offset in batch.next_offsets.items()
                   if key[0] == self.topic}
        if not offsets:
            return
        self._apply_kept()
        events = self._unapplied(batch.events)
        if self._writer is None or not self._can_pipeline(events):
            self.settle()
            self._apply(events, offsets)
            return
        try:
            with BATCH_SECONDS.labels("compute").time():
                work, write = self._compute(events)
        except FENCED_OR_TRANSIENT:
            self.settle()
            self._rebuild(list(self.epochs))
            raise
        except Exception as exc:
            if isinstance(exc, UnreadAccounts):  # it reached further than it read
                logger.info("batch of %d events applied again on every account of its "
                            "books: %s", len(events), exc)
            else:
                logger.exception("batch of %d events failed to compute; applying it again "
                                 "on what is written", len(events))
            self.settle()
            self._rebuild(list(self.epochs))
            self._apply(events, offsets)
            return
        with BATCH_SECONDS.labels("wait").time():
            written = self.settle()
        if not written:  # this batch was computed on top of what was not written
            self._rebuild(list(self.epochs))
            self._apply(events, offsets)
            return
        self._in_flight = InFlight(events, offsets, work,
                                   self._writer.submit(self._write, write, offsets))
        self._freeze_survivors()

    @property
    def pending(self) -> bool:
        """Whether a batch is being written, or kept to apply after a failure: the
        caller calls `catch_up` when it has nothing new to process."""
        return self._in_flight is not None or bool(self._kept)

    def catch_up(self) -> None:
        """Account for the batch in flight and apply what earlier failures kept."""
        self.settle()
        self._apply_kept()

    def settle(self) -> bool:
        """Wait for the batch being written (pipelined) and account for it: False if it
        was not written as computed (it was applied again one way or another, and the
        books rebuilt). A transient failure or a fence propagates; the batch is kept to
        be applied first on the next call."""
        flight, self._in_flight = self._in_flight, None
        if flight is None:
            return True
        try:
            flight.written.result()
        except StaleBalances as exc:
            logger.info("batch computed again under the lock: %s", exc)
            self._apply_holding(flight.events, flight.offsets)
            return False
        except IntegrityError as exc:
            # Most likely a submission the unlocked read took to be new (see
            # `BatchWork.prepare`); computed again with the look-up, or isolated if it
            # fails again for an event's own reason.
            logger.warning("batch computed again with its submissions checked: %s", exc)
            self._apply_holding(flight.events, flight.offsets)
            return False
        except Fenced:
            self._rebuild(list(self.epochs))
            raise
        except TRANSIENT_ERRORS:
            # Kept before anything else can fail (rebuilding reads the database too).
            self._kept.append((flight.events, flight.offsets))
            self._rebuild(list(self.epochs))
            raise
        except Exception:
            logger.exception("batch of %d events failed to write; applying them one at a "
                             "time", len(flight.events))
            self._apply_holding(flight.events, flight.offsets, isolate=True)
            return False
        self._advance(flight.offsets)
        return True

    def close(self) -> None:
        """Write what is in flight (pipelined) and stop the writer."""
        if self._writer is None:
            return
        try:
            self.settle()
        except FENCED_OR_TRANSIENT as exc:
            logger.warning("the last batch was not written (%s); its events are consumed "
                           "again from the stored offsets", exc)
        self._writer.submit(_close_connection).result()
        self._writer.shutdown()

    def _apply(self, events: list[ConsumedEvent], offsets: Offsets, *,
               isolate: bool = False) -> None:
        """Apply events in one transaction, or one at a time if that fails for a reason of
        their own (at once with `isolate`: a failure already showed it)."""
        self._collect_first = True
        events = self._unapplied(events)
        if not isolate:
            try:
                self._commit(events, offsets)
                return
            except FENCED_OR_TRANSIENT:
                self._rebuild(list(self.epochs))
                raise
            except Exception:
                logger.exception("batch of %d events failed; applying them one at a time",
                                 len(events))
        self._rebuild(list(self.epochs))
        self._isolate(events, offsets, self._set_aside)

    def _apply_holding(self, events: list[ConsumedEvent], offsets: Offsets, *,
                       isolate: bool = False) -> None:
        """Rebuild the books and `_apply` events the consumer has moved past: a transient
        failure of either keeps them to be applied first next time, rather than losing
        them."""
        try:
            self._rebuild(list(self.epochs))
            self._apply(events, offsets, isolate=isolate)
        except TRANSIENT_ERRORS:
            self._kept.append((events, offsets))
            raise

    def _apply_kept(self) -> None:
        """Apply, in order, the batches an earlier transient failure kept."""
        while self._kept:
            events, offsets = self._kept[0]
            try:
                self._apply(events, offsets)
            except Fenced:
                self._kept.pop(0)
                raise
            self._kept.pop(0)

    def _unapplied(self, events: Iterable[ConsumedEvent]) -> list[ConsumedEvent]:
        return [e for e in events if e.topic == self.topic
                and e.offset >= self.next_offsets.get(e.partition, 0)]

    def _can_pipeline(self, events: list[ConsumedEvent]) -> bool:
        """Only batches of books this process holds (opening a book writes its state)."""
        return bool(events) and all(str(e.event.payload["symbol"]) in self.books
                                    for e in events)

    def _compute(self, events: list[ConsumedEvent]) -> tuple[BatchWork, BatchWrite]:
        """Read without locks, in one snapshot, what the batch needs (adding what the batch
        in flight changed when the snapshot cannot see it), run the flow and seal it."""
        flight = self._in_flight
        with localcontext(MONEY_CONTEXT):
            with BATCH_SECONDS.labels("read").time(), transaction.atomic():
                work = BatchWork.prepare(
                    events, self.books, locked=False,
                    in_flight=None if flight is None else (flight.work,
                                                           self._stored(flight.offsets)))
            now = datetime.now(UTC)
            with BATCH_SECONDS.labels("flow").time():
                for consumed in events:
                    self._handle(consumed, work)
            with BATCH_SECONDS.labels("seal").time():
                return work, work.seal(self.books, now)

    def _stored(self, offsets: Offsets) -> Read[bool]:
        """Whether the offsets stored (as the reading transaction sees them) include
        `offsets`."""
        return Read.one(
            "SELECT topic, partition, next_offset FROM processing_partitionownership "
            "WHERE \"group\" = %s AND topic = %s", [self.group, self.topic],
            lambda rows: all({(topic, partition): offset for topic, partition, offset in rows}
                             .get(key, -1) >= offset for key, offset in offsets.items()))

    def _write(self, write: BatchWrite, offsets: Offsets) -> None:
        """The writer thread: fence, check the balances the batch started from under the
        lock, write, store the offsets, commit."""
        # This thread has no request boundary at which Django would drop a connection that
        # an outage broke, and the breaker's trial renews only the main thread's. Only one
        # that saw an error is looked at: Django checks a connection it was asked about
        # with a round trip of its own before its next use, which every batch would pay.
        if connection.errors_occurred:
            connection.close_if_unusable_or_obsolete()
        with (BATCH_SECONDS.labels("write").time(), transaction.atomic(),
              localcontext(MONEY_CONTEXT)):
            write.write(checks=[self._fence({partition for _, partition in offsets}),
                                write.ledger.verify_read()],
                        then=partial(self._store_offsets, offsets, notify=True),
                        commit=True)

    def _isolate(self, events: list[ConsumedEvent], offsets: Offsets,
                 set_aside: PoisonHandler | None) -> None:
        """Apply each event in its own transaction (with its own offset), and set aside
        each that still fails; then store the rest of the batch's offsets."""
        for consumed in events:
            own = {(consumed.topic, consumed.partition): consumed.offset + 1}
            try:
                self._commit([consumed], own)
            except FENCED_OR_TRANSIENT:
                self._rebuild([consumed.partition])
                raise
            except Exception as exc:
                logger.exception("cannot apply %s %s", consumed.event.type,
                                 consumed.event.event_id)
                self._rebuild([consumed.partition])
                if set_aside is not None:
                    set_aside(consumed, f"{type(exc).__name__}: {exc}")
                self._commit_rejection(consumed, own, f"{type(exc).__name__}")
        self._commit([], offsets)

    def _commit(self, events: list[ConsumedEvent], offsets: Offsets) -> None:
        """One transaction: fence, read, run the flow in memory, write, store offsets."""
        # Every amount of the flow in the money context, wide enough for any accepted input.
        with transaction.atomic(), localcontext(MONEY_CONTEXT):
            self._check_fence({partition for _, partition in offsets})
            if not events:
                self._store_offsets(offsets, notify=False)
            else:
                now = datetime.now(UTC)
                work = BatchWork.prepare(events, self.books)
                for consumed in events:
                    self._handle(consumed, work)
                work.flush(self.books, now,
                           then=partial(self._store_offsets, offsets, notify=True))
        self._advance(offsets)

    def _advance(self, offsets: Offsets) -> None:
        """After a commit: where each partition's events are applied up to."""
        for (_, partition), offset in offsets.items():
            self.next_offsets[partition] = max(offset, self.next_offsets.get(partition, 0))

    def _store_offsets(self, offsets: Offsets, *, notify: bool) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                # Never backwards: a batch consumed again after a rewind stores nothing older.
                "UPDATE processing_partitionownership AS o "
                "SET next_offset = GREATEST(o.next_offset, v.next_offset), "
                "updated_at = now() FROM unnest(%s::text[], %s::int[], %s::bigint[]) "
                "AS v (topic, partition, next_offset) WHERE o.\"group\" = %s "
                "AND o.topic = v.topic AND o.partition = v.partition",
                [[t for t, _ in offsets], [p for _, p in offsets], list(offsets.values()),
                 self.group])
            if notify:
                cursor.execute(f"NOTIFY {OUTBOX_CHANNEL}")

    def _commit_rejection(self, consumed: ConsumedEvent, offsets: Offsets, reason: str) -> None:
        """The client of an event set aside learns its fate: `order.rejected` (reason
        `unprocessable`) on `executions`, and a submitted order is recorded REJECTED when
        its terms can be stored at all."""
        payload = consumed.event.payload
        request = {order_events.ORDER_SUBMITTED: "submit",
                   order_events.ORDER_CANCEL_REQUESTED: "cancel"}.get(consumed.event.type,
                                                                       "amend")
        order_id, symbol = str(payload["order_id"]), str(payload["symbol"])
        status = (OrderStatus.REJECTED if request == "submit"
                  else self._status_of_refused(order_id, symbol))
        event = new_event(executions.ORDER_REJECTED, {
            "order_id": order_id, "user_id": int(payload["user_id"]), "symbol": symbol,
            "request": request, "reason": UNPROCESSABLE, "status": status,
            "message": f"the {request} request could not be processed ({reason}) and was "
                       "set aside for an operator"},
            event_id=stable_key(consumed.event.event_id, "set-aside"),
            correlation_id=consumed.event.correlation_id)
        validate_event(event)
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Checked at once, so that terms the read model refuses fail the savepoint
                # below rather than this transaction's commit.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._check_fence({consumed.partition})
            if request == "submit":
                _record_rejected_submission(consumed)
            else:
                _record_set_aside_refusal(consumed, request, at=event.occurred_at)
            OutboxEvent.objects.create(event_id=event.event_id, topic=EXECUTIONS, key=symbol,
                                       body=event.to_json())
            self._store_offsets(offsets, notify=True)
        self._advance(offsets)

    def _status_of_refused(self, order_id: str, symbol: str) -> OrderStatus:
        """The state an order keeps when its amend or cancel is set aside: its book's, or
        its record's once it is final (REJECTED for an id nothing knows)."""
        book = self.books.get(symbol)
        live = book.live.get(order_id) if book else None
        if live is not None:
            return live.actor.status
        try:
            key = uuid.UUID(order_id)
        except ValueError:
            return OrderStatus.REJECTED
        found = order_selectors.recorded_orders(order_ids=[key], client_order_ids=[]).by_id.get(key)
        return found.status if found is not None else OrderStatus.REJECTED

    def _check_fence(self, partitions: set[int]) -> None:
        self._fence(partitions).run()

    def _fence(self, partitions: set[int]) -> Read[None]:
        """Lock the partitions' ownership rows; `Fenced` unless this process still holds
        the epochs it claimed them at."""
        def check(rows: Rows) -> None:
            current: dict[int, int] = dict(rows)
            for partition in partitions:
                if current.get(partition) != self.epochs.get(partition):
                    raise Fenced(f"{self.topic}[{partition}] is owned by another processor now")
        return Read.one("SELECT partition, epoch FROM processing_partitionownership "
                        "WHERE \"group\" = %s AND topic = %s AND partition = ANY(%s) "
                        "ORDER BY partition FOR UPDATE",
                        [self.group, self.topic, sorted(partitions)], check)

    def _handle(self, consumed: ConsumedEvent, work: BatchWork) -> None:
        event = consumed.event
        symbol = str(event.payload["symbol"])
        book = self.books.get(symbol) or self._open_book(symbol, consumed.partition)
        rules = work.rules.get(symbol)
        if rules is not None:
            # A halt, a resumption or a fee change applies from this batch on; tick and lot
            # cannot change under resting orders (order entry refuses it).
            book.rules = rules
        flow = OrderFlow(book, event, consumed.offset, work)
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


def _record_rejected_submission(consumed: ConsumedEvent) -> None:
    """Record a set-aside submission as REJECTED, if its terms fit the read model at all
    (in a savepoint: terms that do not fit leave only the event)."""
    payload = consumed.event.payload
    try:
        with transaction.atomic():
            submitted_at = datetime.fromisoformat(str(payload["submitted_at"]))
            orders.record_orders(submitted=[orders.SubmittedOrder(
                state=orders.OrderState(
                    order_id=uuid.UUID(str(payload["order_id"])), status=OrderStatus.REJECTED,
                    quantity=Decimal(str(payload["quantity"])),
                    price=None if payload["price"] is None else Decimal(str(payload["price"])),
                    filled_quantity=Decimal(0), average_fill_price=None,
                    reason_code=UNPROCESSABLE, updated_at=submitted_at),
                user_id=int(payload["user_id"]), client_order_id=str(payload["client_order_id"]),
                symbol=str(payload["symbol"]), side=Side(payload["side"]),
                order_type=OrderType(payload["type"]),
                time_in_force=TimeInForce(payload["time_in_force"]),
                stop_price=(None if payload["stop_price"] is None
                            else Decimal(str(payload["stop_price"]))),
                post_only=bool(payload["post_only"]), expires_at=None,
                created_at=submitted_at)], changed=[], fills=[])
    except (DatabaseError, ArithmeticError, ValueError):
        logger.warning("set-aside order %s cannot be recorded; its rejection is on %s only",
                       payload["order_id"], EXECUTIONS)


def _record_set_aside_refusal(consumed: ConsumedEvent, request: str, *, at: datetime) -> None:
    """Note a set-aside amend or cancel in its order's record (`last_refusal`), in a
    savepoint: an order id that cannot be stored at all leaves only the event."""
    try:
        with transaction.atomic():
            orders.record_refusal(
                order_id=uuid.UUID(str(consumed.event.payload["order_id"])),
                refusal=order_selectors.Refusal(request=request, reason=UNPROCESSABLE, at=at))
    except (DatabaseError, ValueError):
        logger.warning("set-aside %s of order %s cannot be noted on it; its rejection is on "
                       "%s only", request, consumed.event.payload["order_id"], EXECUTIONS)


def _close_connection() -> None:
    """The writer thread's own database connection (Django's are per thread)."""
    connection.close()


def _live_order(row: WorkingOrder) -> LiveOrder:
    return LiveOrder(
        order_id=str(row.order_id), user_id=int(row.user_id), symbol=row.symbol,
        side=SIDE_BY_VALUE[row.side], engine_type=ORDER_TYPE_BY_VALUE[row.engine_type],
        time_in_force=TIME_IN_FORCE_BY_VALUE[row.time_in_force],
        price=row.price, client_price=row.client_price, stop_price=row.stop_price,
        post_only=row.post_only, stp=row.self_trade_prevention, expires_at=row.expires_at,
        priority=row.priority, reserve_asset=row.reserve_asset,
        reserve_price=row.reserve_price, reserved=Decimal(row.reserved),
        maker_fee_rate=row.maker_fee_rate, taker_fee_rate=row.taker_fee_rate,
        actor=OrderActor(order_id=str(row.order_id), quantity=row.quantity,
                         status=ORDER_STATUS_BY_VALUE[row.status],
                         filled_quantity=row.filled_quantity,
                         filled_notional=row.filled_notional),
    )
