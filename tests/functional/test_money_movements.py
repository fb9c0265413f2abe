"""Money in and out through the operators' API: a reference applies once, and reused with
other terms (another user, asset or amount) is 409 `reference_conflict`, not a silent
no-op; a withdrawal may not take an account's equity below its outstanding loans (409
`loans_outstanding`). A refusal moves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis
from django.db import transaction
from rest_framework.test import APIClient

from apps.processing import selectors
from apps.processing.batch_ledger import BatchLedger
from apps.processing.models import LedgerTransaction
from apps.processing.settlement import borrow
from oms.auth.roles import Role
from tests.functional.accounts.conftest import client_for, reset_caches

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_caches(redis_client: redis.Redis) -> Iterator[None]:
    reset_caches(redis_client)
    yield
    reset_caches(redis_client)


@pytest.fixture
def ops() -> APIClient:
    return client_for("operator", Role.OPS)


@pytest.fixture
def alice() -> Any:
    return client_for("alice", Role.TRADER).user  # type: ignore[attr-defined]


def move(ops: APIClient, kind: str, amount: str, reference: str, *, user: str = "alice",
         asset: str = "USDT") -> Any:
    return ops.post(f"/api/ledger/{kind}", {"user": user, "asset": asset, "amount": amount,
                                            "reference": reference}, format="json")


def usdt(user_id: int) -> Decimal:
    return next((b.available for b in selectors.balances_of(user_id=user_id)
                 if b.asset == "USDT"), Decimal(0))


@pytest.mark.parametrize("kind", ["deposits", "withdrawals"])
def test_a_reference_reused_with_other_terms_is_409(ops: APIClient, alice: Any,
                                                    kind: str) -> None:
    client_for("bob", Role.TRADER)
    assert move(ops, "deposits", "1000", "funding").status_code == 201
    assert move(ops, kind, "100", "r-1").status_code == 201
    before = usdt(alice.pk)
    assert move(ops, kind, "100", "r-1").status_code == 201  # the same terms: idempotent
    for terms in ({"amount": "100.5"}, {"user": "bob"}, {"asset": "BTC"}):
        response = move(ops, kind, **{"amount": "100", "reference": "r-1", **terms})
        assert response.status_code == 409, terms
        [error] = response.json()["errors"]
        assert (error["field"], error["code"]) == ("reference", "reference_conflict")
    assert usdt(alice.pk) == before
    assert LedgerTransaction.objects.filter(reference__endswith=":r-1").count() == 1


def test_a_withdrawal_may_not_take_equity_below_the_loans(ops: APIClient, alice: Any) -> None:
    assert move(ops, "deposits", "10000", "funding").status_code == 201
    with transaction.atomic():  # as the processor lends: in a batch, written at its end
        ledger = BatchLedger.locked_for([alice.pk])
        borrow(ledger, user_id=alice.pk, asset="USDT", amount=Decimal("3000"),
               reference="loan-1")
        ledger.flush(datetime.now(UTC))
    # 13,000 USDT held, 3,000 owed: equity 10,000 may fall to 3,000, no further.
    refused = move(ops, "withdrawals", "7000.01", "too-much")
    assert refused.status_code == 409
    [error] = refused.json()["errors"]
    assert (error["field"], error["code"]) == ("amount", "loans_outstanding")
    assert usdt(alice.pk) == Decimal("13000")
    assert not LedgerTransaction.objects.filter(reference="withdrawal:too-much").exists()
    assert move(ops, "withdrawals", "7000", "within").status_code == 201
    assert usdt(alice.pk) == Decimal("6000")


def test_without_loans_everything_available_may_leave(ops: APIClient, alice: Any) -> None:
    assert move(ops, "deposits", "500", "funding").status_code == 201
    assert move(ops, "withdrawals", "500", "all").status_code == 201
    response = move(ops, "withdrawals", "0.01", "more")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (
        409, "insufficient_funds")
