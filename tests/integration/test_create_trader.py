"""`manage.py create_trader`: creates or updates a user with a role, funds it through the
ledger, and prints its token alone on the last line."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from apps.processing import selectors
from oms.auth.roles import is_ops

pytestmark = pytest.mark.django_db


def create_trader(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_trader", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_prints_the_token_last_and_funds_through_the_ledger() -> None:
    lines = create_trader("dana", "--fund", "USDT=1500.25", "--fund", "btc=0.001")
    user = get_user_model().objects.get(username="dana")
    assert lines[-1] == Token.objects.get(user=user).key
    balances = {b.asset: b.available for b in selectors.balances_of(user_id=user.pk)}
    assert balances == {"USDT": Decimal("1500.25"), "BTC": Decimal("0.001")}
    assert not is_ops(user)


def test_running_again_updates_the_role_and_keeps_the_token() -> None:
    first = create_trader("erin")
    second = create_trader("erin", "--role", "ops")
    assert first[-1] == second[-1]
    assert is_ops(get_user_model().objects.get(username="erin"))


def test_same_funding_reference_deposits_once() -> None:
    create_trader("fay", "--fund", "ETH=2", "--funding-reference", "wire-77")
    create_trader("fay", "--fund", "ETH=2", "--funding-reference", "wire-77")
    user = get_user_model().objects.get(username="fay")
    assert [b.available for b in selectors.balances_of(user_id=user.pk)] == [Decimal("2")]


@pytest.mark.parametrize("bad", ["USDT", "USDT=abc", "USDT=-5", "USDT=0", "=5"])
def test_bad_funding_is_refused_and_creates_nothing(bad: str) -> None:
    with pytest.raises(CommandError):
        create_trader("gus", "--fund", bad)
    assert not get_user_model().objects.filter(username="gus").exists()
