"""Reconciliation: the invariants that must hold between the ledger, the order books, the
read models and the `executions` topic at any quiet moment. Each check returns the
differences it finds as plain findings; `manage.py reconcile` prints them and fails on any.

1. Conservation: per asset, what users and the venue hold equals deposits minus withdrawals.
2. Every ledger transaction balances per asset, and every account's balances equal the sum
   of its postings.
3. Every trade has its two fills and its one ledger transaction.
4. Reserved balances equal what the working orders hold.
5. No book is crossed.
6. Every outbox event is on `executions`, and every processed event there is in the outbox,
   over the window both still hold.

The checks run while the processor works. Each database check therefore reads one
snapshot (`snapshot`: a REPEATABLE READ, read-only transaction), so a batch that commits
meanwhile is seen whole or not at all: balances are never compared with postings of a
later moment. The outbox is pruned after `OMS_OUTBOX_KEEP_SECONDS` and the topic loses
records past its retention, so check 6 compares only events newer than both horizons, and
never depends on a record older than the outbox keeps.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from functools import wraps

from confluent_kafka import Consumer, TopicPartition
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Sum

from apps.orders import selectors as order_selectors
from apps.processing.models import (
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    OutboxEvent,
    WorkingOrder,
)
from oms.events import Event, InvalidEvent
from oms.kafka.config import consumer_config
from oms.kafka.topics import EXECUTIONS
from oms.money import MONEY_CONTEXT
from oms.terms import OrderType, Side


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference: the check, a line for people, and as a record (`breaks.Break`) what
    it is about (`subject`, stable from run to run while the difference lasts), what was
    expected and what was found."""

    check: str
    detail: str
    subject: str = ""
    expected: str = ""
    actual: str = ""


def in_one_snapshot(check: Callable[[], list[Finding]]) -> Callable[[], list[Finding]]:
    """Run the database check `check` inside `snapshot()`."""
    @wraps(check)
    def checked() -> list[Finding]:
        with snapshot():
            return check()
    return checked


@contextmanager
def snapshot() -> Iterator[None]:
    """One REPEATABLE READ, read-only transaction: every query inside sees the database as
    of the first one, so a processor batch committing meanwhile is seen whole or not at
    all. Inside a transaction the caller opened, the queries see what that one sees."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


@in_one_snapshot
def conservation() -> list[Finding]:
    findings = []
    holdings: dict[str, Decimal] = defaultdict(Decimal)
    external: dict[str, Decimal] = defaultdict(Decimal)
    # Summed exactly: in the default 28-digit context a venue's holdings of 10^10 or more
    # at 18 places would be rounded, and the check would report a difference that is not
    # there (or hide one that is).
    with localcontext(MONEY_CONTEXT):
        for account in LedgerAccount.objects.all():
            total = account.available + account.reserved
            if account.kind == LedgerAccount.Kind.EXTERNAL:
                external[account.asset] += total
            else:
                holdings[account.asset] += total
    for asset in sorted(set(holdings) | set(external)):
        net_deposits = external[asset].copy_negate()  # exact, as the sums above
        if holdings[asset] != net_deposits:
            findings.append(Finding("conservation", f"{asset}: held {holdings[asset]}, "
                                    f"deposits minus withdrawals {net_deposits}",
                                    subject=asset, expected=str(net_deposits),
                                    actual=str(holdings[asset])))
    return findings


@in_one_snapshot
def balanced_postings() -> list[Finding]:
    findings = [
        Finding("balanced", f"transaction {row['transaction']} {row['account__asset']} "
                f"sums to {row['total']}",
                subject=f"transaction {row['transaction']} {row['account__asset']}",
                expected="0", actual=str(row["total"]))
        for row in LedgerPosting.objects.values("transaction", "account__asset")
        .annotate(total=Sum("amount")).exclude(total=0)
    ]
    sums = {(row["account"], row["bucket"]): row["total"] for row in
            LedgerPosting.objects.values("account", "bucket").annotate(total=Sum("amount"))}
    for account in LedgerAccount.objects.all():
        for bucket in ("available", "reserved"):
            posted = sums.get((account.pk, bucket), Decimal(0))
            if getattr(account, bucket) != posted:
                findings.append(Finding("balanced", f"account {account} {bucket} "
                                        f"{getattr(account, bucket)} != postings {posted}",
                                        subject=f"account {account.pk} {bucket}",
                                        expected=str(posted),
                                        actual=str(getattr(account, bucket))))
    return findings


@in_one_snapshot
def trades_posted() -> list[Finding]:
    findings = []
    trades = order_selectors.fill_counts_by_trade()
    posted = set(LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.TRADE)
                 .values_list("reference", flat=True))
    for trade_id, fills in trades.items():
        if fills != 2:
            findings.append(Finding("trades", f"trade {trade_id} has {fills} fills, not 2",
                                    subject=f"trade {trade_id} fills", expected="2",
                                    actual=str(fills)))
        if f"trade:{trade_id}" not in posted:
            findings.append(Finding("trades", f"trade {trade_id} has no ledger transaction",
                                    subject=f"trade {trade_id} posting",
                                    expected="one ledger transaction", actual="none"))
    missing = posted - {f"trade:{trade_id}" for trade_id in trades}
    findings += [Finding("trades", f"{reference} has no fills", subject=f"{reference} fills",
                         expected="2", actual="0") for reference in sorted(missing)]
    return findings


@in_one_snapshot
def reservations() -> list[Finding]:
    held = {(row["user_id"], row["reserve_asset"]): row["total"] for row in
            WorkingOrder.objects.values("user_id", "reserve_asset")
            .annotate(total=Sum("reserved"))}
    findings = []
    for account in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.USER):
        expected = held.pop((account.user_id, account.asset), Decimal(0))
        if account.reserved != expected:
            findings.append(Finding("reservations", f"user {account.user_id} {account.asset}: "
                                    f"reserved {account.reserved}, orders hold {expected}",
                                    subject=f"user {account.user_id} {account.asset}",
                                    expected=str(expected), actual=str(account.reserved)))
    findings += [Finding("reservations", f"user {user} {asset}: orders hold {total} "
                         "but there is no account", subject=f"user {user} {asset}",
                         expected=str(total), actual="no account")
                 for (user, asset), total in held.items()]
    return findings


@in_one_snapshot
def books_not_crossed() -> list[Finding]:
    findings = []
    resting = WorkingOrder.objects.filter(engine_type=OrderType.LIMIT)
    for row in resting.values("symbol").annotate(
        best_bid=Max("price", filter=Q(side=Side.BUY)),
        best_ask=Min("price", filter=Q(side=Side.SELL))):
        if row["best_bid"] is not None and row["best_ask"] is not None \
                and row["best_bid"] >= row["best_ask"]:
            findings.append(Finding("books", f"{row['symbol']} is crossed: bid "
                                    f"{row['best_bid']} >= ask {row['best_ask']}",
                                    subject=row["symbol"], expected="best bid < best ask",
                                    actual=f"bid {row['best_bid']} >= ask {row['best_ask']}"))
    return findings


# How far the clocks of the processor, the relay and the database may disagree: record
# timestamps and row times closer than this to a horizon are left out of the comparison.
CLOCK_SKEW = timedelta(seconds=1)
LOOKUP_CHUNK = 10_000


def _database_now() -> datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
    return now  # type: ignore[no-any-return]


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class _TopicWindow:
    """What `executions` holds from a given time on: each event id with its record's
    timestamp (ms), where the reading stopped, and since when the topic is known whole."""

    seen: dict[str, int]
    positions: dict[int, int]
    ends: dict[int, int]
    whole_since_ms: int

    @property
    def complete(self) -> bool:
        return all(self.positions[p] >= self.ends[p] for p in self.ends)


def _read_executions(*, since: datetime, expected: set[str], seconds: float) -> _TopicWindow:
    """Read `executions` from the first record at or after `since` (the broker's time index,
    so nothing older is fetched) to the end offsets taken now, and on until every id in
    `expected` was seen (the local broker's end offset can trail its newest records), or
    `seconds` pass. A partition whose retention removed records at or after `since`
    is whole only from its first remaining record: `whole_since_ms` is the latest such
    time over the partitions (`since` where none lost any)."""
    consumer = Consumer(consumer_config(settings.KAFKA_BOOTSTRAP_SERVERS,
                                        f"reconcile-{time.time_ns()}",
                                        settings.KAFKA_CLIENT_CONFIG))
    try:
        partitions = consumer.list_topics(EXECUTIONS, timeout=10).topics[EXECUTIONS].partitions
        watermarks = {p: consumer.get_watermark_offsets(TopicPartition(EXECUTIONS, p),
                                                        timeout=10) for p in partitions}
        found = consumer.offsets_for_times(
            [TopicPartition(EXECUTIONS, p, _millis(since)) for p in partitions], timeout=10)
        ends = {p: high for p, (_, high) in watermarks.items()}
        starts = {tp.partition: tp.offset if tp.offset >= 0 else ends[tp.partition]
                  for tp in found}
        # Records at or after `since` may be gone where the time index points at the log's
        # first record and the log has lost its beginning.
        truncated = {p for p, (low, _) in watermarks.items() if 0 < low == starts[p]}
        whole_since_ms = _millis(since)
        for p in truncated:
            if starts[p] >= ends[p]:  # everything this partition had is gone
                whole_since_ms = max(whole_since_ms, int(time.time() * 1000))
        consumer.assign([TopicPartition(EXECUTIONS, p, starts[p]) for p in partitions])
        seen: dict[str, int] = {}
        positions = dict(starts)
        first_read: set[int] = set()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (
                all(positions[p] >= ends[p] for p in partitions) and expected <= seen.keys()):
            for message in consumer.consume(1000, 0.5):
                if message.error() is not None:
                    continue
                partition = message.partition() or 0
                timestamp = message.timestamp()[1]
                positions[partition] = (message.offset() or 0) + 1
                if partition in truncated and partition not in first_read:
                    whole_since_ms = max(whole_since_ms, timestamp)
                first_read.add(partition)
                try:
                    seen[Event.from_json(message.value() or b"").event_id] = timestamp
                except InvalidEvent:
                    continue
    finally:
        consumer.close()
    return _TopicWindow(seen, positions, ends, whole_since_ms)


def _in_outbox(event_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(event_ids), LOOKUP_CHUNK):
        found.update(OutboxEvent.objects.filter(
            event_id__in=event_ids[start:start + LOOKUP_CHUNK]).values_list("event_id",
                                                                             flat=True))
    return found


def executions_match_outbox(*, seconds: float = 60.0) -> list[Finding]:
    """Compare `executions` with the outbox over the window both still hold.

    The outbox keeps published rows for `OMS_OUTBOX_KEEP_SECONDS`, the topic its records
    for its retention. First, in one snapshot, the rows published and created within the
    keep time: each must be on the topic (unless the topic's retention dropped its
    record). Then the topic is read from the keep horizon on: each event there must be in
    the outbox now, unless its record is so old that a prune may have removed its row
    (a row is published only after its record was written, so a record newer than the
    keep horizon has a row that no prune has reached)."""
    keep = timedelta(seconds=settings.OMS_OUTBOX_KEEP_SECONDS)
    with snapshot():
        horizon = _database_now() - keep
        published = dict(OutboxEvent.objects.filter(
            topic=EXECUTIONS, published_at__isnull=False, created_at__gte=horizon + CLOCK_SKEW,
        ).values_list("event_id", "created_at"))
    window = _read_executions(since=horizon, expected=set(published), seconds=seconds)
    findings = []
    if not window.complete:
        findings.append(Finding("executions", f"read {EXECUTIONS} only to offsets "
                                f"{window.positions} of {window.ends} in {seconds:.0f} s: "
                                "the comparison is incomplete", subject="topic read",
                                expected=f"end offsets {window.ends}",
                                actual=f"read to {window.positions}"))
    missing = sorted(event_id for event_id, created_at in published.items()
                     if event_id not in window.seen
                     and _millis(created_at - CLOCK_SKEW) >= window.whole_since_ms)
    findings += [Finding("executions", f"event {event_id} is marked published but is not on "
                         f"{EXECUTIONS}", subject=f"event {event_id}",
                         expected=f"on {EXECUTIONS}", actual="missing")
                 for event_id in missing[:20]]
    candidates = sorted(window.seen.keys() - published.keys())
    recorded = _in_outbox(candidates)
    prunable_before_ms = _millis(_database_now() - keep + CLOCK_SKEW)
    strays = [event_id for event_id in candidates
              if event_id not in recorded and window.seen[event_id] >= prunable_before_ms]
    findings += [Finding("executions", f"event {event_id} is on {EXECUTIONS} but not in the "
                         "outbox", subject=f"event {event_id}", expected="in the outbox",
                         actual=f"only on {EXECUTIONS}") for event_id in strays[:20]]
    return findings


CHECKS: dict[str, Callable[[], list[Finding]]] = {
    "conservation": conservation,
    "balanced": balanced_postings,
    "trades": trades_posted,
    "reservations": reservations,
    "books": books_not_crossed,
    "executions": executions_match_outbox,
}


def reconcile(names: list[str] | None = None) -> dict[str, list[Finding]]:
    return {name: CHECKS[name]() for name in names or list(CHECKS)}


def count_unpublished() -> int:
    return OutboxEvent.objects.filter(published_at__isnull=True).aggregate(n=Count("id"))["n"]
