"""Leverage through the processor and the ledger: a leveraged account borrows the shortfall
within equity x leverage and repays from what comes back, a spot account never borrows,
the maintenance task flags an account whose equity fell below its margin, and operators'
balance adjustments are posted, balanced and audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.orders.models import Order
from apps.processing import services as processing
from apps.processing.ledger import InsufficientFunds
from apps.processing.models import LedgerAccount
from apps.processing.reconciliation import reconcile
from apps.processing.tasks import check_margin
from apps.risk import services
from apps.risk.models import RiskAudit
from tests.integration.conftest import Harness, place, risk_events_about, trader

pytestmark = pytest.mark.django_db(transaction=True)

LEDGER_CHECKS = ["conservation", "balanced", "trades", "reservations", "books"]


def status(order_id: str) -> tuple[str, str]:
    order = Order.objects.get(id=order_id)
    return order.status, order.reason_code


def usdt(user_id: int, kind: str = LedgerAccount.Kind.USER) -> tuple[Decimal, Decimal]:
    account = LedgerAccount.objects.filter(kind=kind, user_id=user_id, asset="USDT").first()
    return (account.available, account.reserved) if account else (Decimal(0), Decimal(0))


def assert_ledger_reconciles() -> None:
    assert reconcile(LEDGER_CHECKS) == {name: [] for name in LEDGER_CHECKS}


def test_leveraged_account_borrows_within_buying_power_and_repays(harness: Harness) -> None:
    leveraged = trader("lev", USDT="1000")
    spot = trader("spot", USDT="1000")
    seller = trader("seller", BTC="1")
    buyer = trader("buyer", USDT="100000")
    services.set_leverage(actor_id=None, user_id=leveraged, leverage=Decimal("3"))
    # 2500 of exposure on 1000 of equity at 3x: within 3000; it borrows 1505 (2505 with fees).
    borrowed = place(leveraged, "buy", "0.05", "50000.00")
    refused = place(spot, "buy", "0.05", "50000.00")
    beyond = place(leveraged, "buy", "0.02", "50000.00")  # 3500 > 3000
    harness.drain(expect=3)
    assert status(borrowed) == ("ACCEPTED", "")
    assert status(refused) == ("REJECTED", "insufficient_funds")
    assert status(beyond) == ("REJECTED", "insufficient_funds")
    assert usdt(leveraged) == (Decimal(0), Decimal("2505"))
    assert usdt(leveraged, LedgerAccount.Kind.LOAN) == (Decimal("-1505"), Decimal(0))
    assert_ledger_reconciles()

    place(seller, "sell", "0.05", "50000.00")  # fills it: the fee surplus repays 2.50
    harness.drain(expect=1)
    assert usdt(leveraged, LedgerAccount.Kind.LOAN) == (Decimal("-1502.5"), Decimal(0))
    place(buyer, "buy", "0.05", "50000.00")
    place(leveraged, "sell", "0.05", "50000.00")  # the proceeds pay the loan off
    harness.drain(expect=2)
    assert usdt(leveraged, LedgerAccount.Kind.LOAN) == (Decimal(0), Decimal(0))
    assert usdt(leveraged) == (Decimal("2500") - Decimal("5") - Decimal("1502.5"), Decimal(0))
    assert_ledger_reconciles()
    assert RiskAudit.objects.filter(action="set_leverage").count() == 1
    assert sum(b"set_leverage" in body for body in risk_events_about(str(leveraged))) == 1


def test_maintenance_margin_breach_is_flagged_once(harness: Harness) -> None:
    leveraged = trader("margined", USDT="1000")
    seller = trader("seller", BTC="1")
    services.set_leverage(actor_id=None, user_id=leveraged, leverage=Decimal("3"))
    place(leveraged, "buy", "0.05", "50000.00")
    place(seller, "sell", "0.05", "50000.00")
    harness.drain(expect=2)
    # Equity 0.05 x 50000 - 1502.5 = 997.5 against a maintenance margin of 125.
    assert check_margin() == 0
    place(seller, "sell", "0.001", "21000.00")
    place(trader("other", USDT="1000"), "buy", "0.001", "21000.00")
    harness.drain(expect=2)
    # Equity 0.05 x 21000 - 1502.5 < 0 < 52.5.
    assert check_margin() == 1
    assert check_margin() == 0  # one flag per episode
    breach = RiskAudit.objects.get(action="breach")
    assert breach.after["check"] == "maintenance_margin"


def test_balance_adjustment_is_posted_balanced_and_audited(btc: None) -> None:
    user = trader("adjusted", USDT="100")
    processing.adjust_balance(actor_id=None, user_id=user, asset="USDT",
                              amount=Decimal("-40.5"), reason="fee refund reversal",
                              reference="ticket-1")
    processing.adjust_balance(actor_id=None, user_id=user, asset="USDT",
                              amount=Decimal("-40.5"), reason="fee refund reversal",
                              reference="ticket-1")  # the same reference applies once
    assert usdt(user) == (Decimal("59.5"), Decimal(0))
    with pytest.raises(InsufficientFunds):
        processing.adjust_balance(actor_id=None, user_id=user, asset="USDT",
                                  amount=Decimal("-60"), reason="too much", reference="t-2")
    with pytest.raises(ValueError, match="reason"):
        processing.adjust_balance(actor_id=None, user_id=user, asset="USDT",
                                  amount=Decimal("1"), reason=" ", reference="t-3")
    assert usdt(user) == (Decimal("59.5"), Decimal(0))
    audit = RiskAudit.objects.get(action="adjust_balance")
    assert audit.after["reason"] == "fee refund reversal"
    assert (audit.before["available"], audit.after["available"]) == ("100", "59.5")
    assert sum(b"risk.override" in body for body in risk_events_about(str(user))) == 1
    assert_ledger_reconciles()


def test_risk_role_keeps_the_position_key_current_from_executions(harness: Harness) -> None:
    import json

    from apps.processing.models import OutboxEvent
    from apps.risk.consumers import filled_positions
    from apps.risk.models import Position
    from oms.events import Event
    from oms.kafka.consumer import Batch, ConsumedEvent
    from oms.money import format_amount
    from oms.redis import redis_client

    buyer, seller = trader("pbuyer", USDT="100000"), trader("pseller", BTC="1")
    place(seller, "sell", "0.3", "50000.00")
    place(buyer, "buy", "0.2", "50000.00")
    harness.drain(expect=2)
    emitted = Batch(events=[
        ConsumedEvent(topic=row.topic, partition=0, offset=row.id, key=row.key,
                      event=Event.from_json(bytes(row.body)))
        for row in OutboxEvent.objects.order_by("id")])
    pairs = filled_positions(emitted)
    assert pairs == {(buyer, "BTC-USDT"), (seller, "BTC-USDT")}
    for _ in range(2):  # a redelivered batch leaves the same value
        services.cache_positions(pairs)
    for user_id, quantity in ((buyer, "0.2"), (seller, "-0.2")):
        key = f"position:{user_id}:BTC-USDT"
        cached = json.loads(redis_client().get(key) or b"{}")
        assert cached["quantity"] == quantity
        stored = Position.objects.get(user_id=user_id, symbol="BTC-USDT")
        assert cached["average_entry_price"] == format_amount(stored.average_entry_price)
        assert 0 < redis_client().ttl(key) <= services.POSITION_CACHE_SECONDS
