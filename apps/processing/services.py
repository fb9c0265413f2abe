"""Public writes of the processing context: money entering and leaving the ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.processing.ledger import Leg, post, system_account, user_account
from apps.processing.models import LedgerAccount, LedgerPosting, LedgerTransaction
from apps.processing.selectors import Balance, balances_of

AVAILABLE = LedgerPosting.Bucket.AVAILABLE


def deposit(*, user_id: int, asset: str, amount: Decimal, reference: str) -> list[Balance]:
    """Credit `amount` of `asset` to the user from the outside world. The same `reference`
    twice deposits once."""
    if amount <= 0:
        raise ValueError("a deposit is a positive amount")
    with transaction.atomic():
        post(LedgerTransaction.Kind.DEPOSIT, f"deposit:{reference}", [
            Leg(system_account(LedgerAccount.Kind.EXTERNAL, asset), AVAILABLE, -amount),
            Leg(user_account(user_id, asset), AVAILABLE, amount),
        ])
    return balances_of(user_id=user_id)


def withdraw(*, user_id: int, asset: str, amount: Decimal, reference: str) -> list[Balance]:
    """Debit `amount` of available `asset` from the user to the outside world; refuses to
    overdraw (`InsufficientFunds`)."""
    if amount <= 0:
        raise ValueError("a withdrawal is a positive amount")
    with transaction.atomic():
        post(LedgerTransaction.Kind.WITHDRAWAL, f"withdrawal:{reference}", [
            Leg(user_account(user_id, asset), AVAILABLE, -amount),
            Leg(system_account(LedgerAccount.Kind.EXTERNAL, asset), AVAILABLE, amount),
        ])
    return balances_of(user_id=user_id)
