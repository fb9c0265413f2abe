"""The ledger of one batch, held in memory (D7, D10).

A batch locks the ledger accounts of every user it may touch in one statement (`SELECT …
FOR UPDATE` in id order, so two processors never deadlock), posts every reservation,
release, loan and trade in memory with the same rules as `ledger.post` (each transaction
balances per asset, a user balance never goes below zero, a loan never above), and writes
the result once: the new transactions and postings with `COPY`, and each account's change
as one `UPDATE … FROM (VALUES …)`. Balances are written as deltas (`available +
change`), so an account another writer created or credited meanwhile (a deposit, a second
processor) still sums exactly; the checks are exact because every debited user account
was read under its lock."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Q

from apps.processing.ledger import InsufficientFunds, LedgerError
from apps.processing.models import LedgerAccount, LedgerPosting
from oms.db import copy_rows
from oms.ids import name_based_uuid

ZERO = Decimal(0)
AVAILABLE = LedgerPosting.Bucket.AVAILABLE
RESERVED = LedgerPosting.Bucket.RESERVED
USER = LedgerAccount.Kind.USER
LOAN = LedgerAccount.Kind.LOAN
FEES = LedgerAccount.Kind.FEES
TRANSACTION_IDS = uuid.UUID("5d0a3f7e-2b1c-4e8f-9a6d-7c5b4a3e2f10")

AccountKey = tuple[str, int | None, str]  # (kind, user id or None, asset)


@dataclass(slots=True)
class AccountState:
    """One ledger account as this batch sees it: its balances and what the batch changed."""

    kind: str
    user_id: int | None
    asset: str
    id: int | None  # None until the batch writes a new account
    available: Decimal = ZERO
    reserved: Decimal = ZERO
    available_change: Decimal = ZERO
    reserved_change: Decimal = ZERO

    def balance(self, bucket: str) -> Decimal:
        return self.available if bucket == AVAILABLE else self.reserved

    @property
    def changed(self) -> bool:
        return bool(self.available_change or self.reserved_change)


@dataclass(frozen=True, slots=True)
class BatchLeg:
    account: AccountState
    bucket: str
    amount: Decimal


class BatchLedger:
    """Accounts, transactions and postings of one batch; `flush()` writes them."""

    def __init__(self, accounts: Iterable[AccountState] = ()) -> None:
        self.accounts: dict[AccountKey, AccountState] = {}
        self._of_user: dict[int | None, list[AccountState]] = defaultdict(list)
        for account in accounts:
            self._keep(account)
        self.locked_users: set[int] = {a.user_id for a in self.accounts.values()
                                       if a.user_id is not None}
        self.transactions: list[tuple[uuid.UUID, str, str]] = []
        self.postings: list[tuple[uuid.UUID, AccountState, str, Decimal]] = []
        self._references: set[str] = set()

    @classmethod
    def locked_for(cls, user_ids: Iterable[int]) -> BatchLedger:
        """The user and loan accounts of `user_ids`, locked for this transaction."""
        users = sorted(set(user_ids))
        rows = (LedgerAccount.objects.select_for_update().filter(user_id__in=users)
                .order_by("id").values_list("id", "kind", "user_id", "asset", "available",
                                            "reserved"))
        ledger = cls(AccountState(kind=kind, user_id=user_id, asset=asset, id=pk,
                                  available=available, reserved=reserved)
                     for pk, kind, user_id, asset, available, reserved in rows)
        ledger.locked_users.update(users)
        return ledger

    # ------------------------------------------------------------------------ accounts

    def account(self, kind: str, user_id: int | None, asset: str) -> AccountState:
        key = (kind, user_id, asset)
        found = self.accounts.get(key)
        if found is None:
            if user_id is not None and user_id not in self.locked_users:
                raise LedgerError(f"the batch did not lock the accounts of user {user_id}")
            # Not in the database yet (a locked user's new asset), or a system account,
            # whose balance the batch never checks: it only adds to it.
            found = self._keep(AccountState(kind=kind, user_id=user_id, asset=asset, id=None))
        return found

    def _keep(self, account: AccountState) -> AccountState:
        self.accounts[(account.kind, account.user_id, account.asset)] = account
        self._of_user[account.user_id].append(account)
        return account

    def accounts_of(self, user_id: int) -> list[AccountState]:
        """The user's accounts (user and loan) the batch holds."""
        return self._of_user.get(user_id, [])

    def user(self, user_id: int, asset: str) -> AccountState:
        return self.account(USER, user_id, asset)

    def loan(self, user_id: int, asset: str) -> AccountState:
        return self.account(LOAN, user_id, asset)

    def system(self, kind: str, asset: str) -> AccountState:
        return self.account(kind, None, asset)

    # ------------------------------------------------------------------------- posting

    def post(self, kind: str, reference: str, legs: list[BatchLeg]) -> bool:
        """Post one balanced transaction in memory; False if its reference was posted
        earlier in the batch. Nothing changes when a check fails."""
        if reference in self._references:
            return False
        totals: dict[str, Decimal] = defaultdict(Decimal)
        after: dict[tuple[int, str], Decimal] = {}
        for leg in legs:
            totals[leg.account.asset] += leg.amount
            slot = (id(leg.account), leg.bucket)
            after[slot] = after.get(slot, leg.account.balance(leg.bucket)) + leg.amount
        if any(total != 0 for total in totals.values()):
            raise LedgerError(f"unbalanced transaction {reference}: {dict(totals)}")
        for leg in legs:
            balance = after[(id(leg.account), leg.bucket)]
            if leg.account.kind == USER and balance < 0:
                raise InsufficientFunds(f"insufficient funds for {reference}")
            if leg.account.kind == LOAN and balance > 0:
                raise LedgerError(f"loan {leg.account.user_id}:{leg.account.asset} would be "
                                  f"positive after {reference}")
        transaction_id = name_based_uuid(TRANSACTION_IDS, reference)
        for leg in legs:
            account = leg.account
            if leg.bucket == AVAILABLE:
                account.available += leg.amount
                account.available_change += leg.amount
            else:
                account.reserved += leg.amount
                account.reserved_change += leg.amount
            self.postings.append((transaction_id, account, leg.bucket, leg.amount))
        self.transactions.append((transaction_id, kind, reference))
        self._references.add(reference)
        return True

    # --------------------------------------------------------------------------- writing

    def flush(self, now: datetime) -> None:
        """Write the batch's ledger: new accounts, balance changes, transactions and
        postings, in a fixed number of statements."""
        self._create_missing_accounts()
        changed = sorted((a for a in self.accounts.values() if a.changed),
                         key=lambda a: a.id or 0)
        if changed:
            with connection.cursor() as cursor:
                # System accounts (fees) are shared by every processor: lock them in id
                # order, after the users' accounts, so that no two batches wait on each other
                # in a cycle.
                cursor.execute("SELECT id FROM processing_ledgeraccount WHERE id = ANY(%s) "
                               "ORDER BY id FOR UPDATE", [[a.id for a in changed]])
                cursor.execute(
                    "UPDATE processing_ledgeraccount AS a SET available = a.available + v.da, "
                    "reserved = a.reserved + v.dr, updated_at = %s "
                    "FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[]) AS v (id, da, dr) "
                    "WHERE a.id = v.id",
                    [now, [a.id for a in changed], [a.available_change for a in changed],
                     [a.reserved_change for a in changed]])
        copy_rows("processing_ledgertransaction", ("id", "kind", "reference", "created_at"),
                  [(pk, kind, reference, now) for pk, kind, reference in self.transactions])
        copy_rows("processing_ledgerposting",
                  ("transaction_id", "account_id", "bucket", "amount"),
                  [(txn, account.id, bucket, amount)
                   for txn, account, bucket, amount in self.postings])

    def _create_missing_accounts(self) -> None:
        missing = [a for a in self.accounts.values() if a.id is None and a.changed]
        if not missing:
            return
        LedgerAccount.objects.bulk_create(
            [LedgerAccount(kind=a.kind, user_id=a.user_id, asset=a.asset) for a in missing],
            ignore_conflicts=True)
        wanted = {(a.kind, a.user_id, a.asset) for a in missing}
        users = {a.user_id for a in missing if a.user_id is not None}
        rows = LedgerAccount.objects.filter(
            Q(user_id__in=users) | Q(user__isnull=True), asset__in={a.asset for a in missing},
        ).values_list("id", "kind", "user_id", "asset")
        for pk, kind, user_id, asset in rows:
            if (kind, user_id, asset) in wanted:
                self.accounts[(kind, user_id, asset)].id = pk

