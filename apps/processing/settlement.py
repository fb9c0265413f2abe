"""Ledger postings of the order flow (D7), on the batch's ledger in memory: reservations
when an order is accepted or amended, releases when it no longer needs them, loans of
leveraged accounts and their repayment, and one balanced transaction per trade.

Every posting carries a reference derived from the fact it records (`trade:{id}`,
`reserve:{order}:{event}`), unique in the database, so the same fact can never be posted
twice."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.processing.batch_ledger import (
    AVAILABLE,
    FEES,
    LOAN,
    RESERVED,
    BatchLedger,
    BatchLeg,
)
from apps.processing.models import LedgerTransaction

Kind = LedgerTransaction.Kind


def reserve(ledger: BatchLedger, *, user_id: int, asset: str, amount: Decimal,
            reference: str) -> None:
    """Move `amount` from available to reserved; `InsufficientFunds` if it is not there."""
    if amount <= 0:
        return
    account = ledger.user(user_id, asset)
    ledger.post(Kind.RESERVE, reference, [BatchLeg(account, AVAILABLE, -amount),
                                          BatchLeg(account, RESERVED, amount)])


def release(ledger: BatchLedger, *, user_id: int, asset: str, amount: Decimal,
            reference: str) -> None:
    if amount <= 0:
        return
    account = ledger.user(user_id, asset)
    ledger.post(Kind.RELEASE, reference, [BatchLeg(account, RESERVED, -amount),
                                          BatchLeg(account, AVAILABLE, amount)])
    repay_loans(ledger, {(user_id, asset)}, reference)


def borrow(ledger: BatchLedger, *, user_id: int, asset: str, amount: Decimal,
           reference: str) -> None:
    """Lend a leveraged account `amount` (risk decided it is within its buying power): its
    available balance grows, and its loan account records the debt."""
    if amount <= 0:
        return
    ledger.post(Kind.BORROW, reference, [BatchLeg(ledger.user(user_id, asset), AVAILABLE, amount),
                                         BatchLeg(ledger.loan(user_id, asset), AVAILABLE,
                                                  -amount)])


def repay_loans(ledger: BatchLedger, received: set[tuple[int, str]], reference: str) -> None:
    """Pay back as much of each (user, asset) loan as is available: whenever funds come
    back (a release, a trade's proceeds) a loan shrinks before anything else."""
    for user_id, asset in sorted(received):
        loan = ledger.accounts.get((LOAN, user_id, asset))
        if loan is None or loan.available >= 0:
            continue
        account = ledger.user(user_id, asset)
        amount = min(-loan.available, account.available)
        if amount > 0:
            ledger.post(Kind.REPAY, f"repay:{reference}:{user_id}:{asset}",
                        [BatchLeg(account, AVAILABLE, -amount), BatchLeg(loan, AVAILABLE, amount)])


@dataclass(frozen=True, slots=True)
class TradeSettlement:
    trade_id: str
    base_asset: str
    quote_asset: str
    buyer_id: int
    seller_id: int
    price: Decimal
    quantity: Decimal
    buyer_fee: Decimal  # in quote; negative is a rebate
    seller_fee: Decimal  # in quote; negative is a rebate
    buyer_release: Decimal  # reserved quote the buyer gets back with this fill


def settle_trade(ledger: BatchLedger, trade: TradeSettlement) -> None:
    """Base from the seller's reserve to the buyer, quote from the buyer's reserve to the
    seller, fees to the venue, and the buyer's unneeded reserve back to available."""
    notional = trade.price * trade.quantity
    buyer_quote = ledger.user(trade.buyer_id, trade.quote_asset)
    legs = [
        BatchLeg(ledger.user(trade.seller_id, trade.base_asset), RESERVED, -trade.quantity),
        BatchLeg(ledger.user(trade.buyer_id, trade.base_asset), AVAILABLE, trade.quantity),
        BatchLeg(buyer_quote, RESERVED, -(notional + trade.buyer_fee + trade.buyer_release)),
        BatchLeg(buyer_quote, AVAILABLE, trade.buyer_release),
        BatchLeg(ledger.user(trade.seller_id, trade.quote_asset), AVAILABLE,
                 notional - trade.seller_fee),
        BatchLeg(ledger.system(FEES, trade.quote_asset), AVAILABLE,
                 trade.buyer_fee + trade.seller_fee),
    ]
    ledger.post(Kind.TRADE, f"trade:{trade.trade_id}", [leg for leg in legs if leg.amount != 0])
    repay_loans(ledger, {(trade.seller_id, trade.quote_asset),
                         (trade.buyer_id, trade.base_asset),
                         (trade.buyer_id, trade.quote_asset)}, f"trade:{trade.trade_id}")
