"""Velocity counters are shared by every processor: two processes deciding orders of one
account at the same time admit exactly the limit between them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from apps.risk import services
from oms.redis import redis_client
from oms.terms import Side
from tests.integration.conftest import trader

pytestmark = pytest.mark.django_db(transaction=True)

DECIDE = """
import sys, uuid
from datetime import UTC, datetime
from decimal import Decimal
import django
django.setup()
from apps.risk import services
user_id, now = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
accepted = 0
for _ in range(10):
    decision = services.pre_trade_decision(services.PreTradeContext(
        user_id=user_id, symbol="BTC-USDT", side="buy", quantity=Decimal("0.01"),
        price=Decimal("50000"), is_limit=True, trading=True, required_asset="USDT",
        required_amount=Decimal(0), available_amount=Decimal(1)),
        order_id=str(uuid.uuid4()), now=now)
    accepted += decision.accepted
print(accepted)
"""


def test_two_processes_share_one_velocity_counter(btc: None) -> None:
    user = trader("fast", USDT="1000000")
    services.set_limits(actor_id=None, user_id=user, symbol="",
                        values={"max_orders_per_minute": 7})
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    now = "2026-05-01T12:00:30+00:00"
    workers = [subprocess.Popen([sys.executable, "-c", DECIDE, str(user), now], env=env,
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    accepted = [int(worker.communicate(timeout=120)[0].strip().splitlines()[-1])
                for worker in workers]
    assert sum(accepted) == 7


def test_velocity_counts_hold_when_redis_forgot_its_scripts(btc: None) -> None:
    """Batches send their scripts by SHA alone (no `SCRIPT EXISTS` round trip): a Redis
    that lost them (restarted, flushed) answers NOSCRIPT, and the batch loads them and
    counts as before, its refused orders' slots given back, nothing counted twice."""
    user = trader("forgetful", USDT="1000000")
    services.set_limits(actor_id=None, user_id=user, symbol="",
                        values={"max_orders_per_minute": 3})
    now = datetime(2026, 5, 1, 12, 0, 30, tzinfo=UTC)
    decided = []
    for n in range(5):
        redis_client().script_flush()
        decided.append(services.pre_trade_decision(services.PreTradeContext(
            user_id=user, symbol="BTC-USDT", side=Side.BUY, quantity=Decimal("0.01"),
            price=Decimal("50000"), is_limit=True, trading=True, required_asset="USDT",
            required_amount=Decimal(0), available_amount=Decimal(1)),
            order_id=f"order-{n}", now=now).accepted)
    assert decided == [True, True, True, False, False]
