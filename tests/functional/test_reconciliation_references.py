"""Reconciliation's `references` check, on the real database. The database no longer
checks that a posting's transaction and account, or a fill's order, exist (a third of
PostgreSQL's time per batch): the check does, and names each orphan it finds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from apps.orders.models import Fill
from apps.processing import services as processing
from apps.processing.models import LedgerAccount, LedgerPosting
from apps.processing.reconciliation import references

pytestmark = pytest.mark.django_db


@pytest.fixture
def account() -> LedgerAccount:
    user = get_user_model().objects.create(username=f"t-{uuid.uuid4().hex[:6]}")
    processing.deposit(user_id=user.pk, asset="USDT", amount=Decimal("100"), reference="r1")
    return LedgerAccount.objects.get(user=user, asset="USDT", kind="user")


def test_a_ledger_written_by_the_services_has_every_reference(account: LedgerAccount) -> None:
    assert LedgerPosting.objects.filter(account=account).exists()
    assert references() == []
    call_command("reconcile", check=["references"])


def test_each_orphan_is_named(account: LedgerAccount) -> None:
    transaction = LedgerPosting.objects.filter(account=account).first().transaction
    missing_account, missing_transaction, missing_order = 10**12, uuid.uuid4(), uuid.uuid4()
    no_account = LedgerPosting.objects.create(transaction=transaction,
                                              account_id=missing_account,
                                              bucket="available", amount=Decimal("1"))
    no_transaction = LedgerPosting.objects.create(transaction_id=missing_transaction,
                                                  account=account, bucket="available",
                                                  amount=Decimal("-1"))
    fill = Fill.objects.create(id=uuid.uuid4(), order_id=missing_order, trade_id=uuid.uuid4(),
                               price=Decimal("1"), quantity=Decimal("1"), fee=Decimal("0"),
                               fee_asset="USDT", liquidity="maker",
                               created_at=datetime.now(UTC))

    found = {(finding.subject, finding.expected) for finding in references()}

    assert found == {
        (f"posting {no_account.pk} account", f"account {missing_account}"),
        (f"posting {no_transaction.pk} transaction", f"transaction {missing_transaction}"),
        (f"fill {fill.pk} order", f"order {missing_order}"),
    }
    with pytest.raises(CommandError):
        call_command("reconcile", check=["references"])
