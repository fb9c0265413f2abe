"""Posting balanced transactions to the ledger (D7). Internal to the processing context:
other contexts call `apps.processing.services`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, localcontext

from django.db import IntegrityError, transaction
from django.db.models import F

from apps.processing.models import LedgerAccount, LedgerPosting, LedgerTransaction
from oms.money import MONEY_CONTEXT


class LedgerError(ValueError):
    """A transaction that would unbalance the ledger or overdraw an account."""


class InsufficientFunds(LedgerError):
    pass


class ReferenceReused(LedgerError):
    """A reference already posted with other legs: another fact, not a replay of it."""


def same_legs(record: LedgerTransaction, legs: list[Leg]) -> bool:
    """Whether a posted transaction moved exactly `legs` (a replay of the same fact)."""
    posted = sorted((p.account_id, p.bucket, p.amount)
                    for p in LedgerPosting.objects.filter(transaction=record))
    return posted == sorted((leg.account.pk, leg.bucket.value, leg.amount) for leg in legs)


@dataclass(frozen=True, slots=True)
class Leg:
    account: LedgerAccount
    bucket: LedgerPosting.Bucket
    amount: Decimal


def user_account(user_id: int, asset: str) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(
        kind=LedgerAccount.Kind.USER, user_id=user_id, asset=asset
    )
    return account


def system_account(kind: LedgerAccount.Kind, asset: str) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(kind=kind, user=None, asset=asset)
    return account


def post(
    kind: LedgerTransaction.Kind, reference: str, legs: list[Leg]
) -> tuple[LedgerTransaction, bool]:
    """Write one balanced transaction; return it and whether it was new. A reference seen
    before returns the earlier transaction and changes nothing (idempotent replays)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with localcontext(MONEY_CONTEXT):  # exact: amounts have up to 18 places at any size
        for leg in legs:
            totals[leg.account.asset] += leg.amount
    if any(total != 0 for total in totals.values()):
        raise LedgerError(f"unbalanced transaction {reference}: {dict(totals)}")
    existing = LedgerTransaction.objects.filter(reference=reference).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            record = LedgerTransaction.objects.create(kind=kind, reference=reference)
            for leg in legs:
                LedgerAccount.objects.filter(pk=leg.account.pk).update(
                    **{leg.bucket.value: F(leg.bucket.value) + leg.amount}
                )
            LedgerPosting.objects.bulk_create(
                LedgerPosting(transaction=record, account=leg.account, bucket=leg.bucket,
                              amount=leg.amount)
                for leg in legs
            )
    except IntegrityError as exc:
        if "ledger_user_balances_not_negative" in str(exc):
            raise InsufficientFunds(f"insufficient funds for {reference}") from None
        if "reference" in str(exc):
            # A concurrent writer recorded the same fact first.
            return LedgerTransaction.objects.get(reference=reference), False
        raise
    return record, True
