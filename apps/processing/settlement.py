"""Ledger postings of the order flow (D7): reservations when an order is accepted or
amended, releases when it no longer needs them, and one balanced transaction per trade.

Every posting carries a reference derived from the fact it records (`trade:{id}`,
`reserve:{order}:{event}`), so the same fact can never be posted twice."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.processing.ledger import Leg, post, system_account, user_account
from apps.processing.models import LedgerAccount, LedgerPosting, LedgerTransaction

AVAILABLE = LedgerPosting.Bucket.AVAILABLE
RESERVED = LedgerPosting.Bucket.RESERVED


def available_balance(*, user_id: int, asset: str) -> Decimal:
    return user_account(user_id, asset).available


def reserve(*, user_id: int, asset: str, amount: Decimal, reference: str) -> None:
    """Move `amount` from available to reserved; `InsufficientFunds` if it is not there."""
    if amount <= 0:
        return
    account = user_account(user_id, asset)
    post(LedgerTransaction.Kind.RESERVE, reference,
         [Leg(account, AVAILABLE, -amount), Leg(account, RESERVED, amount)])


def release(*, user_id: int, asset: str, amount: Decimal, reference: str) -> None:
    if amount <= 0:
        return
    account = user_account(user_id, asset)
    post(LedgerTransaction.Kind.RELEASE, reference,
         [Leg(account, RESERVED, -amount), Leg(account, AVAILABLE, amount)])
    repay_loans({(user_id, asset)}, reference)


def loan_account(user_id: int, asset: str) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(
        kind=LedgerAccount.Kind.LOAN, user_id=user_id, asset=asset)
    return account


def borrow(*, user_id: int, asset: str, amount: Decimal, reference: str) -> None:
    """Lend a leveraged account `amount` (risk decided it is within its buying power): its
    available balance grows, and its loan account records the debt."""
    if amount <= 0:
        return
    post(LedgerTransaction.Kind.BORROW, reference,
         [Leg(user_account(user_id, asset), AVAILABLE, amount),
          Leg(loan_account(user_id, asset), AVAILABLE, -amount)])


def repay_loans(received: set[tuple[int, str]], reference: str) -> None:
    """Pay back as much of each (user, asset) loan as is available: whenever funds come
    back (a release, a trade's proceeds) a loan shrinks before anything else. One query
    finds the open loans of all of them (almost always none)."""
    users = {user_id for user_id, _ in received}
    loans = [loan for loan in LedgerAccount.objects.filter(
        kind=LedgerAccount.Kind.LOAN, user_id__in=users, available__lt=0).order_by("id")
        if (loan.user_id, loan.asset) in received]
    for loan in loans:
        account = user_account(loan.user_id, loan.asset)
        amount = min(-loan.available, account.available)
        if amount > 0:
            post(LedgerTransaction.Kind.REPAY, f"repay:{reference}:{loan.user_id}:{loan.asset}",
                 [Leg(account, AVAILABLE, -amount), Leg(loan, AVAILABLE, amount)])


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


def settle_trade(trade: TradeSettlement) -> None:
    """Base from the seller's reserve to the buyer, quote from the buyer's reserve to the
    seller, fees to the venue, and the buyer's unneeded reserve back to available."""
    notional = trade.price * trade.quantity
    buyer_quote = user_account(trade.buyer_id, trade.quote_asset)
    seller_quote = user_account(trade.seller_id, trade.quote_asset)
    legs = [
        Leg(user_account(trade.seller_id, trade.base_asset), RESERVED, -trade.quantity),
        Leg(user_account(trade.buyer_id, trade.base_asset), AVAILABLE, trade.quantity),
        Leg(buyer_quote, RESERVED, -(notional + trade.buyer_fee + trade.buyer_release)),
        Leg(buyer_quote, AVAILABLE, trade.buyer_release),
        Leg(seller_quote, AVAILABLE, notional - trade.seller_fee),
        Leg(system_account(LedgerAccount.Kind.FEES, trade.quote_asset), AVAILABLE,
            trade.buyer_fee + trade.seller_fee),
    ]
    post(LedgerTransaction.Kind.TRADE, f"trade:{trade.trade_id}",
         [leg for leg in legs if leg.amount != 0])
    repay_loans({(trade.seller_id, trade.quote_asset), (trade.buyer_id, trade.base_asset),
                 (trade.buyer_id, trade.quote_asset)}, f"trade:{trade.trade_id}")
