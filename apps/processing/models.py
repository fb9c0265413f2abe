"""Persistence of the processing context: the double-entry ledger (D7), partition ownership
and offsets (D5), the working orders of the books, the outbox, and account settings.

Every movement of money is one `LedgerTransaction` whose `LedgerPosting`s sum to zero per
asset. Money enters and leaves only through the `external` account of each asset
(deposits and withdrawals), so per asset the user and fee balances always equal deposits
minus withdrawals: that is what reconciliation checks. A user account has two buckets:
`available` and `reserved` (funds held by working orders).

The unique text columns the processor appends to in bulk (a transaction's `reference`, an
outbox event's `event_id`) are unique through `Meta.constraints`, not `unique=True`: on
PostgreSQL Django gives a unique varchar a second index for `LIKE` patterns, which nothing
here queries and every appended row paid for (about a quarter of the `COPY` time of those
two tables, README "Numbers"; migration 0010 renames the constraints that exist, so that
no index is built again)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from oms.db import amount_field


class LedgerAccount(models.Model):
    class Kind(models.TextChoices):
        USER = "user"
        EXTERNAL = "external"  # the world outside: deposits and withdrawals
        FEES = "fees"  # the venue's fee income
        LOAN = "loan"  # what a leveraged user owes the venue, as a negative balance

    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.PROTECT, related_name="ledger_accounts")
    asset = models.CharField(max_length=12)
    available = amount_field(default=0)
    reserved = amount_field(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "asset"], condition=models.Q(kind="user"),
                                    name="ledger_one_account_per_user_asset"),
            models.UniqueConstraint(fields=["kind", "asset"],
                                    condition=models.Q(user__isnull=True),
                                    name="ledger_one_system_account_per_asset"),
            models.UniqueConstraint(fields=["user", "asset"], condition=models.Q(kind="loan"),
                                    name="ledger_one_loan_per_user_asset"),
            models.CheckConstraint(
                condition=~models.Q(kind="loan") | (models.Q(available__lte=0)
                                                     & models.Q(reserved=0)),
                name="ledger_loans_never_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="user") | (models.Q(available__gte=0)
                                                     & models.Q(reserved__gte=0)),
                name="ledger_user_balances_not_negative",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user_id if self.kind == self.Kind.USER else self.kind
        return f"{owner}:{self.asset}"


class LedgerTransaction(models.Model):
    class Kind(models.TextChoices):
        DEPOSIT = "deposit"
        WITHDRAWAL = "withdrawal"
        RESERVE = "reserve"  # available -> reserved when an order is accepted or amended
        RELEASE = "release"  # reserved -> available when an order no longer needs it
        TRADE = "trade"  # one trade: base against quote, fees, and the buyer's surplus
        BORROW = "borrow"  # the venue lends a leveraged account an order's shortfall
        REPAY = "repay"  # available funds pay a loan back
        ADJUSTMENT = "adjustment"  # an operator's correction, with its reason

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Applying the same business fact twice must be impossible: its reference is unique
    # (`Meta.constraints`: see the module's docstring).
    reference = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reference"],
                                               name="ledger_transaction_reference_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"


class LedgerPosting(models.Model):
    class Bucket(models.TextChoices):
        AVAILABLE = "available"
        RESERVED = "reserved"

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT,
                                    related_name="postings")
    # No index of its own: the (account, transaction) index below serves every look-up by
    # account, and one index fewer is one write fewer per posting (D10).
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings",
                                db_index=False)
    bucket = models.CharField(max_length=10, choices=Bucket.choices)
    amount = amount_field()

    class Meta:
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        return f"{self.account} {self.bucket} {self.amount}"


class PartitionOwnership(models.Model):
    """Who owns a partition of a consumed topic, and where to resume (D5).

    `epoch` grows each time a processor takes the partition; a batch commits only if the
    epoch it holds is still current, so a stalled process that lost the partition cannot
    write. `next_offset` is stored in the same transaction as the state it produced.
    `log_id` is the broker's id of the topic those offsets belong to: a topic deleted and
    created again (a memory broker restarted) has a new id, and its offsets mean nothing
    here (`apps/processing/log_identity.py`)."""

    group = models.CharField(max_length=100)
    topic = models.CharField(max_length=100)
    partition = models.IntegerField()
    epoch = models.BigIntegerField(default=0)
    next_offset = models.BigIntegerField(default=0)
    log_id = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "topic", "partition"],
                                               name="ownership_one_per_partition")]

    def __str__(self) -> str:
        return f"{self.group} {self.topic}[{self.partition}] epoch {self.epoch}"


class SymbolState(models.Model):
    """Per symbol: the partition its orders arrive on, the last trade price (which the
    stop orders of a rebuilt book need) and the sequence of its book events."""

    symbol = models.CharField(max_length=25, primary_key=True)
    partition = models.IntegerField()
    last_trade_price = amount_field(null=True, blank=True)
    book_sequence = models.BigIntegerField(default=0)  # of the book events on `prices`

    def __str__(self) -> str:
        return self.symbol


class WorkingOrder(models.Model):
    """An order live in a book (resting, or a stop waiting for its trigger): what the
    processor needs to rebuild the book after a restart or a rebalance, and the funds the
    order holds in reserve. Deleted when the order is final."""

    order_id = models.UUIDField(primary_key=True)
    symbol = models.CharField(max_length=25)
    user_id = models.BigIntegerField()
    side = models.CharField(max_length=4)
    engine_type = models.CharField(max_length=10)
    time_in_force = models.CharField(max_length=3)
    price = amount_field(null=True)  # the engine's limit (a market order's protection price)
    client_price = amount_field(null=True)  # the price the client gave, if any
    stop_price = amount_field(null=True)
    quantity = amount_field()
    filled_quantity = amount_field(default=0)
    filled_notional = amount_field(default=0)
    status = models.CharField(max_length=16)
    post_only = models.BooleanField(default=False)
    self_trade_prevention = models.CharField(max_length=16)
    expires_at = models.DateTimeField(null=True)
    priority = models.BigIntegerField()
    reserve_asset = models.CharField(max_length=12)
    reserve_price = amount_field(null=True)
    reserved = amount_field(default=0)
    # The fee rates the order was accepted and reserved at; a later change of the
    # instrument's fees applies to orders placed after it.
    maker_fee_rate = amount_field(default=0)
    taker_fee_rate = amount_field(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["symbol", "priority"], name="working_symbol_priority"),
            # What each batch asks of the books other processors hold: its users' working
            # orders of the other symbols (`selectors.working_orders_read`). Without it,
            # every batch read the whole table, however few users it had.
            models.Index(fields=["user_id", "symbol"], name="working_user_symbol"),
        ]

    def __str__(self) -> str:
        return str(self.order_id)


class OutboxEvent(models.Model):
    """An event written in the same transaction as the state that produced it, published
    to Kafka by the relay afterwards (in `id` order) and then marked published. Published
    rows are deleted after `OMS_OUTBOX_KEEP_SECONDS` (`apps.processing.outbox`)."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=64)  # unique: `Meta.constraints`
    topic = models.CharField(max_length=100)
    key = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id"],
                                               name="outbox_event_id_unique")]
        indexes = [models.Index(fields=["id"], condition=models.Q(published_at__isnull=True),
                                name="outbox_unpublished"),
                   models.Index(fields=["published_at"],
                                condition=models.Q(published_at__isnull=False),
                                name="outbox_published_at")]

    def __str__(self) -> str:
        return f"{self.id} {self.topic} {self.event_id}"


class AccountSettings(models.Model):
    """Per-account trading settings operators may change."""

    class SelfTradePrevention(models.TextChoices):
        CANCEL_RESTING = "cancel_resting"
        CANCEL_INCOMING = "cancel_incoming"
        CANCEL_BOTH = "cancel_both"
        NONE = "none"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="trading_settings")
    self_trade_prevention = models.CharField(max_length=16, choices=SelfTradePrevention.choices,
                                             default=SelfTradePrevention.CANCEL_RESTING)

    def __str__(self) -> str:
        return f"{self.user_id} stp={self.self_trade_prevention}"


class Break(models.Model):
    """A difference reconciliation found, kept as a record until it heals (a later run
    finds it no more: closed with the evidence) or an operator resolves it with a note.
    At most one open break per kind and subject; a run that finds it again moves
    `last_seen_at` and the latest values."""

    class Resolution(models.TextChoices):
        OPEN = ""
        HEALED = "healed"
        OPERATOR = "operator"

    kind = models.CharField(max_length=20)  # the reconciliation check
    subject = models.CharField(max_length=300)
    expected = models.TextField(blank=True)
    actual = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True,
                                  default=Resolution.OPEN)
    note = models.TextField(blank=True)
    evidence = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"],
                                    condition=models.Q(resolved_at__isnull=True),
                                    name="break_one_open_per_subject"),
        ]
        indexes = [models.Index(fields=["-first_seen_at"], name="break_first_seen")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"
