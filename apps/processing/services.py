"""Public writes of the processing context: money entering and leaving the ledger, and the
context of risk's what-if pre-trade decision (`order_context`).

A deposit or withdrawal is identified by its reference: the same reference with the same
terms is a replay and moves nothing again; with other terms (user, asset, amount) it is
another movement under a used name, refused (`ReferenceReused`) rather than ignored. A
withdrawal may not take the account's equity (its balances at the marks, less its loans)
below the value of its outstanding loans (`LoansOutstanding`): borrowed funds stay backed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.orders.selectors import instrument_rules
from apps.orders.services import OrderTerms
from apps.processing import selectors
from apps.processing.domain import funds
from apps.processing.ledger import (
    LedgerError,
    Leg,
    ReferenceReused,
    post,
    same_legs,
    system_account,
    user_account,
)
from apps.processing.models import LedgerAccount, LedgerPosting, LedgerTransaction
from apps.processing.selectors import Balance, balances_of
from apps.risk import selectors as risk_selectors
from apps.risk import services as risk
from apps.risk.services import Decision
from oms.money import format_amount
from oms.terms import LIMIT_TYPES, MARKET_TYPES, Side

AVAILABLE = LedgerPosting.Bucket.AVAILABLE


class LoansOutstanding(LedgerError):
    """The withdrawal would leave the account's loans backed by less equity than they are."""


def _external_legs(*, user_id: int, asset: str, amount: Decimal) -> list[Leg]:
    # copy_negate: exact at any size (unary minus rounds to the context's 28 digits).
    return [Leg(system_account(LedgerAccount.Kind.EXTERNAL, asset), AVAILABLE,
                amount.copy_negate()),
            Leg(user_account(user_id, asset), AVAILABLE, amount)]


def _move_external(kind: LedgerTransaction.Kind, reference: str, *, user_id: int, asset: str,
                   amount: Decimal) -> bool:
    """Move a signed `amount` between the outside world and the user's available balance
    (one balanced transaction; a user balance never goes below zero). False when the
    reference was posted before with the same terms (nothing moved again);
    `ReferenceReused` when it was posted with others."""
    legs = _external_legs(user_id=user_id, asset=asset, amount=amount)
    with transaction.atomic():
        record, new = post(kind, reference, legs)
        if not new and (record.kind != kind or not same_legs(record, legs)):
            raise ReferenceReused(f"the reference {reference} was used for another movement")
    return new


def deposit(*, user_id: int, asset: str, amount: Decimal, reference: str) -> list[Balance]:
    """Credit `amount` of `asset` to the user from the outside world. The same `reference`
    twice deposits once."""
    if amount <= 0:
        raise ValueError("a deposit is a positive amount")
    _move_external(LedgerTransaction.Kind.DEPOSIT, f"deposit:{reference}", user_id=user_id,
                   asset=asset, amount=amount)
    return balances_of(user_id=user_id)


def _check_loans_backed(*, user_id: int, asset: str, amount: Decimal) -> None:
    """Refuse a withdrawal that leaves the equity below the loans' value. Locks the user's
    balances and loans first, so no other withdrawal is judged on the same equity."""
    accounts = list(LedgerAccount.objects.select_for_update().filter(
        user_id=user_id, kind__in=[LedgerAccount.Kind.USER, LedgerAccount.Kind.LOAN],
    ).order_by("id"))
    loans = [a for a in accounts if a.kind == LedgerAccount.Kind.LOAN and a.available < 0]
    if not loans:
        return
    marks = selectors.marks()
    prices = risk_selectors.asset_prices(marks)
    if asset not in prices or any(loan.asset not in prices for loan in loans):
        raise LoansOutstanding("the account has loans that cannot be valued against this "
                               "withdrawal; repay them first")
    owed = sum((-loan.available * prices[loan.asset] for loan in loans), Decimal(0))
    equity_after = (selectors.account_equities(user_ids=[user_id], marks=marks)[user_id]
                    - amount * prices[asset])
    if equity_after < owed:
        raise LoansOutstanding(
            f"the withdrawal would leave equity {format_amount(equity_after)} below the "
            f"outstanding loans of {format_amount(owed)} {settings.OMS_VALUATION_ASSET}")


def withdraw(*, user_id: int, asset: str, amount: Decimal, reference: str) -> list[Balance]:
    """Debit `amount` of available `asset` from the user to the outside world; refuses to
    overdraw (`InsufficientFunds`) and to leave loans backed by less equity than they are
    worth (`LoansOutstanding`). A replay of a posted withdrawal moves nothing and is not
    judged again."""
    if amount <= 0:
        raise ValueError("a withdrawal is a positive amount")
    reference = f"withdrawal:{reference}"
    with transaction.atomic():
        if not LedgerTransaction.objects.filter(reference=reference).exists():
            _check_loans_backed(user_id=user_id, asset=asset, amount=amount)
        _move_external(LedgerTransaction.Kind.WITHDRAWAL, reference,
                       user_id=user_id, asset=asset, amount=-amount)
    return balances_of(user_id=user_id)


def apply_recorded_withdrawal(*, user_id: int, asset: str, amount: Decimal,
                              reference: str) -> None:
    """Post a withdrawal the live ledger already made (the replay): it was judged against
    the loans when it happened, and history is not judged again."""
    _move_external(LedgerTransaction.Kind.WITHDRAWAL, f"withdrawal:{reference}",
                   user_id=user_id, asset=asset, amount=-amount)


def apply_recorded_adjustment(*, user_id: int, asset: str, amount: Decimal,
                              reference: str) -> None:
    """Post an adjustment that was audited when an operator made it (the replay applies
    the live ledger's adjustments again without auditing them twice)."""
    _move_external(LedgerTransaction.Kind.ADJUSTMENT, f"adjustment:{reference}",
                   user_id=user_id, asset=asset, amount=amount)


def adjust_balance(*, actor_id: int | None, user_id: int, asset: str, amount: Decimal,
                   reason: str, reference: str) -> list[Balance]:
    """An operator's correction of a user's available balance (signed `amount`), posted
    against the outside world like a deposit or withdrawal so the ledger stays balanced,
    with its reason; audited and emitted as `risk.override`. Never below zero."""
    if amount == 0:
        raise ValueError("an adjustment moves a non-zero amount")
    if not reason.strip():
        raise ValueError("an adjustment needs a reason")
    with transaction.atomic():
        before = user_account(user_id, asset).available
        if not _move_external(LedgerTransaction.Kind.ADJUSTMENT, f"adjustment:{reference}",
                              user_id=user_id, asset=asset, amount=amount):
            return balances_of(user_id=user_id)
        risk.record_override(
            actor_id=actor_id, action="adjust_balance", subject=f"balance {user_id} {asset}",
            account=str(user_id),
            before={"available": format_amount(before)},
            after={"available": format_amount(user_account(user_id, asset).available),
                   "amount": format_amount(amount), "reason": reason,
                   "reference": reference})
    return balances_of(user_id=user_id)


def order_context(*, user_id: int, terms: OrderTerms) -> risk.OrderContext | Decision:
    """The context of risk's what-if (`apps.risk.services.validate_order`) in the current
    stored state: the funds the order would reserve and those available, its protection
    price, the marks and the account's exposure. Reserves nothing."""
    rules = instrument_rules(symbol=terms.symbol)
    if rules is None:
        return Decision(False, "unknown_symbol", f"{terms.symbol} is not a known instrument")
    price = terms.price
    if terms.type in MARKET_TYPES:
        best_bid, best_ask = selectors.best_prices(symbol=terms.symbol)
        reference = terms.stop_price or (best_ask if terms.side == Side.BUY else best_bid)
        price = None if reference is None else funds.protection_price(
            side=terms.side, reference=reference,
            slippage=Decimal(str(settings.OMS_MARKET_SLIPPAGE)), tick=rules.tick_size)
    asset = rules.quote_asset if terms.side == Side.BUY else rules.base_asset
    required = funds.reservation_for(side=terms.side, remaining=terms.quantity,
                                     reserve_price=price, maker_rate=rules.maker_fee_rate,
                                     taker_rate=rules.taker_fee_rate)
    marks = selectors.marks()
    return risk.OrderContext(risk.PreTradeContext(
        user_id=user_id, symbol=terms.symbol, side=terms.side, quantity=terms.quantity,
        price=price, is_limit=terms.type in LIMIT_TYPES, trading=rules.trading,
        required_asset=asset, required_amount=required,
        available_amount=user_account(user_id, asset).available,
        reference_price=marks.get(terms.symbol), marks=marks,
    ), selectors.account_exposures(user_ids=[user_id])[user_id])


def headroom(*, user_id: int, symbol: str, price: Decimal | None,
             now: datetime) -> risk.HeadroomView:
    """How much more the account may buy and sell in `symbol` now, per risk rule (risk's
    `headroom`), with what processing owns: the account's available balances, its working
    orders and loans, the venue's last trades and the reservation a buy needs (the
    processor's own `funds.reservation_for`). `risk.UnknownSymbol`, `risk.NoPrice`."""
    rules = instrument_rules(symbol=symbol)
    if rules is None:
        raise risk.UnknownSymbol(f"{symbol} is not a known instrument")

    def buy_reservation(quantity: Decimal, at: Decimal) -> Decimal:
        return funds.reservation_for(side=Side.BUY, remaining=quantity, reserve_price=at,
                                     maker_rate=rules.maker_fee_rate,
                                     taker_rate=rules.taker_fee_rate)

    return risk.headroom(
        user_id=user_id, symbol=symbol, price=price, now=now,
        exposure=selectors.account_exposures(user_ids=[user_id])[user_id],
        available={b.asset: b.available for b in balances_of(user_id=user_id)},
        last_trades=selectors.marks(), buy_reservation=buy_reservation)


def _execute_adjustment(params: dict[str, Any], actor_id: int | None) -> None:
    """An approved adjustment request (four eyes), applied by its approver."""
    adjust_balance(actor_id=actor_id, user_id=int(params["user_id"]), asset=params["asset"],
                   amount=Decimal(params["amount"]), reason=params["reason"],
                   reference=params["reference"])


def register_executors() -> None:
    """Let risk's four-eyes requests execute ledger adjustments once approved."""
    risk.register_executor("adjust_balance", _execute_adjustment)


def request_adjustment(*, actor_id: int, user_id: int, asset: str, amount: Decimal,
                       reason: str, reference: str, now: datetime) -> risk.OverrideView:
    """Ask for a manual ledger adjustment; a second operator approves it in the admin (the
    requester never can), and only then is it posted (`adjust_balance`). An adjustment
    that would overdraw the available balance now is refused at once."""
    if amount == 0:
        raise ValueError("an adjustment moves a non-zero amount")
    if not reason.strip():
        raise ValueError("an adjustment needs a reason")
    available = next((b.available for b in balances_of(user_id=user_id) if b.asset == asset),
                     Decimal(0))
    if available + amount < 0:
        raise ValueError(f"insufficient funds: {format_amount(available)} {asset} available")
    return risk.request_override(
        actor_id=actor_id, action="adjust_balance", reason=reason, expires_at=None, now=now,
        params={"user_id": user_id, "asset": asset, "amount": format_amount(amount),
                "reason": reason, "reference": reference})
