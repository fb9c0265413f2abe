"""The processor keeps the risk configuration (limits, kill switches, leverage, margin
rates) in memory and reads it again only when its version says it changed (#16: "limits
and kill switches, refreshed when they change"). Every statement that changes it writes a
new version in its own transaction, so no change is missed: not a kill switch engaged
between two batches, nor a second change in the same transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.risk.batch import risk_configuration
from apps.risk.models import KillSwitch, MarginAccount, RiskLimit
from tests.integration.conftest import trader

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unchanged_configuration_costs_one_look_up() -> None:
    first = risk_configuration()
    with CaptureQueriesContext(connection) as queries:
        again = risk_configuration()
    assert again is first
    assert len(queries) == 1


def test_a_kill_switch_engaged_between_two_reads_is_seen() -> None:
    before = risk_configuration()
    assert before.switches == []
    KillSwitch.objects.create(symbol="BTC-USDT", reason="test")
    assert risk_configuration().switches == [(None, "BTC-USDT")]
    KillSwitch.objects.filter(symbol="BTC-USDT").update(engaged=False)
    assert risk_configuration().switches == []


def test_every_change_in_one_transaction_is_seen_by_a_reader_in_it() -> None:
    user = trader("limited")
    with transaction.atomic():
        RiskLimit.objects.create(user_id=user, max_open_orders=5)
        assert [row.max_open_orders for row in risk_configuration().limit_rows([user])
                if row.user_id == user] == [5]
        RiskLimit.objects.filter(user_id=user).update(max_open_orders=6)
        MarginAccount.objects.create(user_id=user, leverage=Decimal(3))
        seen = risk_configuration()
        assert [row.max_open_orders for row in seen.limit_rows([user])
                if row.user_id == user] == [6]
        assert seen.leverage[user] == Decimal(3)
    assert risk_configuration() is seen  # committed as it was last read
