"""Reconciliation: the invariants that must hold between the ledger, the order books, the
read models and the `executions` topic at any quiet moment. Each check returns the
differences it finds as plain findings; `manage.py reconcile` prints them and fails on any.

1. Conservation: per asset, what users and the venue hold equals deposits minus withdrawals.
2. Every ledger transaction balances per asset, and every account's balances equal the sum
   of its postings.
3. Every trade has its two fills and its one ledger transaction.
4. Reserved balances equal what the working orders hold.
5. No book is crossed.
6. Every outbox event is on `executions`, and every processed event there is in the outbox.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from django.conf import settings
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


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    detail: str


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
                                    f"deposits minus withdrawals {net_deposits}"))
    return findings


def balanced_postings() -> list[Finding]:
    findings = [
        Finding("balanced", f"transaction {row['transaction']} {row['account__asset']} "
                f"sums to {row['total']}")
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
                                        f"{getattr(account, bucket)} != postings {posted}"))
    return findings


def trades_posted() -> list[Finding]:
    findings = []
    trades = order_selectors.fill_counts_by_trade()
    posted = set(LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.TRADE)
                 .values_list("reference", flat=True))
    for trade_id, fills in trades.items():
        if fills != 2:
            findings.append(Finding("trades", f"trade {trade_id} has {fills} fills, not 2"))
        if f"trade:{trade_id}" not in posted:
            findings.append(Finding("trades", f"trade {trade_id} has no ledger transaction"))
    missing = posted - {f"trade:{trade_id}" for trade_id in trades}
    findings += [Finding("trades", f"{reference} has no fills") for reference in sorted(missing)]
    return findings


def reservations() -> list[Finding]:
    held = {(row["user_id"], row["reserve_asset"]): row["total"] for row in
            WorkingOrder.objects.values("user_id", "reserve_asset")
            .annotate(total=Sum("reserved"))}
    findings = []
    for account in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.USER):
        expected = held.pop((account.user_id, account.asset), Decimal(0))
        if account.reserved != expected:
            findings.append(Finding("reservations", f"user {account.user_id} {account.asset}: "
                                    f"reserved {account.reserved}, orders hold {expected}"))
    findings += [Finding("reservations", f"user {user} {asset}: orders hold {total} "
                         "but there is no account") for (user, asset), total in held.items()]
    return findings


def books_not_crossed() -> list[Finding]:
    findings = []
    resting = WorkingOrder.objects.filter(engine_type="limit")
    for row in resting.values("symbol").annotate(
        best_bid=Max("price", filter=Q(side="buy")), best_ask=Min("price", filter=Q(side="sell"))
    ):
        if row["best_bid"] is not None and row["best_ask"] is not None \
                and row["best_bid"] >= row["best_ask"]:
            findings.append(Finding("books", f"{row['symbol']} is crossed: bid "
                                    f"{row['best_bid']} >= ask {row['best_ask']}"))
    return findings


def executions_match_outbox(*, seconds: float = 10.0) -> list[Finding]:
    """Read `executions` from the beginning and compare event ids with the outbox."""
    consumer = Consumer(consumer_config(settings.KAFKA_BOOTSTRAP_SERVERS,
                                        f"reconcile-{time.time_ns()}",
                                        settings.KAFKA_CLIENT_CONFIG))
    try:
        partitions = consumer.list_topics(EXECUTIONS, timeout=10).topics[EXECUTIONS].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(EXECUTIONS, p), timeout=10)[1]
                for p in partitions}
        consumer.assign([TopicPartition(EXECUTIONS, p, OFFSET_BEGINNING) for p in partitions])
        on_topic: set[str] = set()
        positions = {p: 0 for p in partitions}
        deadline = time.monotonic() + seconds
        while any(positions[p] < ends[p] for p in partitions) and time.monotonic() < deadline:
            for message in consumer.consume(1000, 0.5):
                if message.error() is not None:
                    continue
                positions[message.partition() or 0] = (message.offset() or 0) + 1
                try:
                    on_topic.add(Event.from_json(message.value() or b"").event_id)
                except InvalidEvent:
                    continue
    finally:
        consumer.close()
    outbox = OutboxEvent.objects.filter(topic=EXECUTIONS)
    published = set(outbox.filter(published_at__isnull=False).values_list("event_id", flat=True))
    everything = set(outbox.values_list("event_id", flat=True))
    findings = [Finding("executions", f"event {event_id} is marked published but is not on "
                        f"{EXECUTIONS}") for event_id in sorted(published - on_topic)[:20]]
    findings += [Finding("executions", f"event {event_id} is on {EXECUTIONS} but not in the "
                         "outbox") for event_id in sorted(on_topic - everything)[:20]]
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
