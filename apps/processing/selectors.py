"""Public reads of the processing context."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.processing.models import LedgerAccount


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    available: Decimal
    reserved: Decimal

    @property
    def total(self) -> Decimal:
        return self.available + self.reserved


def balances_of(*, user_id: int) -> list[Balance]:
    return [
        Balance(asset=account.asset, available=account.available, reserved=account.reserved)
        for account in LedgerAccount.objects.filter(
            kind=LedgerAccount.Kind.USER, user_id=user_id
        ).order_by("asset")
    ]
