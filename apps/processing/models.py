"""Persistence of the processing context. For now: the double-entry ledger (D7).

Every movement of money is one `LedgerTransaction` whose `LedgerPosting`s sum to zero per
asset. Money enters and leaves only through the `external` account of each asset
(deposits and withdrawals), so per asset the user and fee balances always equal deposits
minus withdrawals: that is what reconciliation checks. A user account has two buckets:
`available` and `reserved` (funds held by working orders)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from oms.money import DECIMAL_PLACES, MAX_DIGITS


def amount_field(**kwargs: object) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)  # type: ignore[arg-type]


class LedgerAccount(models.Model):
    class Kind(models.TextChoices):
        USER = "user"
        EXTERNAL = "external"  # the world outside: deposits and withdrawals
        FEES = "fees"  # the venue's fee income

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
            models.UniqueConstraint(fields=["kind", "asset"], condition=~models.Q(kind="user"),
                                    name="ledger_one_system_account_per_asset"),
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Applying the same business fact twice must be impossible: its reference is unique.
    reference = models.CharField(max_length=160, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"


class LedgerPosting(models.Model):
    class Bucket(models.TextChoices):
        AVAILABLE = "available"
        RESERVED = "reserved"

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT,
                                    related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    bucket = models.CharField(max_length=10, choices=Bucket.choices)
    amount = amount_field()

    class Meta:
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        return f"{self.account} {self.bucket} {self.amount}"
