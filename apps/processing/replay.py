"""Replay: rebuild orders, fills, books, ledger and positions from the `orders` topic into
an empty database, then compare the result with the live one.

The topic holds every order request; money enters and leaves through deposits,
withdrawals and operators' adjustments, which are not on a topic, so the replay takes
users, instruments, account and margin settings and those money movements from the live
database and applies each movement before the first order request that came after it.
The processor's code is the same; only its database is new. Equal results show that state
is a pure function of the input (no lost or doubled order, fill or coin)."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from django.conf import settings
from django.db import connection

from apps.processing import services
from apps.processing.models import LedgerTransaction
from apps.processing.processor import BatchProcessor
from apps.risk import selectors as risk_selectors
from apps.risk import services as risk
from oms.kafka.consumer import Batch, BatchConsumer, ConsumedEvent
from oms.kafka.shared import event_producer
from oms.kafka.topics import ORDERS

logger = logging.getLogger(__name__)

REPLAY_BATCH = 2000  # as the live processor's largest batch

# Reference data copied as is: (table, columns).
REFERENCE_TABLES = [
    ("auth_user", "id, password, last_login, is_superuser, username, first_name, last_name, "
                  "email, is_staff, is_active, date_joined"),
    ("orders_instrument", "id, symbol, base_asset, quote_asset, tick_size, lot_size, "
                          "min_quantity, max_quantity, min_notional, maker_fee_rate, "
                          "taker_fee_rate, status, updated_at"),
    ("processing_accountsettings", "user_id, self_trade_prevention"),
    # Margin terms decide what a leveraged account may borrow.
    ("risk_marginaccount", "id, user_id, leverage, updated_at"),
    ("risk_instrumentmargin", "id, symbol, initial_margin, maintenance_margin, updated_at"),
    # Limits decide which orders are accepted: the live ones, not the defaults `migrate`
    # installs on the empty database (every column, whichever limits exist).
    ("risk_risklimit", "*"),
]
# Tables `migrate` fills on an empty database, emptied before the live rows are copied.
REPLACED_TABLES = {"risk_risklimit"}

# What must be equal between live and replayed state: (name, query).
COMPARED = [
    ("orders", "SELECT id::text, status, filled_quantity::text, reason_code, refused_request, "
               "refused_reason FROM orders_order"),
    ("fills", "SELECT id::text, order_id::text, price::text, quantity::text, fee::text "
              "FROM orders_fill"),
    ("balances", "SELECT kind, coalesce(user_id, 0), asset, available::text, reserved::text "
                 "FROM processing_ledgeraccount"),
    ("positions", "SELECT user_id, symbol, quantity::text, average_entry_price::text, "
                  "realized_pnl::text FROM risk_position"),
    ("books", "SELECT order_id::text, price::text, quantity::text, filled_quantity::text, "
              "reserved::text FROM processing_workingorder"),
]


@dataclass(frozen=True, slots=True)
class Movement:
    created_at: datetime
    kind: str
    reference: str
    user_id: int
    asset: str
    amount: Decimal


def connect_to(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url.replace("postgres://", "postgresql://", 1))


def copy_reference_data(source_url: str) -> None:
    with connect_to(source_url) as source, connection.cursor() as target:
        for table, wanted in REFERENCE_TABLES:
            read = source.execute(f"SELECT {wanted} FROM {table}")  # noqa: S608 - fixed names
            rows = read.fetchall()
            columns = ", ".join(column.name for column in read.description or [])
            if table in REPLACED_TABLES:
                target.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            if rows:
                marks = ", ".join(["%s"] * len(rows[0]))
                target.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608
            if "id" in columns.split(", "):
                # Rows came with their ids: the next one made here (a proposed limit's
                # scope) must not reuse one.
                target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                               f"coalesce(max(id), 1)) FROM {table}")


def money_movements(source_url: str) -> list[Movement]:
    """Deposits, withdrawals and operators' adjustments of the live ledger, oldest first;
    amounts signed as the user's balance moved."""
    query = """
        SELECT t.created_at, t.kind, t.reference, a.user_id, a.asset, p.amount
        FROM processing_ledgertransaction t
        JOIN processing_ledgerposting p ON p.transaction_id = t.id
        JOIN processing_ledgeraccount a ON a.id = p.account_id
        WHERE t.kind IN ('deposit', 'withdrawal', 'adjustment') AND a.kind = 'user'
        ORDER BY t.created_at, t.reference"""
    with connect_to(source_url) as source:
        return [Movement(created_at=row[0], kind=row[1], reference=row[2], user_id=row[3],
                         asset=row[4], amount=row[5])
                for row in source.execute(query).fetchall()]


def _apply(movement: Movement) -> None:
    reference = movement.reference.split(":", 1)[1]
    if movement.kind == LedgerTransaction.Kind.DEPOSIT:
        services.deposit(user_id=movement.user_id, asset=movement.asset,
                         amount=movement.amount, reference=reference)
    elif movement.kind == LedgerTransaction.Kind.WITHDRAWAL:
        services.apply_recorded_withdrawal(user_id=movement.user_id, asset=movement.asset,
                                           amount=-movement.amount, reference=reference)
    else:
        services.apply_recorded_adjustment(user_id=movement.user_id, asset=movement.asset,
                                           amount=movement.amount, reference=reference)


@dataclass(frozen=True, slots=True)
class Replayed:
    requests: int
    applying_seconds: float  # from the first poll on: without copying reference data,
    # reading the movements and claiming the partitions (rebuilding their books)


def replay_topic(source_url: str, *, risk_config: Path | None = None,
                 seconds: float = 600) -> Replayed:
    """Apply every order request on the topic (up to its end now) and the money movements
    in between. With `risk_config`, the limits proposed there are laid over the live ones
    first (a what-if)."""
    copy_reference_data(source_url)
    if risk_config is not None:
        risk.install_limit_proposal(proposal=risk_selectors.read_limit_proposal(risk_config))
    movements = money_movements(source_url)
    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
                         **settings.KAFKA_CLIENT_CONFIG})
    partitions = admin.list_topics(ORDERS, timeout=10).topics[ORDERS].partitions
    ends = {tp.partition: future.result().offset for tp, future in admin.list_offsets(
        {TopicPartition(ORDERS, p): OffsetSpec.latest() for p in partitions}).items()}
    group = f"replay-{uuid.uuid4().hex[:8]}"
    # Pipelined, as the live processor runs (each batch written while the next one is
    # computed); a money movement waits for the batches before it to be written.
    processor = BatchProcessor(group=group, pipelined=True)
    # Every partition assigned at once, outside any group: nothing else consumes it, and a
    # group join would cost seconds of the replay.
    consumer = BatchConsumer(topics=[ORDERS], group_id=group,
                             bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
                             dead_letters=event_producer(), extra=settings.KAFKA_CLIENT_CONFIG,
                             subscribe=False)
    resume = processor.claim(list(partitions))
    consumer.add_to_assignment([TopicPartition(ORDERS, partition, offset)
                                for partition, offset in resume.items()])
    done = {p: ends[p] == 0 for p in partitions}
    applied, pending = 0, list(movements)
    deadline = time.monotonic() + seconds
    applying_since = time.perf_counter()
    try:
        while not all(done.values()) and time.monotonic() < deadline:
            batch = consumer.poll_batch(max_messages=REPLAY_BATCH, timeout=0.5)
            # As the live processor does, in batches: each run of requests between two money
            # movements is one batch, so a deposit still lands between the same requests.
            run: list[ConsumedEvent] = []
            for consumed in batch.events:
                if pending and pending[0].created_at <= consumed.event.occurred_at:
                    _process_run(processor, run)
                    run = []
                    processor.catch_up()
                    while pending and pending[0].created_at <= consumed.event.occurred_at:
                        _apply(pending.pop(0))
                run.append(consumed)
            _process_run(processor, run)
            applied += len(batch.events)
            for (_, partition), offset in batch.next_offsets.items():
                done[partition] = offset >= ends[partition]
        processor.catch_up()
        applying = time.perf_counter() - applying_since
    finally:
        processor.close()
        consumer.close()
    for movement in pending:
        _apply(movement)
    return Replayed(requests=applied, applying_seconds=applying)


def _process_run(processor: BatchProcessor, run: list[ConsumedEvent]) -> None:
    """Apply consecutive requests as one batch."""
    if not run:
        return
    first: dict[tuple[str, int], int] = {}
    after: dict[tuple[str, int], int] = {}
    for consumed in run:
        key = (consumed.topic, consumed.partition)
        first.setdefault(key, consumed.offset)
        after[key] = consumed.offset + 1
    processor.process(Batch(events=run, first_offsets=first, next_offsets=after),
                      set_aside=_log_aside)


def _log_aside(consumed: ConsumedEvent, reason: str) -> None:
    logger.error("replay skipped %s: %s", consumed.event.event_id, reason)


def differences(live_url: str, replay_url: str) -> dict[str, int]:
    """Per compared table, how many rows differ between the two databases."""
    found = {}
    with connect_to(live_url) as live, connect_to(replay_url) as replayed:
        for name, query in COMPARED:
            left = set(live.execute(query).fetchall())
            right = set(replayed.execute(query).fetchall())
            found[name] = len(left ^ right)
    return found
