"""Everything one processor batch reads and writes (D10).

`BatchWork.prepare` reads, in a fixed number of statements whatever the batch's size,
what the order flow needs for the batch's events: which submissions are duplicates (when
locked; a pipelined batch leaves that to the orders' unique keys) and the recorded status
of the orders that cancels and amends name; the ledger accounts of every account that may
trade (the batch's own and those with orders in its books), locked; the risk state of
those accounts with the velocity claims of its submissions; the instruments' rules (so a
halt or a fee change takes effect within one batch); the marks; the accounts' self-trade
prevention and their working orders in books this process does not hold. The flow then
runs in memory; `seal` turns what it changed into rows (`BatchWrite`), and their `write`
writes each table once: orders and fills, ledger, positions, working orders, symbol
states and the outbox.

A pipelined processor prepares a batch while the one before it is still being written:
it reads without locks, in one snapshot, and passes that earlier batch as `overlay` when
the snapshot cannot see it yet, so its changes count as written (see `processor`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

import redis
from django.db import connection, transaction

from apps.orders import events as order_events
from apps.orders import selectors as order_selectors
from apps.orders import services as orders
from apps.orders.selectors import FillView, InstrumentRules, Submission
from apps.orders.services import OrderState, SubmittedOrder
from apps.processing import selectors
from apps.processing.batch_ledger import LOAN, USER, BatchLedger, LedgerWrite
from apps.processing.domain.matching import Reach
from apps.processing.execution import Book, LiveOrder, epoch_ns, publish_book_changes
from apps.processing.models import AccountSettings
from apps.risk import services as risk
from apps.risk.services import AccountExposure, WorkingOrders
from oms.db import Append, Read, read_together, sent_together
from oms.events import Event as Envelope
from oms.events.registry import validated_json
from oms.ids import parse_uuid
from oms.kafka.consumer import ConsumedEvent
from oms.terms import OrderStatus, OrderType, Side, TimeInForce

logger = logging.getLogger(__name__)
ZERO = Decimal(0)
# Orders expiring this soon after a batch's last request are taken to expire within it.
EXPIRY_MARGIN = timedelta(seconds=1)
DEFAULT_STP = AccountSettings.SelfTradePrevention.CANCEL_RESTING.value


# An unlocked batch reads in one snapshot: every read sees the same committed state.
SNAPSHOT: Read[None] = Read.one("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", [],
                                lambda _rows: None)
# ... and ends it in the same round trip: the snapshot holds nothing the batch needs after
# its reads, and a `COMMIT` of its own would be one more wait for the database on the
# main thread's path. (The enclosing `atomic()` then finds the connection idle, and
# psycopg's commit of an idle connection sends nothing.)
END_SNAPSHOT: Read[None] = Read.one("COMMIT", [], lambda _rows: None)


@dataclass(slots=True)
class BatchWork:
    ledger: BatchLedger
    risk: risk.RiskBatch
    rules: dict[str, InstrumentRules]
    marks: dict[str, Decimal]
    recorded: order_selectors.RecordedOrders
    stp: dict[int, str]
    held_books: dict[str, Book]  # every book this process holds (memory is authoritative)
    working_elsewhere: dict[int, dict[str, WorkingOrders]]  # in books not held here
    events: list[tuple[str, str, Envelope]] = field(default_factory=list)
    touched: dict[str, LiveOrder] = field(default_factory=dict)
    submitted: dict[str, dict[str, Any]] = field(default_factory=dict)  # order id -> terms
    fills: list[FillView] = field(default_factory=list)
    books: set[str] = field(default_factory=set)
    refused: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (order, reason)
    changed_levels: dict[str, set[tuple[Side, int]]] = field(default_factory=dict)
    last_source: dict[str, Envelope] = field(default_factory=dict)  # by symbol
    overlay: BatchWork | None = None  # the earlier batch this one's read cannot see yet
    _client_order_ids: set[tuple[int, str]] = field(default_factory=set)
    written_status: dict[str, OrderStatus] = field(default_factory=dict)  # once sealed

    @classmethod
    def prepare(cls, events: list[ConsumedEvent], books: dict[str, Book], *,
                locked: bool = True,
                in_flight: tuple[BatchWork, Read[bool]] | None = None) -> BatchWork:
        """Read what the batch needs, in one round trip: its accounts locked (`locked`), or
        read without the lock in one snapshot (a pipelined batch, checked when written).
        `in_flight`: the batch still being written, and the read that says whether this
        snapshot sees its write already; if not, what it changed is added."""
        payloads = [consumed.event.payload for consumed in events]
        users = {int(p["user_id"]) for p in payloads}
        users |= _others_touched(events, books, narrow=not locked)
        submissions = [(consumed.event, p) for consumed, p in zip(events, payloads, strict=True)
                       if consumed.event.type == order_events.ORDER_SUBMITTED]
        # Unlocked (pipelined), submissions are taken to be new, and the orders' unique
        # keys are the check: a duplicate fails the batch's write, which is then computed
        # again with this look-up (`processor.BatchProcessor.settle`). Duplicates reach the
        # topic only when order entry's claims were lost; the look-up costs every batch.
        checked = payloads if locked else [
            p for consumed, p in zip(events, payloads, strict=True)
            if consumed.event.type != order_events.ORDER_SUBMITTED]
        days = {consumed.event.occurred_at.date() for consumed in events}
        reads: list[Read[Any]] = [
            order_selectors.instrument_rules_read(),
            BatchLedger.reading(users, lock=locked),
            selectors.marks_read(),
            order_selectors.recorded_orders_read(
                order_ids=[parse_uuid(str(p["order_id"])) for p in checked],
                client_order_ids=[(int(p["user_id"]), str(p["client_order_id"]))
                                  for _, p in submissions] if locked else []),
            selectors.self_trade_prevention_read(user_ids=users),
            selectors.working_orders_read(user_ids=users, excluding=list(books)),
            risk.stored_risk_read(user_ids=users, days=days),
        ]
        if in_flight is not None:
            reads.append(in_flight[1])
        # Unlocked, the reads are one read-only snapshot, committed with them.
        values = read_together(reads if locked else [SNAPSHOT, *reads, END_SNAPSHOT])
        (instruments, ledger, marks, recorded, stp, elsewhere, stored_risk,
         *written) = values if locked else values[1:-1]
        overlay = in_flight[0] if in_flight is not None and not written[0] else None
        if not locked:
            ledger.add_unwritten(overlay.ledger if overlay else None)
        marks.update({symbol: book.last_trade_price for symbol, book in books.items()
                      if book.last_trade_price is not None})
        claims = [risk.VelocityClaim(
            int(p["user_id"]), str(p["order_id"]), consumed.event.occurred_at,
            counts=consumed.event.type == order_events.ORDER_SUBMITTED)
            for consumed, p in zip(events, payloads, strict=True)
            if consumed.event.type != order_events.ORDER_CANCEL_REQUESTED]
        risk_state = risk.risk_batch(
            user_ids=users, days=days, claims=claims,
            overlay=overlay.risk if overlay else None, instruments=instruments,
            stored=stored_risk)
        return cls(ledger=ledger, risk=risk_state, rules={r.symbol: r for r in instruments},
                   marks=marks, recorded=recorded, stp=stp, held_books=books,
                   working_elsewhere=elsewhere, overlay=overlay)

    # ------------------------------------------------------------------ what the flow asks

    def classify(self, payload: dict[str, Any]) -> tuple[Submission, OrderStatus | None]:
        """What a submission is (new, a repeat to ignore, or a duplicate to refuse), with
        the status of the order it collides with; orders submitted earlier in the batch
        count as recorded."""
        # The id's text is canonical (its schema allows no other form): a key as it is.
        order_id = str(payload["order_id"])
        user_id, client_order_id = int(payload["user_id"]), str(payload["client_order_id"])
        submitted_at = datetime.fromisoformat(payload["submitted_at"])
        earlier = self.submitted.get(order_id)
        if earlier is None and self.overlay is not None:
            earlier = self.overlay.submitted.get(order_id)
        if earlier is not None:
            repeated = earlier["created_at"] == submitted_at
            return (Submission.REPEATED if repeated else Submission.DUPLICATE_ORDER_ID,
                    self.recorded_status(order_id))
        if (user_id, client_order_id) in self._client_order_ids or (
                self.overlay is not None
                and (user_id, client_order_id) in self.overlay._client_order_ids):
            return Submission.DUPLICATE_CLIENT_ORDER_ID, None
        outcome, recorded = self.recorded.classify(
            order_id=parse_uuid(order_id), user_id=user_id, client_order_id=client_order_id,
            submitted_at=submitted_at)
        return outcome, self.recorded_status(order_id) if recorded else None

    def record_submission(self, payload: dict[str, Any], *, order_type: OrderType,
                          time_in_force: TimeInForce, stop_price: Decimal | None,
                          expires_at: datetime | None) -> None:
        """Remember a new order's terms, written with its state at the end of the batch."""
        self.submitted[str(payload["order_id"])] = {
            "client_order_id": payload["client_order_id"], "order_type": order_type,
            "time_in_force": time_in_force, "stop_price": stop_price,
            "expires_at": expires_at,
            "created_at": datetime.fromisoformat(payload["submitted_at"]),
        }
        self._client_order_ids.add((int(payload["user_id"]), str(payload["client_order_id"])))

    def recorded_status(self, order_id: str) -> OrderStatus | None:
        """An order's status as this batch leaves it, or as recorded before the batch."""
        order = self.touched.get(order_id)
        if order is not None:
            return order.actor.status
        if self.overlay is not None and order_id in self.overlay.written_status:
            return self.overlay.written_status[order_id]
        recorded = self.recorded.by_id.get(parse_uuid(order_id))
        return recorded.status if recorded else None

    def stp_of(self, user_id: int) -> str:
        return self.stp.get(user_id, DEFAULT_STP)

    def account_exposure(self, user_id: int, *, balances: bool = True) -> AccountExposure:
        """What the account has at stake now: its working orders of every symbol (those of
        the books held here from memory), and with `balances` its balances and loans (from
        the locked ledger)."""
        working = dict(self.working_elsewhere.get(user_id, {}))
        for symbol, book in self.held_books.items():
            if user_id in book.exposure.users:
                working[symbol] = book.exposure.of(user_id)
        holdings: dict[str, Decimal] = {}
        loans: dict[str, Decimal] = {}
        for account in self.ledger.accounts_of(user_id) if balances else ():
            if not (amount := account.available + account.reserved):
                continue
            if account.kind == LOAN:
                loans[account.asset] = -amount
            elif account.kind == USER:
                holdings[account.asset] = amount
        return AccountExposure(user_id=user_id, working=working, holdings=holdings,
                                    loans=loans)

    # ------------------------------------------------------------------------- writing

    def flush(self, books: dict[str, Book], now: datetime, *,
              then: Callable[[], None] | None = None) -> None:
        self.seal(books, now).write(then=then)

    def seal(self, books: dict[str, Book], now: datetime) -> BatchWrite:
        """Publish each changed book once, give back the velocity slots of refused orders,
        and turn everything the batch changed into rows: plain values, so that the next
        batch can go on changing the same orders and books while these are written."""
        for symbol, levels in sorted(self.changed_levels.items()):
            publish_book_changes(books[symbol], levels, self.last_source[symbol], self)
        self.risk.flush_counters()
        submitted, changed = self._order_rows()
        self.written_status = {order_id: order.actor.status
                               for order_id, order in self.touched.items()}
        return BatchWrite(
            now=now, ledger=self.ledger.seal(), risk=self.risk.seal(now),
            submitted=submitted, changed=changed, fills=list(self.fills),
            touched=[parse_uuid(order_id) for order_id in self.touched],
            working=[working_row(order) for order in self.touched.values()
                     if order.actor.is_working],
            symbols=[(symbol, books[symbol].last_trade_price, books[symbol].sequence)
                     for symbol in sorted(self.books)],
            # An event that breaks its schema never leaves (`validated_json` raises).
            outbox=[(event.event_id, topic, key, validated_json(event), now)
                    for topic, key, event in self.events],
            refused=list(self.refused))

    def _order_rows(self) -> tuple[list[SubmittedOrder], list[OrderState]]:
        submitted: list[SubmittedOrder] = []
        changed: list[OrderState] = []
        for order_id, order in self.touched.items():
            actor = order.actor
            state = OrderState(
                order_id=parse_uuid(order_id), status=actor.status,
                quantity=actor.quantity, price=order.client_price,
                filled_quantity=actor.filled_quantity,
                average_fill_price=actor.average_fill_price, reason_code=actor.reason_code,
                updated_at=order.updated_at, refusal=order.refusal)
            terms = self.submitted.get(order_id)
            if terms is None:
                changed.append(state)
            else:
                submitted.append(SubmittedOrder(state=state, user_id=order.user_id,
                                                symbol=order.symbol, side=order.side,
                                                post_only=order.post_only, **terms))
        return submitted, changed


@dataclass(frozen=True, slots=True)
class BatchWrite:
    """Everything one batch writes, each table once."""

    now: datetime
    ledger: LedgerWrite
    risk: risk.RiskWrite
    submitted: list[SubmittedOrder]
    changed: list[OrderState]
    fills: list[FillView]
    touched: list[uuid.UUID]  # orders whose working-order row is replaced
    working: list[tuple[object, ...]]  # the rows of those still working
    symbols: list[tuple[str, Decimal | None, int]]  # last trade price, book sequence
    outbox: list[tuple[object, ...]]
    refused: list[tuple[uuid.UUID, str]]

    def write(self, *, checks: Sequence[Read[Any]] = (),
              then: Callable[[], None] | None = None, commit: bool = False) -> None:
        """Write everything in a fixed number of round trips, whatever the batch's size:
        one for the caller's `checks` (each raises to stop the write: the fence, the
        balances a pipelined batch started from), the ledger's new accounts and the
        deletion of the working-order rows the batch replaces; one per large append (a
        `COPY`); and one for everything that reads nothing back - the small appends
        (transactions, postings, new orders, fills, working orders, outbox), balances,
        changed orders, positions and P&L, book states - with the caller's `then` (its
        offsets) and, with `commit` (the caller's transaction is the outermost), the
        commit. A batch of a few orders thus waits twice, commit included (three times
        without `commit`)."""
        *_, ids, _ = read_together([*checks, self.ledger.new_accounts_read(self.now),
                                    Read.one(_DELETE_WORKING, [self.touched], list)])
        appends = [
            *self.ledger.appends(ids, self.now),
            *orders.new_order_appends(submitted=self.submitted, fills=self.fills),
            Append("processing_workingorder", WORKING_COLUMNS, self.working),
            Append("processing_outboxevent",
                   ("event_id", "topic", "key", "body", "created_at"), self.outbox)]
        with sent_together(appending=appends):
            self.ledger.update_balances(ids, self.now)
            self.risk.write()
            orders.record_order_changes(self.changed)
            if self.symbols:
                with connection.cursor() as cursor:
                    cursor.execute(_BOOK_STATES, [[symbol for symbol, _, _ in self.symbols],
                                                  [price for _, price, _ in self.symbols],
                                                  [seq for _, _, seq in self.symbols]])
            if then is not None:
                then()
            if commit:
                # The transaction ends in the same round trip as the writes (an error
                # among them makes it a rollback); the caller's outermost `atomic()`
                # then finds the connection idle, and psycopg sends nothing more.
                with connection.cursor() as cursor:
                    cursor.execute("COMMIT")
        if self.refused:
            refused, now = self.refused, self.now
            transaction.on_commit(lambda: _show_refusals(refused, now))


def _show_refusals(refused: list[tuple[uuid.UUID, str]], now: datetime) -> None:
    """After the commit: the entry cache of each refused duplicate says REJECTED (the
    refusal itself is on `executions` already, so a Redis failure here only delays what a
    read shows until the cache expires)."""
    try:
        for order_id, reason in refused:
            orders.record_refused_submission(order_id=order_id, reason_code=reason,
                                             updated_at=now)
    except redis.RedisError:
        logger.warning("the entry cache of %d refused orders is not updated", len(refused))


_DELETE_WORKING = "DELETE FROM processing_workingorder WHERE order_id = ANY(%s::uuid[])"
_BOOK_STATES = ("UPDATE processing_symbolstate AS s SET last_trade_price = v.price, "
                "book_sequence = v.sequence FROM unnest(%s::text[], %s::numeric[], "
                "%s::bigint[]) AS v (symbol, price, sequence) WHERE s.symbol = v.symbol")

WORKING_COLUMNS = (
    "order_id", "symbol", "user_id", "side", "engine_type", "time_in_force", "price",
    "client_price", "stop_price", "quantity", "filled_quantity", "filled_notional", "status",
    "post_only", "self_trade_prevention", "expires_at", "priority", "reserve_asset",
    "reserve_price", "reserved", "maker_fee_rate", "taker_fee_rate")


def working_row(order: LiveOrder) -> tuple[object, ...]:
    """A working order as a row of `WORKING_COLUMNS`."""
    actor = order.actor
    return (parse_uuid(order.order_id), order.symbol, order.user_id, order.side,
            order.engine_type, order.time_in_force, order.price, order.client_price,
            order.stop_price, actor.quantity, actor.filled_quantity, actor.filled_notional,
            actor.status, order.post_only, order.stp, order.expires_at, order.priority,
            order.reserve_asset, order.reserve_price, order.reserved, order.maker_fee_rate,
            order.taker_fee_rate)


def _others_touched(events: list[ConsumedEvent], books: dict[str, Book], *,
                    narrow: bool) -> set[int]:
    """The accounts besides the batch's own that its flow may settle: every account
    working in the books it trades in, or (`narrow`, a pipelined batch) only those its
    takers could reach (`MatchingEngine.counterparties`), so that a batch reads and locks
    in proportion to what it trades, not to how many accounts rest in the book. Should the
    flow reach further all the same, the ledger raises `UnreadAccounts` and the batch is
    applied again unpipelined, on every account of its books."""
    by_symbol: dict[str, list[ConsumedEvent]] = {}
    for consumed in events:
        by_symbol.setdefault(str(consumed.event.payload["symbol"]), []).append(consumed)
    touched: set[int] = set()
    for symbol, requests in by_symbol.items():
        book = books.get(symbol)
        if book is None:
            continue
        reach = _reach(book, requests) if narrow else None
        if reach is None:
            touched.update(book.exposure.users)
            continue
        by = max(consumed.event.occurred_at for consumed in requests)
        touched.update(int(account) for account in book.engine.counterparties(
            reach, expiring_by=epoch_ns(by + EXPIRY_MARGIN)))
    return touched


def _reach(book: Book, requests: list[ConsumedEvent]) -> Reach | None:
    """What the requests could take from `book`: submissions at their quantities, an
    amend (of a resting order or of one the batch submits) at its new quantity or what its
    order has left; the orders cancels and amends may take out first. None when a
    request's terms cannot be read (the flow will refuse it; the batch then reads every
    account of the book)."""
    lots = {Side.BUY: 0, Side.SELL: 0}
    takers: dict[Side, set[str]] = {Side.BUY: set(), Side.SELL: set()}
    leaving: set[str] = set()
    submitted: dict[str, tuple[Side, Decimal]] = {}  # the batch's own new orders
    lot = book.rules.lot_size
    try:
        for consumed in requests:
            payload = consumed.event.payload
            order_id = str(payload["order_id"])
            if consumed.event.type == order_events.ORDER_SUBMITTED:
                side, quantity = Side(payload["side"]), Decimal(str(payload["quantity"]))
                submitted[order_id] = (side, quantity)
            else:
                leaving.add(order_id)
                live = book.live.get(order_id)
                order = (live.side, live.actor.remaining) if live else submitted.get(order_id)
                if consumed.event.type != order_events.ORDER_AMEND_REQUESTED or order is None:
                    continue
                side, quantity = order
                if payload.get("quantity") is not None:
                    quantity = Decimal(str(payload["quantity"]))
            lots[side] += int((quantity / lot).to_integral_value(rounding=ROUND_CEILING))
            takers[side].add(str(payload["user_id"]))
    except (ArithmeticError, KeyError, ValueError):
        return None
    return Reach(buy_lots=lots[Side.BUY], sell_lots=lots[Side.SELL],
                 buyers=frozenset(takers[Side.BUY]), sellers=frozenset(takers[Side.SELL]),
                 leaving=frozenset(leaving))
