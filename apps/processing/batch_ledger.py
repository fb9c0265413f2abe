"""The ledger of one batch, held in memory (D7, D10).

A batch locks the ledger accounts of every user it may touch in one statement (`SELECT …
FOR UPDATE` in id order, so two processors never deadlock), posts every reservation,
release, loan and trade in memory with the same rules as `ledger.post` (each transaction
balances per asset, a user balance never goes below zero, a loan never above), and writes
the result once: the new transactions and postings with `COPY`, and each account's change
as one `UPDATE … FROM (VALUES …)`. Balances are written as deltas (`available +
change`), so an account another writer created or credited meanwhile (a deposit, a second
processor) still sums exactly; the checks are exact because every debited user account
was read under its lock.

A pipelined batch (see `processor`) reads the accounts without the lock, while the batch
before it is still being written, and adds what that batch changed (`overlay`); its write
then locks them and checks that they still hold what it started from (`LedgerWrite`),
else the batch is computed again under the lock."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from apps.processing.ledger import InsufficientFunds, LedgerError
from apps.processing.models import LedgerAccount, LedgerPosting
from oms.db import Append, Read, Rows, sent_together
from oms.ids import name_based_uuid

ZERO = Decimal(0)
AVAILABLE = LedgerPosting.Bucket.AVAILABLE
RESERVED = LedgerPosting.Bucket.RESERVED
USER = LedgerAccount.Kind.USER
LOAN = LedgerAccount.Kind.LOAN
FEES = LedgerAccount.Kind.FEES
TRANSACTION_IDS = uuid.UUID("5d0a3f7e-2b1c-4e8f-9a6d-7c5b4a3e2f10")

AccountKey = tuple[str, int | None, str]  # (kind, user id or None, asset)
Balances = tuple[Decimal, Decimal]  # (available, reserved)


_ACCOUNTS = ("SELECT id, kind, user_id, asset, available, reserved "
             "FROM processing_ledgeraccount WHERE user_id = ANY(%s) ORDER BY id")
_ACCOUNTS_LOCKED = _ACCOUNTS + " FOR UPDATE"
_BALANCES_LOCKED = ("SELECT kind, user_id, asset, available, reserved "
                    "FROM processing_ledgeraccount WHERE user_id = ANY(%s) ORDER BY id FOR UPDATE")


class StaleBalances(RuntimeError):
    """An account changed between a pipelined batch's read and its write (a deposit,
    another processor): the batch must be computed again on what its lock shows."""


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


class BatchLeg(NamedTuple):
    """One leg of a transaction (a tuple: a trade makes seven, and a frozen dataclass
    cost three times as much to make)."""

    account: AccountState
    bucket: str
    amount: Decimal


class UnreadAccounts(LookupError):
    """The flow reached an account the batch did not read: a pipelined batch, which reads
    only the accounts its takers can reach (`batch_work._others_touched`), is applied
    again on every account of its books. Not an event's fault."""


class BatchLedger:
    """Accounts, transactions and postings of one batch; `seal()` makes its write."""

    def __init__(self, accounts: Iterable[AccountState] = (), *,
                 users: Iterable[int] = ()) -> None:
        self.accounts: dict[AccountKey, AccountState] = {}
        self._of_user: dict[int | None, list[AccountState]] = defaultdict(list)
        for account in accounts:
            self._keep(account)
        self.users: set[int] = set(users)  # whose accounts the batch read (all of them)
        self.transactions: list[tuple[uuid.UUID, str, str]] = []
        self.postings: list[tuple[uuid.UUID, AccountState, str, Decimal]] = []
        self._references: set[str] = set()
        self._started: dict[AccountKey, Balances] = {}

    @classmethod
    def reading(cls, user_ids: Iterable[int], *, lock: bool) -> Read[BatchLedger]:
        """The user and loan accounts of `user_ids`, locked for this transaction (`lock`,
        in id order, so two processors never deadlock), or as the snapshot shows them."""
        users = sorted(set(user_ids))
        return Read.one(
            _ACCOUNTS_LOCKED if lock else _ACCOUNTS, [users],
            lambda rows: cls((AccountState(kind=kind, user_id=user_id, asset=asset, id=pk,
                                           available=available, reserved=reserved)
                              for pk, kind, user_id, asset, available, reserved in rows),
                             users=users))

    @classmethod
    def locked_for(cls, user_ids: Iterable[int]) -> BatchLedger:
        return cls.reading(user_ids, lock=True).run()

    def add_unwritten(self, overlay: BatchLedger | None) -> BatchLedger:
        """Add what `overlay` (the batch still being written, when this unlocked read
        cannot see it yet) changed, and note the balances the batch starts from: its write
        checks them under the lock (`LedgerWrite.verify`)."""
        if overlay is not None:
            for key, account in overlay.accounts.items():
                if account.changed and key[1] in self.users:
                    mine = self.account(*key)
                    mine.available += account.available_change
                    mine.reserved += account.reserved_change
        self._started = {key: (a.available, a.reserved)
                         for key, a in self.accounts.items() if key[1] is not None}
        return self

    # ------------------------------------------------------------------------ accounts

    def account(self, kind: str, user_id: int | None, asset: str) -> AccountState:
        key = (kind, user_id, asset)
        found = self.accounts.get(key)
        if found is None:
            if user_id is not None and user_id not in self.users:
                raise UnreadAccounts(f"the batch did not read the accounts of user {user_id}")
            # Not in the database yet (a user's new asset), or a system account, whose
            # balance the batch never checks: it only adds to it.
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
        totals: dict[str, Decimal] = {}
        after: dict[tuple[int, str], Decimal] = {}
        for account, bucket, amount in legs:
            totals[account.asset] = totals.get(account.asset, ZERO) + amount
            slot = (id(account), bucket)
            after[slot] = after.get(slot, account.balance(bucket)) + amount
        for total in totals.values():
            if total:
                raise LedgerError(f"unbalanced transaction {reference}: {totals}")
        for account, bucket, _ in legs:
            balance = after[(id(account), bucket)]
            if account.kind == USER and balance < 0:
                raise InsufficientFunds(f"insufficient funds for {reference}")
            if account.kind == LOAN and balance > 0:
                raise LedgerError(f"loan {account.user_id}:{account.asset} would be "
                                  f"positive after {reference}")
        transaction_id = name_based_uuid(TRANSACTION_IDS, reference)
        for account, bucket, amount in legs:
            if bucket == AVAILABLE:
                account.available += amount
                account.available_change += amount
            else:
                account.reserved += amount
                account.reserved_change += amount
            self.postings.append((transaction_id, account, bucket, amount))
        self.transactions.append((transaction_id, kind, reference))
        self._references.add(reference)
        return True

    # --------------------------------------------------------------------------- writing

    def seal(self) -> LedgerWrite:
        """What the batch writes, as plain values (the batch after it may go on changing
        its own copies of the same accounts while this is written)."""
        changed = [(key, a.id, a.available_change, a.reserved_change)
                   for key, a in self.accounts.items() if a.changed]
        return LedgerWrite(
            users=sorted(self.users), started=self._started, changed=changed,
            transactions=list(self.transactions),
            postings=[(txn, (a.kind, a.user_id, a.asset), a.id, bucket, amount)
                      for txn, a, bucket, amount in self.postings])

    def flush(self, now: datetime) -> None:
        """Write the batch's ledger on its own (a processor batch writes it with the rest
        of the batch: `BatchWrite.write`)."""
        self.seal().write(now)


@dataclass(frozen=True, slots=True)
class LedgerWrite:
    """One batch's ledger changes, written in a fixed number of statements."""

    users: list[int]
    started: dict[AccountKey, Balances]  # pipelined: the balances the batch started from
    changed: list[tuple[AccountKey, int | None, Decimal, Decimal]]  # key, id, changes
    transactions: list[tuple[uuid.UUID, str, str]]
    postings: list[tuple[uuid.UUID, AccountKey, int | None, str, Decimal]]

    def verify_read(self) -> Read[None]:
        """Lock the users' accounts (in id order, as `reading` does) and check that each
        holds what the batch started from; `StaleBalances` if one does not."""
        return Read.one(_BALANCES_LOCKED, [self.users], self._check_started)

    def _check_started(self, rows: Rows) -> None:
        now = {(kind, user, asset): (available, reserved)
               for kind, user, asset, available, reserved in rows}
        for key in now.keys() | self.started.keys():
            if now.get(key, (ZERO, ZERO)) != self.started.get(key, (ZERO, ZERO)):
                raise StaleBalances(f"account {key} changed since the batch read it")

    def new_accounts_read(self, now: datetime) -> Read[dict[AccountKey, int]]:
        """Create the accounts the batch changed that had no row when it read them (the
        venue's fee accounts, which a batch never reads, among them); their ids by key
        (a row another writer created meanwhile is found, not duplicated)."""
        wanted = {key for key, pk, _, _ in self.changed if pk is None}
        if not wanted:
            return Read((), dict)
        missing = sorted(wanted, key=str)  # inserted in one order: no two batches deadlock
        return Read((
            ("INSERT INTO processing_ledgeraccount (kind, user_id, asset, available, reserved, "
             "updated_at) SELECT kind, user_id, asset, 0, 0, %s FROM unnest(%s::text[], "
             "%s::bigint[], %s::text[]) AS v (kind, user_id, asset) ON CONFLICT DO NOTHING",
             [now, [kind for kind, _, _ in missing], [user for _, user, _ in missing],
              [asset for _, _, asset in missing]]),
            ("SELECT id, kind, user_id, asset FROM processing_ledgeraccount "
             "WHERE (user_id = ANY(%s) OR user_id IS NULL) AND asset = ANY(%s)",
             [sorted({user for _, user, _ in missing if user is not None}),
              sorted({asset for _, _, asset in missing})]),
        ), lambda _inserted, rows: {(kind, user, asset): pk for pk, kind, user, asset in rows
                                    if (kind, user, asset) in wanted})

    def write(self, now: datetime) -> None:
        """New accounts, transactions and postings, and balance changes."""
        ids = self.new_accounts_read(now).run()
        with sent_together(appending=self.appends(ids, now)):
            self.update_balances(ids, now)

    def appends(self, ids: dict[AccountKey, int], now: datetime) -> list[Append]:
        """The batch's transactions and postings; `ids`: the new accounts'."""
        return [
            Append("processing_ledgertransaction", ("id", "kind", "reference", "created_at"),
                   [(pk, kind, reference, now) for pk, kind, reference in self.transactions]),
            Append("processing_ledgerposting",
                   ("transaction_id", "account_id", "bucket", "amount"),
                   [(txn, ids.get(key) or pk, bucket, amount)
                    for txn, key, pk, bucket, amount in self.postings])]

    def update_balances(self, ids: dict[AccountKey, int], now: datetime) -> None:
        """Every changed account's balances, as deltas, in one statement (sendable with
        others: nothing is read back)."""
        changed = sorted(((ids.get(key) or pk, da, dr) for key, pk, da, dr in self.changed),
                         key=lambda row: row[0] or 0)
        if not changed:
            return
        with connection.cursor() as cursor:
            # System accounts (fees) are shared by every processor: lock them in id
            # order, after the users' accounts, so that no two batches wait on each other
            # in a cycle.
            cursor.execute("SELECT id FROM processing_ledgeraccount WHERE id = ANY(%s) "
                           "ORDER BY id FOR UPDATE", [[pk for pk, _, _ in changed]])
            cursor.execute(
                "UPDATE processing_ledgeraccount AS a SET available = a.available + v.da, "
                "reserved = a.reserved + v.dr, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[]) AS v (id, da, dr) "
                "WHERE a.id = v.id",
                [now, [pk for pk, _, _ in changed], [da for _, da, _ in changed],
                 [dr for _, _, dr in changed]])
